package volumes

import (
	"encoding/pem"
	"errors"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// ctbVersions are the API versions of ClusterTrustBundle the manager can
// read, preferred first.
var ctbVersions = []string{"certificates.k8s.io/v1", "certificates.k8s.io/v1beta1"}

// trustBundle is the part of a ClusterTrustBundle the projection needs, in
// any API version.
type trustBundle struct {
	signerName string
	pem        string
}

// clusterTrustBundle returns the deduplicated PEM certificates of the bundle
// the projection names, or of all bundles of its signer its label selector
// matches. A missing bundle is an error unless the projection is optional;
// an API server that does not serve ClusterTrustBundles fails this volume
// only.
func (s *setup) clusterTrustBundle(p *corev1.ClusterTrustBundleProjection) ([]byte, error) {
	optional := isTrue(p.Optional)
	version, err := s.ctbVersion()
	if err != nil {
		return nil, err
	}
	switch {
	case p.Name != nil:
		b, err := s.getTrustBundle(version, *p.Name)
		if apierrors.IsNotFound(err) && optional {
			return []byte{}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("while getting ClusterTrustBundle: %w", err)
		}
		return normalizeTrustAnchors([]trustBundle{b}), nil
	case p.SignerName != nil:
		var matched []trustBundle
		// An unset selector matches nothing; an empty one everything.
		if p.LabelSelector != nil {
			selector, err := metav1.LabelSelectorAsSelector(p.LabelSelector)
			if err != nil {
				return nil, fmt.Errorf("while parsing label selector: %w", err)
			}
			all, err := s.listTrustBundles(version, selector)
			if err != nil {
				return nil, fmt.Errorf("while listing ClusterTrustBundles matching label selector %v: %w", p.LabelSelector, err)
			}
			for _, b := range all {
				if b.signerName == *p.SignerName {
					matched = append(matched, b)
				}
			}
		}
		if len(matched) == 0 {
			if optional {
				return []byte{}, nil
			}
			return nil, errors.New("combination of signerName and labelSelector matched zero ClusterTrustBundles")
		}
		return normalizeTrustAnchors(matched), nil
	}
	return nil, errors.New("ClusterTrustBundle projection requires either name or signerName to be set")
}

// ctbVersion asks discovery which ClusterTrustBundle version is served.
func (s *setup) ctbVersion() (string, error) {
	for _, gv := range ctbVersions {
		list, err := s.m.client.Discovery().ServerResourcesForGroupVersion(gv)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("discovering ClusterTrustBundle API: %w", err)
		}
		for _, r := range list.APIResources {
			if r.Name == "clustertrustbundles" {
				return gv, nil
			}
		}
	}
	return "", errors.New("ClusterTrustBundle projection is not supported: the API server does not serve clustertrustbundles.certificates.k8s.io")
}

func (s *setup) getTrustBundle(version, name string) (trustBundle, error) {
	if version == ctbVersions[0] {
		b, err := s.m.client.CertificatesV1().ClusterTrustBundles().Get(s.ctx, name, metav1.GetOptions{})
		if err != nil {
			return trustBundle{}, err
		}
		return trustBundle{signerName: b.Spec.SignerName, pem: b.Spec.TrustBundle}, nil
	}
	b, err := s.m.client.CertificatesV1beta1().ClusterTrustBundles().Get(s.ctx, name, metav1.GetOptions{})
	if err != nil {
		return trustBundle{}, err
	}
	return trustBundle{signerName: b.Spec.SignerName, pem: b.Spec.TrustBundle}, nil
}

func (s *setup) listTrustBundles(version string, selector labels.Selector) ([]trustBundle, error) {
	opts := metav1.ListOptions{LabelSelector: selector.String()}
	var out []trustBundle
	if version == ctbVersions[0] {
		list, err := s.m.client.CertificatesV1().ClusterTrustBundles().List(s.ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, b := range list.Items {
			out = append(out, trustBundle{signerName: b.Spec.SignerName, pem: b.Spec.TrustBundle})
		}
		return out, nil
	}
	list, err := s.m.client.CertificatesV1beta1().ClusterTrustBundles().List(s.ctx, opts)
	if err != nil {
		return nil, err
	}
	for _, b := range list.Items {
		out = append(out, trustBundle{signerName: b.Spec.SignerName, pem: b.Spec.TrustBundle})
	}
	return out, nil
}

// normalizeTrustAnchors re-encodes the distinct certificates of the bundles.
// The kubelet shuffles them so that nobody relies on an order; they are
// sorted here instead so that an unchanged set does not rewrite the volume
// on every sync.
func normalizeTrustAnchors(bundles []trustBundle) []byte {
	seen := map[string]bool{}
	for _, b := range bundles {
		rest := []byte(b.pem)
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			seen[string(block.Bytes)] = true
		}
	}
	ders := make([]string, 0, len(seen))
	for d := range seen {
		ders = append(ders, d)
	}
	sort.Strings(ders)
	out := []byte{}
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte(d)})...)
	}
	return out
}
