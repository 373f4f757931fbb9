package registry

import (
	"fmt"
	"net"
	"net/http"

	"k8s.io/apimachinery/pkg/runtime/schema"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/capstan-dev/capstan/registry/core/serviceaccount"
	"github.com/capstan-dev/capstan/registry/scheme"
	"github.com/capstan-dev/capstan/registry/store"
)

// Config is what storage construction needs beyond REST options.
type Config struct {
	RESTOptions   generic.RESTOptionsGetter
	ServiceCIDRs  []*net.IPNet
	NodePortRange utilnet.PortRange
	// NodeTransport reaches node agents, authenticated as the apiserver.
	NodeTransport http.RoundTripper
	// ServiceAccountIssuer signs TokenRequests.
	ServiceAccountIssuer serviceaccount.Issuer
	// EtcdServers are probed for componentstatuses.
	EtcdServers []string
}

// versionStorage maps resource paths ("pods", "pods/status") to their storage in one version.
type versionStorage map[string]rest.Storage

// builder collects the storage of every group while reporting the first error.
type builder struct {
	cfg    Config
	err    error
	groups map[string]map[string]versionStorage // group -> version -> storage
	// stores holds the one storage of each resource, so that resources that
	// use another one's storage (services allocate IPAddresses, eviction
	// reads PodDisruptionBudgets) share its watch cache.
	stores map[schema.GroupResource]*store.Storage
}

func (b *builder) add(gv schema.GroupVersion, path string, s rest.Storage) {
	if b.groups[gv.Group] == nil {
		b.groups[gv.Group] = map[string]versionStorage{}
	}
	if b.groups[gv.Group][gv.Version] == nil {
		b.groups[gv.Group][gv.Version] = versionStorage{}
	}
	b.groups[gv.Group][gv.Version][path] = s
}

func (b *builder) fail(err error) {
	if b.err == nil && err != nil {
		b.err = err
	}
}

// APIGroups builds the storage of every built-in group. The first result is
// the legacy core group served under /api.
func APIGroups(cfg Config) (*genericapiserver.APIGroupInfo, []*genericapiserver.APIGroupInfo, error) {
	b := &builder{cfg: cfg, groups: map[string]map[string]versionStorage{}, stores: map[schema.GroupResource]*store.Storage{}}
	for _, install := range installers {
		install(b)
		if b.err != nil {
			return nil, nil, b.err
		}
	}
	var legacy *genericapiserver.APIGroupInfo
	var out []*genericapiserver.APIGroupInfo
	for _, gv := range scheme.Scheme.PrioritizedVersionsAllGroups() {
		versions, ok := b.groups[gv.Group]
		if !ok {
			continue
		}
		delete(b.groups, gv.Group)
		info := genericapiserver.NewDefaultAPIGroupInfo(gv.Group, scheme.Scheme, scheme.ParameterCodec, scheme.Codecs)
		info.PrioritizedVersions = nil
		for _, v := range scheme.Scheme.PrioritizedVersionsForGroup(gv.Group) {
			if s, ok := versions[v.Version]; ok {
				info.VersionedResourcesStorageMap[v.Version] = s
				info.PrioritizedVersions = append(info.PrioritizedVersions, v)
			}
		}
		if gv.Group == "" {
			legacy = &info
			continue
		}
		out = append(out, &info)
	}
	if len(b.groups) > 0 {
		return nil, nil, fmt.Errorf("storage for groups missing from the scheme: %v", b.groups)
	}
	return legacy, out, nil
}
