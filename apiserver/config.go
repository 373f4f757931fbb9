package apiserver

import (
	"crypto"
	"fmt"
	"net"
	"net/http"
	"time"

	apiextensionsapiserver "k8s.io/apiextensions-apiserver/pkg/apiserver"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/request/anonymous"
	"k8s.io/apiserver/pkg/authentication/request/union"
	"k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/authorization/path"
	authzunion "k8s.io/apiserver/pkg/authorization/union"
	discoveryendpoint "k8s.io/apiserver/pkg/endpoints/discovery/aggregated"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/transport"
	aggregatorscheme "k8s.io/kube-aggregator/pkg/apiserver/scheme"

	runtimeclassadmission "github.com/capstan-dev/capstan/apiserver/admission/runtimeclass"
	serviceaccountadmission "github.com/capstan-dev/capstan/apiserver/admission/serviceaccount"
	"github.com/capstan-dev/capstan/apiserver/pki"
	"github.com/capstan-dev/capstan/openapi"
	"github.com/capstan-dev/capstan/registry/scheme"
)

// MaxRequestBodyBytes is upstream's limit on a request body (3 MiB); a
// larger body is answered with 413.
const MaxRequestBodyBytes = 3 << 20

// sharedConfig is the generic server configuration every link of the chain starts from.
type sharedConfig struct {
	generic     *genericapiserver.RecommendedConfig
	etcd        *genericoptions.EtcdOptions
	client      kubernetes.Interface
	informers   informers.SharedInformerFactory
	clientCA    dynamiccertificates.CAContentProvider
	proxyClient pki.Files
	// nodeTransport reaches node agents with the apiserver's client certificate.
	nodeTransport http.RoundTripper
	saKey         crypto.Signer
	etcdServers   []string
}

// storagePrefixes keeps upstream's etcd key layout for resources whose key
// is not their resource name, so that etcd data looks like kube-apiserver's.
var storagePrefixes = map[schema.GroupResource]string{
	{Resource: "replicationcontrollers"}:                     "controllers",
	{Resource: "endpoints"}:                                  "services/endpoints",
	{Resource: "nodes"}:                                      "minions",
	{Resource: "services"}:                                   "services/specs",
	{Group: "networking.k8s.io", Resource: "ingresses"}:      "ingress",
	{Group: "networking.k8s.io", Resource: "ingressclasses"}: "ingressclasses",
}

func newSharedConfig(o *Options, layout pki.Layout, etcdServers []string) (*sharedConfig, error) {
	gc := genericapiserver.NewRecommendedConfig(scheme.Codecs)
	gc.EffectiveVersion = newEffectiveVersion()
	gc.MaxRequestBodyBytes = MaxRequestBodyBytes
	// One aggregated discovery document for the whole chain: each link adds
	// its groups, and the aggregator serves the merged /apis.
	gc.AggregatedDiscoveryGroupManager = discoveryendpoint.NewResourceManager("apis")
	gc.ExternalAddress = net.JoinHostPort(o.AdvertiseAddress.String(), fmt.Sprint(o.SecurePort))
	gc.PublicAddress = o.AdvertiseAddress

	serving := genericoptions.NewSecureServingOptions().WithLoopback()
	serving.BindAddress = o.BindAddress
	serving.BindPort = o.SecurePort
	serving.ServerCert.CertKey.CertFile = layout.Serving().Cert
	serving.ServerCert.CertKey.KeyFile = layout.Serving().Key
	if o.SecurePort == 0 {
		l, port, err := genericoptions.CreateListener("tcp", net.JoinHostPort(o.BindAddress.String(), "0"), net.ListenConfig{})
		if err != nil {
			return nil, err
		}
		serving.Listener, serving.BindPort, o.SecurePort = l, port, port
		gc.ExternalAddress = net.JoinHostPort(o.AdvertiseAddress.String(), fmt.Sprint(port))
	}
	if err := serving.ApplyTo(&gc.SecureServing, &gc.LoopbackClientConfig); err != nil {
		return nil, fmt.Errorf("secure serving: %w", err)
	}

	clientCA, err := dynamiccertificates.NewDynamicCAContentFromFile("client-ca", layout.CA().Cert)
	if err != nil {
		return nil, err
	}
	if err := gc.Authentication.ApplyClientCert(clientCA, gc.SecureServing); err != nil {
		return nil, err
	}
	gc.Authentication.Authenticator = union.New(
		x509.NewDynamic(clientCA.VerifyOptions, x509.CommonNameUserConversion),
		// Anonymous requests reach only what the authorizer allows them (health and version).
		anonymous.NewAuthenticator(nil),
	)
	gc.Authentication.APIAudiences = authenticator.Audiences{o.ServiceAccountIssuer}
	public, err := path.NewAuthorizer([]string{"/healthz", "/healthz/*", "/livez", "/livez/*", "/readyz", "/readyz/*", "/version", "/version/"})
	if err != nil {
		return nil, err
	}
	gc.Authorization.Authorizer, err = authzunion.New(
		authzunion.NamedAuthorizer{AuthorizerName: "privileged-groups", Authorizer: authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup)},
		authzunion.NamedAuthorizer{AuthorizerName: "public-info", Authorizer: public},
		authzunion.NamedAuthorizer{AuthorizerName: "node", Authorizer: nodeAuthorizer{}},
	)
	if err != nil {
		return nil, err
	}
	gc.RuleResolver = nil
	genericapiserver.AuthorizeClientBearerToken(gc.LoopbackClientConfig, &gc.Authentication, &gc.Authorization)

	// Storage: versioned types are stored protobuf-encoded in their preferred version.
	backend := storagebackend.NewDefaultConfig(o.EtcdPrefix, nil)
	backend.Transport.ServerList = etcdServers
	etcdOpts := genericoptions.NewEtcdOptions(backend)
	etcdOpts.DefaultStorageMediaType = "application/vnd.kubernetes.protobuf"
	resources := serverstorage.NewResourceConfig()
	resources.EnableVersions(scheme.Scheme.PrioritizedVersionsAllGroups()...)
	factory := serverstorage.NewDefaultStorageFactory(etcdOpts.StorageConfig, etcdOpts.DefaultStorageMediaType,
		scheme.Codecs, serverstorage.NewDefaultResourceEncodingConfig(scheme.Scheme), resources, storagePrefixes)
	if err := etcdOpts.ApplyWithStorageFactoryTo(factory, &gc.Config); err != nil {
		return nil, fmt.Errorf("etcd storage: %w", err)
	}
	gc.MergedResourceConfig = resources

	external, err := scheme.NewExternalScheme()
	if err != nil {
		return nil, err
	}
	namer := openapinamer.NewDefinitionNamer(external, apiextensionsapiserver.Scheme, aggregatorscheme.Scheme)
	gc.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openapi.GetOpenAPIDefinitions, namer)
	gc.OpenAPIConfig.Info.Title = "Kubernetes"
	gc.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openapi.GetOpenAPIDefinitions, namer)
	gc.OpenAPIV3Config.Info.Title = "Kubernetes"

	client, err := kubernetes.NewForConfig(gc.LoopbackClientConfig)
	if err != nil {
		return nil, err
	}
	gc.SharedInformerFactory = informers.NewSharedInformerFactory(client, 10*time.Minute)
	gc.ClientConfig = gc.LoopbackClientConfig

	if err := applyAdmission(gc, client); err != nil {
		return nil, err
	}
	nodeTransport, err := transport.New(&transport.Config{TLS: transport.TLSConfig{
		CAFile: layout.CA().Cert, CertFile: layout.NodeClient().Cert, KeyFile: layout.NodeClient().Key,
	}})
	if err != nil {
		return nil, fmt.Errorf("node agent transport: %w", err)
	}
	saKey, err := pki.EnsureKey(layout.ServiceAccountKey())
	if err != nil {
		return nil, fmt.Errorf("service account key: %w", err)
	}
	return &sharedConfig{generic: gc, etcd: etcdOpts, client: client, informers: gc.SharedInformerFactory, clientCA: clientCA,
		proxyClient: layout.FrontProxyClient(), nodeTransport: nodeTransport, saKey: saKey, etcdServers: etcdServers}, nil
}

// applyAdmission installs the admission plugins this server runs, in upstream's order.
func applyAdmission(gc *genericapiserver.RecommendedConfig, client kubernetes.Interface) error {
	plugins := admission.NewPlugins()
	lifecycle.Register(plugins)
	serviceaccountadmission.Register(plugins)
	runtimeclassadmission.Register(plugins)
	order := []string{lifecycle.PluginName, serviceaccountadmission.PluginName, runtimeclassadmission.PluginName}
	initializers := []admission.PluginInitializer{}
	opts := genericoptions.NewAdmissionOptions()
	opts.Plugins = plugins
	opts.RecommendedPluginOrder = order
	opts.DefaultOffPlugins = sets.New[string]()
	opts.EnablePlugins = order
	dyn, err := dynamic.NewForConfig(gc.LoopbackClientConfig)
	if err != nil {
		return err
	}
	return opts.ApplyTo(&gc.Config, gc.SharedInformerFactory, client, dyn, utilfeature.DefaultFeatureGate, gc.EffectiveVersion, initializers...)
}
