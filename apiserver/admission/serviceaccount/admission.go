// Package serviceaccount is the ServiceAccount admission plugin: a pod gets
// the `default` ServiceAccount when it names none, the account must exist,
// and, unless automounting is turned off, every container mounts a projected
// kube-api-access volume (a bound token, the cluster CA and the namespace)
// at /var/run/secrets/kubernetes.io/serviceaccount, as upstream does.
package serviceaccount

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apiserver/pkg/admission"
	genericadmissioninit "k8s.io/apiserver/pkg/admission/initializer"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/capstan-dev/capstan/apiserver/admission/podplugin"
)

// PluginName is the plugin's name in --enable-admission-plugins.
const PluginName = "ServiceAccount"

const (
	defaultServiceAccount = "default"
	volumePrefix          = "kube-api-access-"
	// MountPath is where the token, CA and namespace appear in containers.
	MountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// tokenExpirationSeconds is upstream's default for the projected token
	// (3607: one hour and a few seconds, which marks it as a legacy-style
	// token for warnings).
	tokenExpirationSeconds = 3607
	mirrorAnnotation       = "kubernetes.io/config.mirror"
)

// Register adds the plugin to plugins.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) { return New(), nil })
}

// Plugin is the ServiceAccount admission plugin.
type Plugin struct {
	podplugin.Base[corelisters.ServiceAccountLister]
}

var (
	_ admission.MutationInterface                           = &Plugin{}
	_ admission.ValidationInterface                         = &Plugin{}
	_ genericadmissioninit.WantsExternalKubeInformerFactory = &Plugin{}
	_ genericadmissioninit.WantsExternalKubeClientSet       = &Plugin{}
)

// New returns the plugin; the admission chain initializes it.
func New() *Plugin {
	return &Plugin{Base: podplugin.New(PluginName, func(f informers.SharedInformerFactory) (corelisters.ServiceAccountLister, cache.SharedIndexInformer) {
		inf := f.Core().V1().ServiceAccounts()
		return inf.Lister(), inf.Informer()
	})}
}

// Admit defaults the service account and mounts its token.
func (p *Plugin) Admit(ctx context.Context, a admission.Attributes, o admission.ObjectInterfaces) error {
	pod := podplugin.Pod(a)
	if pod == nil {
		return nil
	}
	if _, mirror := pod.Annotations[mirrorAnnotation]; mirror {
		return p.Validate(ctx, a, o)
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = defaultServiceAccount
		pod.Spec.DeprecatedServiceAccount = defaultServiceAccount //nolint:staticcheck // kept in step as upstream does
	}
	sa, err := p.serviceAccount(ctx, a.GetNamespace(), pod.Spec.ServiceAccountName)
	if err != nil {
		return admission.NewForbidden(a, fmt.Errorf("error looking up service account %s/%s: %w", a.GetNamespace(), pod.Spec.ServiceAccountName, err))
	}
	if automount(sa, pod) {
		mountToken(pod)
	}
	if len(pod.Spec.ImagePullSecrets) == 0 {
		for _, s := range sa.ImagePullSecrets {
			pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s.Name})
		}
	}
	return p.Validate(ctx, a, o)
}

// Validate rejects mirror pods that use service accounts or secrets, and
// pods whose service account does not exist.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	pod := podplugin.Pod(a)
	if pod == nil {
		return nil
	}
	if _, mirror := pod.Annotations[mirrorAnnotation]; mirror {
		if pod.Spec.ServiceAccountName != "" {
			return admission.NewForbidden(a, fmt.Errorf("a mirror pod may not reference service accounts"))
		}
		for _, v := range pod.Spec.Volumes {
			if v.Secret != nil {
				return admission.NewForbidden(a, fmt.Errorf("a mirror pod may not reference secrets"))
			}
			if v.Projected != nil {
				for _, src := range v.Projected.Sources {
					if src.Secret != nil {
						return admission.NewForbidden(a, fmt.Errorf("a mirror pod may not reference secrets"))
					}
					if src.ServiceAccountToken != nil {
						return admission.NewForbidden(a, fmt.Errorf("a mirror pod may not use ServiceAccountToken volume projections"))
					}
				}
			}
		}
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		return admission.NewForbidden(a, fmt.Errorf("no service account specified for pod %s/%s", a.GetNamespace(), pod.Name))
	}
	if _, err := p.serviceAccount(ctx, a.GetNamespace(), pod.Spec.ServiceAccountName); err != nil {
		return admission.NewForbidden(a, fmt.Errorf("error looking up service account %s/%s: %w", a.GetNamespace(), pod.Spec.ServiceAccountName, err))
	}
	return nil
}

// serviceAccount reads the account from the cache and, when the cache does
// not have it yet, from the API; the default account is waited for a
// little, since its controller creates it right after the namespace.
func (p *Plugin) serviceAccount(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	if sa, err := p.Lister.ServiceAccounts(ns).Get(name); err == nil {
		return sa, nil
	} else if !apierrors.IsNotFound(err) {
		return nil, err
	}
	attempts := 1
	if name == defaultServiceAccount {
		attempts = 10
	}
	var err error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(100+utilrand.Intn(100)) * time.Millisecond):
			}
		}
		var sa *corev1.ServiceAccount
		if sa, err = p.Client.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			return sa, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return nil, err
}

func automount(sa *corev1.ServiceAccount, pod *corev1.Pod) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

// mountToken adds the kube-api-access volume and mounts it in every
// container that has nothing at the mount path yet.
func mountToken(pod *corev1.Pod) {
	name := ""
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, volumePrefix) {
			name = v.Name
			break
		}
	}
	hasVolume := name != ""
	if !hasVolume {
		name = volumePrefix + utilrand.String(5)
	}
	mount := corev1.VolumeMount{Name: name, ReadOnly: true, MountPath: MountPath}
	needed := false
	add := func(cs []corev1.Container) {
		for i := range cs {
			taken := false
			for _, m := range cs[i].VolumeMounts {
				if m.MountPath == MountPath {
					taken = true
					break
				}
			}
			if !taken {
				cs[i].VolumeMounts = append(cs[i].VolumeMounts, mount)
				needed = true
			}
		}
	}
	add(pod.Spec.InitContainers)
	add(pod.Spec.Containers)
	if hasVolume || !needed {
		return
	}
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr.To(corev1.ProjectedVolumeSourceDefaultMode),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To(int64(tokenExpirationSeconds))}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}}})
}
