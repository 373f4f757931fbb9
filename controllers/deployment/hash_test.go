package deployment

import (
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func template(image string) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
	}
}

func TestTemplateHash(t *testing.T) {
	safe := regexp.MustCompile(`^[bcdfghjklmnpqrstvwxz2456789]+$`)
	h := TemplateHash(template("nginx:1"), nil)
	if !safe.MatchString(h) {
		t.Errorf("hash %q uses characters outside rand.SafeEncodeString's alphabet", h)
	}
	// Pinned so that a change of algorithm (and with it every ReplicaSet
	// name on upgrade) cannot go unnoticed; the value depends on the
	// k8s.io/api types, exactly as upstream's does.
	if want := "6d468f77cb"; h != want {
		t.Errorf("TemplateHash = %q, pinned %q (update only if k8s.io/api changed the PodTemplateSpec types)", h, want)
	}
	if TemplateHash(template("nginx:1"), nil) != h {
		t.Error("hash is not stable")
	}
	if TemplateHash(template("nginx:2"), nil) == h {
		t.Error("different templates hash the same")
	}
	if TemplateHash(template("nginx:1"), ptr.To[int32](0)) == h || TemplateHash(template("nginx:1"), ptr.To[int32](1)) == TemplateHash(template("nginx:1"), ptr.To[int32](0)) {
		t.Error("the collision count does not change the hash")
	}
}

func TestReplicaSetName(t *testing.T) {
	if got := replicaSetName("web", "5d8f7c"); got != "web-5d8f7c" {
		t.Errorf("name = %q", got)
	}
	long := strings.Repeat("a", 260)
	if got := replicaSetName(long, "5d8f7c"); len(got) != 253 || !strings.HasSuffix(got, "a-5d8f7c") {
		t.Errorf("long name = %q (%d chars), want 253 ending in the hash", got, len(got))
	}
}
