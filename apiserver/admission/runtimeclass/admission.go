// Package runtimeclass is the RuntimeClass admission plugin: a pod naming a
// RuntimeClass gets the class's pod overhead and scheduling constraints
// (node selector and tolerations), and is rejected when the class does not
// exist or its own values conflict, as upstream does.
package runtimeclass

import (
	"context"
	"fmt"
	"io"

	nodev1 "k8s.io/api/node/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"
	genericadmissioninit "k8s.io/apiserver/pkg/admission/initializer"
	"k8s.io/client-go/informers"
	nodelisters "k8s.io/client-go/listers/node/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/capstan-dev/capstan/apiserver/admission/podplugin"
)

// PluginName is the plugin's name in --enable-admission-plugins.
const PluginName = "RuntimeClass"

// Register adds the plugin to plugins.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) { return New(), nil })
}

// Plugin is the RuntimeClass admission plugin.
type Plugin struct {
	podplugin.Base[nodelisters.RuntimeClassLister]
}

var (
	_ admission.MutationInterface                           = &Plugin{}
	_ admission.ValidationInterface                         = &Plugin{}
	_ genericadmissioninit.WantsExternalKubeInformerFactory = &Plugin{}
	_ genericadmissioninit.WantsExternalKubeClientSet       = &Plugin{}
)

// New returns the plugin; the admission chain initializes it.
func New() *Plugin {
	return &Plugin{Base: podplugin.New(PluginName, func(f informers.SharedInformerFactory) (nodelisters.RuntimeClassLister, cache.SharedIndexInformer) {
		inf := f.Node().V1().RuntimeClasses()
		return inf.Lister(), inf.Informer()
	})}
}

func (p *Plugin) runtimeClass(ctx context.Context, name string) (*nodev1.RuntimeClass, error) {
	rc, err := p.Lister.Get(name)
	if apierrors.IsNotFound(err) {
		// The cache may be behind a class created a moment ago.
		rc, err = p.Client.NodeV1().RuntimeClasses().Get(ctx, name, metav1.GetOptions{})
	}
	return rc, err
}

// Admit sets the pod's overhead and merges the class's scheduling rules.
func (p *Plugin) Admit(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	pd := podplugin.Pod(a)
	if pd == nil || pd.Spec.RuntimeClassName == nil || *pd.Spec.RuntimeClassName == "" {
		return nil
	}
	rc, err := p.runtimeClass(ctx, *pd.Spec.RuntimeClassName)
	if apierrors.IsNotFound(err) {
		return admission.NewForbidden(a, fmt.Errorf("pod rejected: RuntimeClass %q not found", *pd.Spec.RuntimeClassName))
	}
	if err != nil {
		return admission.NewForbidden(a, fmt.Errorf("pod rejected: %w", err))
	}
	if rc.Overhead != nil {
		if len(pd.Spec.Overhead) > 0 && !apiequality.Semantic.DeepEqual(pd.Spec.Overhead, rc.Overhead.PodFixed) {
			return admission.NewForbidden(a, fmt.Errorf("pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"))
		}
		pd.Spec.Overhead = rc.Overhead.PodFixed.DeepCopy()
	}
	if s := rc.Scheduling; s != nil {
		if len(s.NodeSelector) > 0 {
			if pd.Spec.NodeSelector == nil {
				pd.Spec.NodeSelector = map[string]string{}
			}
			for k, v := range s.NodeSelector {
				if cur, ok := pd.Spec.NodeSelector[k]; ok && cur != v {
					return admission.NewForbidden(a, fmt.Errorf("conflict: runtimeClass.scheduling.nodeSelector[%s] = %s; pod.spec.nodeSelector[%s] = %s", k, v, k, cur))
				}
				pd.Spec.NodeSelector[k] = v
			}
		}
		for _, t := range s.Tolerations {
			dup := false
			for _, have := range pd.Spec.Tolerations {
				if apiequality.Semantic.DeepEqual(have, t) {
					dup = true
					break
				}
			}
			if !dup {
				pd.Spec.Tolerations = append(pd.Spec.Tolerations, t)
			}
		}
	}
	return nil
}

// Validate rejects an overhead the class does not define.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	pd := podplugin.Pod(a)
	if pd == nil || len(pd.Spec.Overhead) == 0 {
		return nil
	}
	if pd.Spec.RuntimeClassName == nil || *pd.Spec.RuntimeClassName == "" {
		return admission.NewForbidden(a, fmt.Errorf("pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead"))
	}
	rc, err := p.runtimeClass(ctx, *pd.Spec.RuntimeClassName)
	if err != nil {
		return admission.NewForbidden(a, fmt.Errorf("pod rejected: %w", err))
	}
	if rc.Overhead == nil || !apiequality.Semantic.DeepEqual(pd.Spec.Overhead, rc.Overhead.PodFixed) {
		return admission.NewForbidden(a, fmt.Errorf("pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"))
	}
	return nil
}
