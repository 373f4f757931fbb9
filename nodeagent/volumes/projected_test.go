package volumes

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	fakediscovery "k8s.io/client-go/discovery/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/capstan-dev/capstan/nodeagent/volumes/atomicwriter/atomicwritertest"
)

// tokenServer answers TokenRequests with numbered tokens valid for the
// requested time and records the requests.
type tokenServer struct {
	env      *testEnv
	requests []*authenticationv1.TokenRequest
	fail     bool
}

func (s *tokenServer) install() {
	s.env.client.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		ca, ok := a.(k8stesting.CreateAction)
		if !ok || a.GetSubresource() != "token" {
			return false, nil, nil
		}
		if s.fail {
			return true, nil, errors.New("apiserver down")
		}
		tr := ca.GetObject().(*authenticationv1.TokenRequest).DeepCopy()
		s.requests = append(s.requests, tr.DeepCopy())
		tr.Status.Token = fmt.Sprintf("token-%d", len(s.requests))
		tr.Status.ExpirationTimestamp = metav1.NewTime(s.env.clock.Now().Add(time.Duration(*tr.Spec.ExpirationSeconds) * time.Second))
		return true, tr, nil
	})
}

func tokenVolume(path, audience string, seconds int64) corev1.Volume {
	return corev1.Volume{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: path, Audience: audience, ExpirationSeconds: &seconds}}},
	}}}
}

func TestSetupProjected(t *testing.T) {
	objects := []runtime.Object{
		configMap("cfg", map[string]string{"a": "1"}, nil),
		secret("sec", map[string]string{"s": "2"}),
	}
	sources := []corev1.VolumeProjection{
		{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}},
		{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Items: []corev1.KeyToPath{{Key: "s", Path: "dir/s"}}}},
		{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}},
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr[int64](3600), Audience: "vault"}},
	}
	runAs := func(uid int64) podOption {
		return func(p *corev1.Pod) { p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: &uid} }
	}
	tests := []struct {
		name    string
		opts    []podOption
		sources []corev1.VolumeProjection
		mode    *int32
		root    bool // chowns files
		want    map[string]string
		wantErr string
	}{
		{
			name:    "all sources",
			sources: sources,
			want:    map[string]string{"a": "-rw-r--r-- 1", "dir/s": "-rw-r--r-- 2", "name": "-rw-r--r-- web", "token": "-rw-r--r-- token-1"},
		},
		{
			name:    "defaultMode",
			sources: sources,
			mode:    ptr[int32](0o440),
			want:    map[string]string{"a": "-r--r----- 1", "dir/s": "-r--r----- 2", "name": "-r--r----- web", "token": "-r--r----- token-1"},
		},
		{
			name:    "a token owned by the pod's single user is private",
			opts:    []podOption{runAs(1000)},
			root:    true,
			sources: sources,
			want:    map[string]string{"a": "-rw-r--r-- 1", "dir/s": "-rw-r--r-- 2", "name": "-rw-r--r-- web", "token": "-rw------- token-1"},
		},
		{
			name: "later sources win",
			sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Items: []corev1.KeyToPath{{Key: "a", Path: "x"}}}},
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Items: []corev1.KeyToPath{{Key: "s", Path: "x"}}}},
			},
			want: map[string]string{"x": "-rw-r--r-- 2"},
		},
		{
			name: "optional sources",
			sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Optional: ptr(true)}},
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Optional: ptr(true)}},
			},
			want: map[string]string{},
		},
		{
			name: "every failing source is reported",
			sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}}},
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Items: []corev1.KeyToPath{{Key: "nope", Path: "x"}}}},
				{PodCertificate: &corev1.PodCertificateProjection{SignerName: "example.com/s"}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}},
			},
			wantErr: `MountVolume.SetUp failed for volume "proj" : [configmap "nope" not found, references non-existent secret key: nope, podCertificate projection (source 2) is not supported by this node]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root && !isRoot() {
				t.Skip("needs root to chown")
			}
			e := newTestEnv(t, objects...)
			ts := &tokenServer{env: e}
			ts.install()
			pod := testPod(append(tt.opts, withVolumes(corev1.Volume{Name: "proj", VolumeSource: corev1.VolumeSource{
				Projected: &corev1.ProjectedVolumeSource{Sources: tt.sources, DefaultMode: tt.mode},
			}}))...)
			paths, err := e.m.Setup(context.Background(), pod)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v\nwant    %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, atomicwritertest.Files(t, paths["proj"])); diff != "" {
				t.Errorf("files (-want +got)\n%s", diff)
			}
			if got := e.mounter.fsType(paths["proj"]); got != "tmpfs" {
				t.Errorf("projected volume on %q, want tmpfs", got)
			}
		})
	}
}

func TestServiceAccountTokenRequest(t *testing.T) {
	e := newTestEnv(t)
	ts := &tokenServer{env: e}
	ts.install()
	pod := testPod(withVolumes(tokenVolume("token", "vault", 7200)))
	if _, err := e.m.Setup(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	want := []*authenticationv1.TokenRequest{{Spec: authenticationv1.TokenRequestSpec{
		Audiences:         []string{"vault"},
		ExpirationSeconds: ptr[int64](7200),
		BoundObjectRef:    &authenticationv1.BoundObjectReference{APIVersion: "v1", Kind: "Pod", Name: "web", UID: "uid-1"},
	}}}
	if diff := cmp.Diff(want, ts.requests); diff != "" {
		t.Errorf("token requests (-want +got)\n%s", diff)
	}
	actions := e.client.Actions()
	last := actions[len(actions)-1]
	if last.GetNamespace() != "ns" || last.(k8stesting.CreateAction).GetSubresource() != "token" {
		t.Errorf("token requested with %v", last)
	}
}

func TestServiceAccountTokenRefresh(t *testing.T) {
	type step struct {
		advance   time.Duration
		fail      bool
		wantToken string
		wantErr   string
	}
	tests := []struct {
		name    string
		seconds int64
		steps   []step
	}{
		{
			name:    "refreshed after 80% of its lifetime",
			seconds: 3600,
			steps: []step{
				{wantToken: "token-1"},
				{advance: 47 * time.Minute, wantToken: "token-1"},
				{advance: 2 * time.Minute, wantToken: "token-2"},
				{advance: time.Minute, wantToken: "token-2"},
			},
		},
		{
			name:    "long-lived tokens rotate daily",
			seconds: 7 * 24 * 3600,
			steps: []step{
				{wantToken: "token-1"},
				{advance: 23 * time.Hour, wantToken: "token-1"},
				{advance: 2 * time.Hour, wantToken: "token-2"},
			},
		},
		{
			name:    "a failed refresh keeps a valid token, not an expired one",
			seconds: 3600,
			steps: []step{
				{wantToken: "token-1"},
				{advance: 50 * time.Minute, fail: true, wantToken: "token-1"},
				{advance: 11 * time.Minute, fail: true, wantErr: "token for service account sa expired and refresh failed: apiserver down"},
				{wantToken: "token-2"},
			},
		},
		{
			name:    "first fetch fails",
			seconds: 3600,
			steps:   []step{{fail: true, wantErr: "failed to fetch token: apiserver down"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			ts := &tokenServer{env: e}
			ts.install()
			pod := testPod(withVolumes(tokenVolume("token", "", tt.seconds)))
			for i, s := range tt.steps {
				e.clock.SetTime(e.clock.Now().Add(s.advance))
				ts.fail = s.fail
				paths, err := e.m.Setup(context.Background(), pod)
				if !errorContains(err, s.wantErr) {
					t.Fatalf("step %d: error = %v, want %q", i, err, s.wantErr)
				}
				if s.wantErr != "" {
					continue
				}
				if got := atomicwritertest.Files(t, paths["token"])["token"]; got != "-rw-r--r-- "+s.wantToken {
					t.Errorf("step %d: token file %q, want %s", i, got, s.wantToken)
				}
			}
		})
	}
}

func TestTokenCacheForgottenOnCleanup(t *testing.T) {
	e := newTestEnv(t)
	ts := &tokenServer{env: e}
	ts.install()
	pod := testPod(withVolumes(tokenVolume("token", "", 3600)))
	for range 2 {
		if _, err := e.m.Setup(context.Background(), pod); err != nil {
			t.Fatal(err)
		}
		if err := e.m.Cleanup(pod.UID); err != nil {
			t.Fatal(err)
		}
	}
	if len(ts.requests) != 2 {
		t.Errorf("%d token requests, want a new token after cleanup", len(ts.requests))
	}
}

func testCert(t *testing.T, cn string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestClusterTrustBundle(t *testing.T) {
	certA, certB, certC := testCert(t, "a"), testCert(t, "b"), testCert(t, "c")
	ctb := func(name, signer string, lbls map[string]string, pems ...string) *certificatesv1beta1.ClusterTrustBundle {
		return &certificatesv1beta1.ClusterTrustBundle{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls},
			Spec:       certificatesv1beta1.ClusterTrustBundleSpec{SignerName: signer, TrustBundle: strings.Join(pems, "")},
		}
	}
	bundles := []runtime.Object{
		ctb("plain", "", nil, certA),
		ctb("s1", "example.com/signer", map[string]string{"env": "prod"}, certB, certA),
		ctb("s2", "example.com/signer", map[string]string{"env": "prod"}, certC, certB),
		ctb("s3", "example.com/signer", map[string]string{"env": "dev"}, certA),
		ctb("other", "example.com/other", map[string]string{"env": "prod"}, certA),
	}
	sorted := func(pems ...string) string {
		var bs []trustBundle
		for _, p := range pems {
			bs = append(bs, trustBundle{pem: p})
		}
		return string(normalizeTrustAnchors(bs))
	}
	tests := []struct {
		name    string
		served  string // API version served, "" for none
		proj    corev1.ClusterTrustBundleProjection
		want    string
		wantErr string
	}{
		{name: "by name", served: "v1beta1", proj: corev1.ClusterTrustBundleProjection{Name: ptr("plain")}, want: sorted(certA)},
		{name: "by signer and selector, deduplicated", served: "v1beta1", proj: corev1.ClusterTrustBundleProjection{
			SignerName: ptr("example.com/signer"), LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}},
		}, want: sorted(certA, certB, certC)},
		{name: "empty selector matches every bundle of the signer", served: "v1beta1", proj: corev1.ClusterTrustBundleProjection{
			SignerName: ptr("example.com/other"), LabelSelector: &metav1.LabelSelector{},
		}, want: sorted(certA)},
		{name: "unset selector matches nothing", served: "v1beta1", proj: corev1.ClusterTrustBundleProjection{SignerName: ptr("example.com/signer")},
			wantErr: "combination of signerName and labelSelector matched zero ClusterTrustBundles"},
		{name: "optional unset selector", served: "v1beta1", proj: corev1.ClusterTrustBundleProjection{SignerName: ptr("example.com/signer"), Optional: ptr(true)}, want: ""},
		{name: "missing by name", served: "v1beta1", proj: corev1.ClusterTrustBundleProjection{Name: ptr("nope")},
			wantErr: `while getting ClusterTrustBundle: clustertrustbundles.certificates.k8s.io "nope" not found`},
		{name: "optional missing by name", served: "v1beta1", proj: corev1.ClusterTrustBundleProjection{Name: ptr("nope"), Optional: ptr(true)}, want: ""},
		{name: "v1 preferred", served: "v1", proj: corev1.ClusterTrustBundleProjection{Name: ptr("v1-only")}, want: sorted(certC)},
		{name: "not served", proj: corev1.ClusterTrustBundleProjection{Name: ptr("plain")},
			wantErr: "ClusterTrustBundle projection is not supported: the API server does not serve clustertrustbundles.certificates.k8s.io"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objects := append([]runtime.Object{configMap("cfg", map[string]string{"a": "1"}, nil)}, bundles...)
			objects = append(objects, &certificatesv1.ClusterTrustBundle{
				ObjectMeta: metav1.ObjectMeta{Name: "v1-only"},
				Spec:       certificatesv1.ClusterTrustBundleSpec{TrustBundle: certC},
			})
			e := newTestEnv(t, objects...)
			disc := e.client.Discovery().(*fakediscovery.FakeDiscovery)
			if tt.served != "" {
				disc.Resources = []*metav1.APIResourceList{{
					GroupVersion: "certificates.k8s.io/" + tt.served,
					APIResources: []metav1.APIResource{{Name: "clustertrustbundles"}},
				}}
			}
			proj := tt.proj
			proj.Path = "ca.crt"
			pod := testPod(withVolumes(
				corev1.Volume{Name: "ca", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
					Sources: []corev1.VolumeProjection{{ClusterTrustBundle: &proj}},
				}}},
				cmVolume("other", "cfg"),
			))
			paths, err := e.m.Setup(context.Background(), pod)
			if _, ok := paths["other"]; !ok {
				t.Errorf("a trust bundle failure failed other volumes: %v", err)
			}
			if tt.wantErr != "" {
				want := `MountVolume.SetUp failed for volume "ca" : ` + tt.wantErr
				if err == nil || err.Error() != want {
					t.Fatalf("error = %v\nwant    %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]string{"ca.crt": "-rw-r--r-- " + tt.want}, atomicwritertest.Files(t, paths["ca"])); diff != "" {
				t.Errorf("files (-want +got)\n%s", diff)
			}
		})
	}
}

func TestPodFsUser(t *testing.T) {
	uid := func(u int64) *corev1.SecurityContext { return &corev1.SecurityContext{RunAsUser: &u} }
	tests := []struct {
		name string
		spec corev1.PodSpec
		want *int64
	}{
		{name: "nobody sets a user", spec: corev1.PodSpec{Containers: []corev1.Container{{}}}},
		{name: "pod level", spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr[int64](7)}, Containers: []corev1.Container{{}, {}}}, want: ptr[int64](7)},
		{name: "containers agree", spec: corev1.PodSpec{InitContainers: []corev1.Container{{SecurityContext: uid(5)}}, Containers: []corev1.Container{{SecurityContext: uid(5)}}}, want: ptr[int64](5)},
		{name: "containers differ", spec: corev1.PodSpec{Containers: []corev1.Container{{SecurityContext: uid(5)}, {SecurityContext: uid(6)}}}},
		{name: "one container unset", spec: corev1.PodSpec{Containers: []corev1.Container{{SecurityContext: uid(5)}, {}}}},
		{name: "container overrides pod", spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr[int64](7)}, Containers: []corev1.Container{{SecurityContext: uid(5)}, {}}}},
		{name: "ephemeral container differs", spec: corev1.PodSpec{
			Containers:          []corev1.Container{{SecurityContext: uid(5)}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{SecurityContext: uid(0)}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, podFsUser(&corev1.Pod{Spec: tt.spec})); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}
