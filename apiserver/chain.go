package apiserver

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsv1beta1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
	apiextensionsapiserver "k8s.io/apiextensions-apiserver/pkg/apiserver"
	apiextensionsoptions "k8s.io/apiextensions-apiserver/pkg/cmd/server/options"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	genericapifilters "k8s.io/apiserver/pkg/endpoints/filters"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/healthz"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/util/notfoundhandler"
	"k8s.io/apiserver/pkg/util/webhook"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	apiregistrationv1beta1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1beta1"
	aggregatorapiserver "k8s.io/kube-aggregator/pkg/apiserver"
	aggregatorscheme "k8s.io/kube-aggregator/pkg/apiserver/scheme"
	apiregistrationclient "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset/typed/apiregistration/v1"
	"k8s.io/kube-aggregator/pkg/controllers/autoregister"

	"github.com/capstan-dev/capstan/registry/scheme"
)

// priority orders a group-version in discovery, as upstream's APIService priorities do.
type priority struct{ group, version int32 }

// priorities are upstream's APIService priorities for the built-in group-versions.
var priorities = map[schema.GroupVersion]priority{
	{Group: "", Version: "v1"}:                             {18000, 1},
	{Group: "apps", Version: "v1"}:                         {17800, 15},
	{Group: "events.k8s.io", Version: "v1"}:                {17750, 15},
	{Group: "authentication.k8s.io", Version: "v1"}:        {17700, 15},
	{Group: "authorization.k8s.io", Version: "v1"}:         {17600, 15},
	{Group: "autoscaling", Version: "v2"}:                  {17500, 30},
	{Group: "autoscaling", Version: "v1"}:                  {17500, 15},
	{Group: "batch", Version: "v1"}:                        {17400, 15},
	{Group: "certificates.k8s.io", Version: "v1"}:          {17300, 15},
	{Group: "networking.k8s.io", Version: "v1"}:            {17200, 15},
	{Group: "policy", Version: "v1"}:                       {17100, 15},
	{Group: "rbac.authorization.k8s.io", Version: "v1"}:    {17000, 15},
	{Group: "storage.k8s.io", Version: "v1"}:               {16800, 15},
	{Group: "admissionregistration.k8s.io", Version: "v1"}: {16700, 15},
	{Group: "apiextensions.k8s.io", Version: "v1"}:         {16700, 15},
	{Group: "scheduling.k8s.io", Version: "v1"}:            {16600, 15},
	{Group: "coordination.k8s.io", Version: "v1"}:          {16500, 15},
	{Group: "node.k8s.io", Version: "v1"}:                  {16300, 15},
	{Group: "discovery.k8s.io", Version: "v1"}:             {16200, 15},
	{Group: "resource.k8s.io", Version: "v1"}:              {16150, 15},
	{Group: "flowcontrol.apiserver.k8s.io", Version: "v1"}: {16100, 21},
	{Group: "storagemigration.k8s.io", Version: "v1"}:      {15800, 15},
}

// chain is the assembled server: the aggregator in front, the built-in API
// in the middle and apiextensions-apiserver at the end.
type chain struct {
	aggregator *aggregatorapiserver.APIAggregator
	builtin    *genericapiserver.GenericAPIServer
}

func newChain(sc *sharedConfig, o *Options) (*chain, error) {
	notFound := notfoundhandler.New(scheme.Codecs, genericapifilters.NoMuxAndDiscoveryIncompleteKey)
	extensions, err := newAPIExtensions(sc)
	if err != nil {
		return nil, fmt.Errorf("apiextensions-apiserver: %w", err)
	}
	ext, err := extensions.Complete().New(genericapiserver.NewEmptyDelegateWithCustomHandler(notFound))
	if err != nil {
		return nil, fmt.Errorf("apiextensions-apiserver: %w", err)
	}
	builtin, err := newBuiltin(sc, o, ext.GenericAPIServer)
	if err != nil {
		return nil, fmt.Errorf("built-in API: %w", err)
	}
	agg, err := newAggregator(sc, builtin, ext)
	if err != nil {
		return nil, fmt.Errorf("kube-aggregator: %w", err)
	}
	return &chain{aggregator: agg, builtin: builtin}, nil
}

// derive copies the shared generic config for one link of the chain, with
// storage re-encoded by codec. Post-start hooks belong to the link that adds them.
func derive(sc *sharedConfig, codec runtime.Codec, versioner runtime.GroupVersioner) (genericapiserver.RecommendedConfig, genericoptions.EtcdOptions, error) {
	c := *sc.generic
	c.PostStartHooks = map[string]genericapiserver.PostStartHookConfigEntry{}
	c.RESTOptionsGetter = nil
	etcd := *sc.etcd
	etcd.StorageConfig.Codec = codec
	etcd.StorageConfig.EncodeVersioner = versioner
	etcd.SkipHealthEndpoints = true // the built-in API already checks etcd
	if err := etcd.ApplyTo(&c.Config); err != nil {
		return c, etcd, err
	}
	return c, etcd, nil
}

func newAPIExtensions(sc *sharedConfig) (*apiextensionsapiserver.Config, error) {
	c, etcd, err := derive(sc,
		apiextensionsapiserver.Codecs.LegacyCodec(apiextensionsv1beta1.SchemeGroupVersion, apiextensionsv1.SchemeGroupVersion),
		runtime.NewMultiGroupVersioner(apiextensionsv1beta1.SchemeGroupVersion, schema.GroupKind{Group: apiextensionsv1beta1.GroupName}))
	if err != nil {
		return nil, err
	}
	c.MergedResourceConfig = apiextensionsapiserver.DefaultAPIResourceConfigSource()
	return &apiextensionsapiserver.Config{
		GenericConfig: &c,
		ExtraConfig: apiextensionsapiserver.ExtraConfig{
			CRDRESTOptionsGetter: apiextensionsoptions.NewCRDRESTOptionsGetter(etcd, c.ResourceTransformers, c.StorageObjectCountTracker),
			MasterCount:          1,
			ServiceResolver:      aggregatorapiserver.NewClusterIPServiceResolver(sc.informers.Core().V1().Services().Lister()),
			AuthResolverWrapper:  webhook.NewDefaultAuthenticationInfoResolverWrapper(nil, c.EgressSelector, c.LoopbackClientConfig, c.TracerProvider),
		},
	}, nil
}

func newAggregator(sc *sharedConfig, builtin *genericapiserver.GenericAPIServer, ext *apiextensionsapiserver.CustomResourceDefinitions) (*aggregatorapiserver.APIAggregator, error) {
	c, _, err := derive(sc,
		aggregatorscheme.Codecs.LegacyCodec(apiregistrationv1.SchemeGroupVersion, apiregistrationv1beta1.SchemeGroupVersion),
		runtime.NewMultiGroupVersioner(apiregistrationv1.SchemeGroupVersion, schema.GroupKind{Group: apiregistrationv1beta1.GroupName}))
	if err != nil {
		return nil, err
	}
	// The aggregator serves the merged OpenAPI of every delegate itself.
	c.SkipOpenAPIInstallation = true
	c.MergedResourceConfig = aggregatorapiserver.DefaultAPIResourceConfigSource()
	loopback, err := url.Parse(c.LoopbackClientConfig.Host)
	if err != nil {
		return nil, err
	}
	cfg := &aggregatorapiserver.Config{
		GenericConfig: &c,
		ExtraConfig: aggregatorapiserver.ExtraConfig{
			ProxyClientCertFile: sc.proxyClient.Cert,
			ProxyClientKeyFile:  sc.proxyClient.Key,
			ServiceResolver: aggregatorapiserver.NewLoopbackServiceResolver(
				aggregatorapiserver.NewClusterIPServiceResolver(sc.informers.Core().V1().Services().Lister()), loopback),
			RejectForwardingRedirects: true,
		},
	}
	agg, err := cfg.Complete().NewWithDelegate(builtin)
	if err != nil {
		return nil, err
	}

	client, err := apiregistrationclient.NewForConfig(c.LoopbackClientConfig)
	if err != nil {
		return nil, err
	}
	autoRegister := autoregister.NewAutoRegisterController(agg.APIRegistrationInformers.Apiregistration().V1().APIServices(), client)
	local := localAPIServices(builtin, autoRegister)
	crds := newCRDRegistration(ext.Informers.Apiextensions().V1().CustomResourceDefinitions(), autoRegister)
	if m := c.AggregatedDiscoveryGroupManager; m != nil {
		for gv, p := range priorities {
			m.SetGroupVersionPriority(metav1.GroupVersion(gv), int(p.group), int(p.version))
		}
	}
	if err := agg.GenericAPIServer.AddPostStartHook("kube-apiserver-autoregistration", func(ctx genericapiserver.PostStartHookContext) error {
		go crds.Run(ctx, 2)
		go func() {
			// Registering before the CRDs are known would delete their APIServices.
			if crds.WaitForInitialSync(ctx) {
				autoRegister.Run(2, ctx.Done())
			}
		}()
		return nil
	}); err != nil {
		return nil, err
	}
	if err := agg.GenericAPIServer.AddBootSequenceHealthChecks(apiServicesAvailable(agg, local)); err != nil {
		return nil, err
	}
	return agg, nil
}

// apiServiceRegistrar is what the autoregister controller offers.
type apiServiceRegistrar interface {
	AddAPIServiceToSyncOnStart(*apiregistrationv1.APIService)
	AddAPIServiceToSync(*apiregistrationv1.APIService)
	RemoveAPIServiceToSync(name string)
}

// localAPIServices registers a local APIService for every group-version the
// built-in API and the apiextensions-apiserver behind it serve, and returns their names.
func localAPIServices(delegate *genericapiserver.GenericAPIServer, r apiServiceRegistrar) []string {
	var names []string
	for _, gv := range groupVersionsOf(delegate.ListedPaths()) {
		svc := apiServiceFor(gv)
		r.AddAPIServiceToSyncOnStart(svc)
		names = append(names, svc.Name)
	}
	return names
}

// apiServicesAvailable is ready once every local APIService exists and is Available.
func apiServicesAvailable(agg *aggregatorapiserver.APIAggregator, names []string) healthz.HealthChecker {
	lister := agg.APIRegistrationInformers.Apiregistration().V1().APIServices().Lister()
	return healthz.NamedCheck("autoregister-completion", func(*http.Request) error {
		var missing []string
		for _, name := range names {
			svc, err := lister.Get(name)
			if err != nil || !available(svc) {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("missing APIService: %v", missing)
		}
		return nil
	})
}

func available(svc *apiregistrationv1.APIService) bool {
	for _, c := range svc.Status.Conditions {
		if c.Type == apiregistrationv1.Available {
			return c.Status == apiregistrationv1.ConditionTrue
		}
	}
	return false
}

// apiServiceFor is the local APIService of a group-version.
func apiServiceFor(gv schema.GroupVersion) *apiregistrationv1.APIService {
	p, ok := priorities[gv]
	if !ok {
		// Unknown groups (CRDs) sort after every built-in one.
		p = priority{1000, 15}
	}
	return &apiregistrationv1.APIService{
		ObjectMeta: metav1.ObjectMeta{Name: gv.Version + "." + gv.Group, Labels: map[string]string{autoregister.AutoRegisterManagedLabel: "onstart"}},
		Spec: apiregistrationv1.APIServiceSpec{
			Group:                gv.Group,
			Version:              gv.Version,
			GroupPriorityMinimum: p.group,
			VersionPriority:      p.version,
		},
	}
}

// groupVersionsOf lists the group-versions under /api and /apis a server publishes.
func groupVersionsOf(paths []string) []schema.GroupVersion {
	seen := sets.New[schema.GroupVersion]()
	var out []schema.GroupVersion
	for _, p := range paths {
		var gv schema.GroupVersion
		switch {
		case p == "/api/v1":
			gv = schema.GroupVersion{Version: "v1"}
		case strings.HasPrefix(p, "/apis/"):
			parts := strings.Split(strings.TrimPrefix(p, "/apis/"), "/")
			if len(parts) != 2 {
				continue
			}
			gv = schema.GroupVersion{Group: parts[0], Version: parts[1]}
		default:
			continue
		}
		if !seen.Has(gv) {
			seen.Insert(gv)
			out = append(out, gv)
		}
	}
	return out
}
