package images

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestKey(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "agnhost")
	if err := os.WriteFile(src, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	base := func() Image {
		return Image{
			Name:       "registry.k8s.io/e2e-test-images/agnhost:2.66.1",
			Files:      []File{{Path: "agnhost", Mode: 0o755, Source: src}, {Path: "etc/hosts", Mode: 0o644, Data: []byte("127.0.0.1 localhost\n")}},
			Entrypoint: []string{"/agnhost"},
		}
	}
	want, err := Key(base())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(*Image)
		same   bool
	}{
		{name: "unchanged", change: func(*Image) {}, same: true},
		{name: "name", change: func(i *Image) { i.Name = "registry.k8s.io/e2e-test-images/agnhost:2.55" }},
		{name: "inline data", change: func(i *Image) { i.Files[1].Data = []byte("::1 localhost\n") }},
		{name: "mode", change: func(i *Image) { i.Files[0].Mode = 0o700 }},
		{name: "cmd", change: func(i *Image) { i.Cmd = []string{"pause"} }},
		{name: "source rewritten", change: func(*Image) {
			if err := os.Chtimes(src, time.Time{}, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := base()
			tc.change(&img)
			got, err := Key(img)
			if err != nil {
				t.Fatal(err)
			}
			if (got == want) != tc.same {
				t.Errorf("Key after changing %s: same = %v, want %v", tc.name, got == want, tc.same)
			}
		})
	}
	if _, err := Key(Image{Layers: []string{filepath.Join(dir, "missing.tar")}}); err == nil {
		t.Error("Key of an image with a missing layer: want an error")
	}
}
