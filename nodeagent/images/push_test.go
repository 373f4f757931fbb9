package images

import "testing"

func TestSplitName(t *testing.T) {
	for _, tc := range []struct{ name, repo, tag string }{
		{"registry.k8s.io/e2e-test-images/agnhost:2.55", "e2e-test-images/agnhost", "2.55"},
		{"registry.k8s.io/pause:3.10.2", "pause", "3.10.2"},
		{"localhost:5000/a/b", "a/b", "latest"},
		{"library/busybox:1", "library/busybox", "1"},
	} {
		repo, tag, err := splitName(tc.name)
		if err != nil || repo != tc.repo || tag != tc.tag {
			t.Errorf("splitName(%q) = %q, %q, %v; want %q, %q", tc.name, repo, tag, err, tc.repo, tc.tag)
		}
	}
	if _, _, err := splitName("registry.k8s.io/pause@sha256:abc"); err == nil {
		t.Error("a digest reference was accepted")
	}
}
