package apiserver

import (
	"fmt"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/capstan-dev/capstan/apiserver/bootstrap"
	"github.com/capstan-dev/capstan/registry"
	"github.com/capstan-dev/capstan/registry/core/serviceaccount"
)

// newBuiltin builds the link of the chain that serves Kubernetes' built-in API.
func newBuiltin(sc *sharedConfig, o *Options, delegate genericapiserver.DelegationTarget) (*genericapiserver.GenericAPIServer, error) {
	c := *sc.generic
	c.PostStartHooks = map[string]genericapiserver.PostStartHookConfigEntry{}
	s, err := c.Complete().New("capstan-apiserver", delegate)
	if err != nil {
		return nil, err
	}
	cidrs, err := ParseServiceCIDRs(o.ServiceClusterIPRange)
	if err != nil {
		return nil, err
	}
	ports, err := utilnet.ParsePortRange(o.ServiceNodePortRange)
	if err != nil {
		return nil, err
	}
	legacy, groups, err := registry.APIGroups(registry.Config{
		RESTOptions:   c.RESTOptionsGetter,
		ServiceCIDRs:  cidrs,
		NodePortRange: *ports,
		NodeTransport: sc.nodeTransport,
		ServiceAccountIssuer: serviceaccount.Issuer{
			URL: o.ServiceAccountIssuer, Audiences: []string{o.ServiceAccountIssuer}, Key: sc.saKey,
		},
		EtcdServers: sc.etcdServers,
	})
	if err != nil {
		return nil, err
	}
	if err := s.InstallLegacyAPIGroup(genericapiserver.DefaultLegacyAPIPrefix, legacy); err != nil {
		return nil, fmt.Errorf("installing /api: %w", err)
	}
	if err := s.InstallAPIGroups(groups...); err != nil {
		return nil, fmt.Errorf("installing /apis: %w", err)
	}
	boot := bootstrap.Config{
		ServiceCIDRs:     cidrs,
		AdvertiseAddress: o.AdvertiseAddress,
		SecurePort:       o.SecurePort,
	}
	if err := s.AddPostStartHook("capstan-bootstrap", func(ctx genericapiserver.PostStartHookContext) error {
		return bootstrap.Run(ctx, ctx.LoopbackClientConfig, boot)
	}); err != nil {
		return nil, err
	}
	if err := s.AddPostStartHook("start-informers", func(ctx genericapiserver.PostStartHookContext) error {
		sc.informers.Start(ctx.Done())
		return nil
	}); err != nil {
		return nil, err
	}
	return s, nil
}
