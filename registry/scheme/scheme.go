package scheme

import (
	"fmt"
	"reflect"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	resourcev1 "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	storagemigrationv1 "k8s.io/api/storagemigration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
)

// Scheme, Codecs and ParameterCodec are shared read-only after init; they are
// the equivalent of upstream's legacyscheme and are never mutated at run time.
var (
	Scheme         = runtime.NewScheme()
	Codecs         = serializer.NewCodecFactory(Scheme)
	ParameterCodec = runtime.NewParameterCodec(Scheme)
)

// group is one API group as Capstan stores it: every served version, and the
// version whose Go types double as the internal (hub) types.
type group struct {
	hub    schema.GroupVersion
	add    []func(*runtime.Scheme) error
	hubPkg string // Go package whose types are registered as the internal version
}

func pkgOf(obj any) string { return reflect.TypeOf(obj).Elem().PkgPath() }

var groups = []group{
	{corev1.SchemeGroupVersion, []func(*runtime.Scheme) error{corev1.AddToScheme}, pkgOf(&corev1.Pod{})},
	{appsv1.SchemeGroupVersion, []func(*runtime.Scheme) error{appsv1.AddToScheme}, pkgOf(&appsv1.Deployment{})},
	{batchv1.SchemeGroupVersion, []func(*runtime.Scheme) error{batchv1.AddToScheme}, pkgOf(&batchv1.Job{})},
	{autoscalingv2.SchemeGroupVersion, []func(*runtime.Scheme) error{autoscalingv2.AddToScheme, autoscalingv1.AddToScheme}, pkgOf(&autoscalingv2.HorizontalPodAutoscaler{})},
	{coordinationv1.SchemeGroupVersion, []func(*runtime.Scheme) error{coordinationv1.AddToScheme}, pkgOf(&coordinationv1.Lease{})},
	{discoveryv1.SchemeGroupVersion, []func(*runtime.Scheme) error{discoveryv1.AddToScheme}, pkgOf(&discoveryv1.EndpointSlice{})},
	{eventsv1.SchemeGroupVersion, []func(*runtime.Scheme) error{eventsv1.AddToScheme}, pkgOf(&eventsv1.Event{})},
	{policyv1.SchemeGroupVersion, []func(*runtime.Scheme) error{policyv1.AddToScheme}, pkgOf(&policyv1.PodDisruptionBudget{})},
	{schedulingv1.SchemeGroupVersion, []func(*runtime.Scheme) error{schedulingv1.AddToScheme}, pkgOf(&schedulingv1.PriorityClass{})},
	{networkingv1.SchemeGroupVersion, []func(*runtime.Scheme) error{networkingv1.AddToScheme}, pkgOf(&networkingv1.Ingress{})},
	{nodev1.SchemeGroupVersion, []func(*runtime.Scheme) error{nodev1.AddToScheme}, pkgOf(&nodev1.RuntimeClass{})},
	{storagev1.SchemeGroupVersion, []func(*runtime.Scheme) error{storagev1.AddToScheme}, pkgOf(&storagev1.StorageClass{})},
	// Groups served by later issues; registering their types costs nothing and
	// lets clients in the server (and tests) decode them already.
	{rbacv1.SchemeGroupVersion, []func(*runtime.Scheme) error{rbacv1.AddToScheme}, pkgOf(&rbacv1.Role{})},
	{authenticationv1.SchemeGroupVersion, []func(*runtime.Scheme) error{authenticationv1.AddToScheme}, pkgOf(&authenticationv1.TokenReview{})},
	{authorizationv1.SchemeGroupVersion, []func(*runtime.Scheme) error{authorizationv1.AddToScheme}, pkgOf(&authorizationv1.SubjectAccessReview{})},
	{admissionregistrationv1.SchemeGroupVersion, []func(*runtime.Scheme) error{admissionregistrationv1.AddToScheme}, pkgOf(&admissionregistrationv1.ValidatingWebhookConfiguration{})},
	{certificatesv1.SchemeGroupVersion, []func(*runtime.Scheme) error{certificatesv1.AddToScheme}, pkgOf(&certificatesv1.CertificateSigningRequest{})},
	{flowcontrolv1.SchemeGroupVersion, []func(*runtime.Scheme) error{flowcontrolv1.AddToScheme}, pkgOf(&flowcontrolv1.FlowSchema{})},
	{resourcev1.SchemeGroupVersion, []func(*runtime.Scheme) error{resourcev1.AddToScheme}, pkgOf(&resourcev1.ResourceClaim{})},
	{storagemigrationv1.SchemeGroupVersion, []func(*runtime.Scheme) error{storagemigrationv1.AddToScheme}, pkgOf(&storagemigrationv1.StorageVersionMigration{})},
}

func init() {
	utilruntime.Must(install(Scheme))
}

// install registers every group: its served versions as they are, and the
// hub version's own kinds again under the internal version.
func install(s *runtime.Scheme) error {
	for _, g := range groups {
		for _, add := range g.add {
			if err := add(s); err != nil {
				return err
			}
		}
		internal := schema.GroupVersion{Group: g.hub.Group, Version: runtime.APIVersionInternal}
		for kind, t := range s.KnownTypes(g.hub) {
			if t.PkgPath() != g.hubPkg {
				continue // metav1 options and WatchEvent have internal forms of their own
			}
			s.AddKnownTypeWithName(internal.WithKind(kind), reflect.New(t).Interface().(runtime.Object))
		}
	}
	// The autoscaling/v1 Scale is the body of every scale subresource.
	s.AddKnownTypeWithName(schema.GroupVersion{Group: autoscalingv1.GroupName, Version: runtime.APIVersionInternal}.WithKind("Scale"), &autoscalingv1.Scale{})
	if err := addQueryParameterConversions(s); err != nil {
		return err
	}
	if err := addHPAConversions(s); err != nil {
		return err
	}
	addDefaultingFuncs(s)
	// Options for requests to the legacy /api group and unversioned types, as every apiserver does.
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	s.AddUnversionedTypes(unversioned, &metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{}, &metav1.APIGroup{}, &metav1.APIResourceList{})
	return nil
}

// FieldLabels registers the field selectors one kind supports, in every
// served version of it. metadata.name and metadata.namespace are always allowed.
func FieldLabels(s *runtime.Scheme, gvk schema.GroupVersionKind, extra ...string) error {
	allowed := map[string]bool{"metadata.name": true, "metadata.namespace": true}
	for _, f := range extra {
		allowed[f] = true
	}
	return s.AddFieldLabelConversionFunc(gvk, func(label, value string) (string, string, error) {
		if allowed[label] {
			return label, value, nil
		}
		return "", "", fmt.Errorf("field label not supported: %s", label)
	})
}

// NewExternalScheme returns a scheme holding only the served (versioned)
// kinds, without the internal registrations: what OpenAPI's
// x-kubernetes-group-version-kind lists must come from it.
func NewExternalScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, g := range groups {
		for _, add := range g.add {
			if err := add(s); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}
