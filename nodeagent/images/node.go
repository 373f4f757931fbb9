package images

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Names of the images every node needs, as upstream publishes them.
const (
	PauseImage   = "registry.k8s.io/pause:3.10.2"
	BusyboxImage = "registry.k8s.io/e2e-test-images/busybox:1.37.0-2"
)

// Pause is the sandbox image: the pause binary at /pause.
func Pause(pauseBinary string) Image {
	return Image{
		Name:       PauseImage,
		Files:      []File{{Path: "pause", Mode: 0o755, Source: pauseBinary}},
		Entrypoint: []string{"/pause"},
		User:       "65535:65535",
	}
}

// Busybox is a busybox image made from a statically linked busybox binary
// (hack/build-busybox.sh builds 1.37.0): every applet linked in, a passwd and
// group file with root and nobody, and the writable directories tests use.
func Busybox(busybox string) (Image, error) {
	out, err := exec.Command(busybox, "--list-full").Output()
	if err != nil {
		return Image{}, fmt.Errorf("listing busybox applets: %w", err)
	}
	files := []File{
		{Path: "bin/busybox", Mode: 0o755, Source: busybox},
		{Path: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n")},
		{Path: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n")},
		{Path: "etc/hosts", Mode: 0o644, Data: []byte("127.0.0.1\tlocalhost\n")},
		{Path: "etc/resolv.conf", Mode: 0o644},
		{Path: "root", Mode: fs.ModeDir | 0o700},
		{Path: "home", Mode: fs.ModeDir | 0o755},
		{Path: "tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
		{Path: "var/tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
		{Path: "proc", Mode: fs.ModeDir | 0o555},
		{Path: "sys", Mode: fs.ModeDir | 0o555},
		{Path: "dev", Mode: fs.ModeDir | 0o755},
		{Path: "usr/sbin", Mode: fs.ModeDir | 0o755},
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		p := strings.TrimPrefix(strings.TrimSpace(line), "/")
		if p == "" || p == "bin/busybox" {
			continue
		}
		files = append(files, File{Path: p, Link: "bin/busybox"})
	}
	return Image{Name: BusyboxImage, Files: files, Cmd: []string{"sh"}}, nil
}

// Ctr imports archives into a containerd through its ctr command.
type Ctr struct {
	// Binary is the ctr executable ("ctr" when empty).
	Binary string
	// Address is containerd's socket.
	Address string
}

// Import loads the archive into the k8s.io namespace, where the CRI plugin
// sees it, and unpacks it for the default snapshotter.
func (c Ctr) Import(archive string) error {
	bin := c.Binary
	if bin == "" {
		bin = "ctr"
	}
	cmd := exec.Command(bin, "--address", c.Address, "--namespace", "k8s.io", "images", "import", "--no-unpack=false", archive)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("importing %s: %w: %s", filepath.Base(archive), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Has reports whether the image is already in containerd's k8s.io namespace.
func (c Ctr) Has(name string) bool {
	bin := c.Binary
	if bin == "" {
		bin = "ctr"
	}
	out, err := exec.Command(bin, "--address", c.Address, "--namespace", "k8s.io", "images", "list", "-q", "name=="+name).Output()
	return err == nil && strings.TrimSpace(string(out)) == name
}

// BuildNodeImages writes the pause and busybox archives into dir, building
// the pause binary with the Go toolchain at goBin from the module at
// moduleDir. It returns the archive paths.
func BuildNodeImages(dir, goBin, moduleDir, busybox string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	pauseBin := filepath.Join(dir, "pause.bin")
	build := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", pauseBin, "./nodeagent/images/pause")
	build.Dir = moduleDir
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building pause: %w: %s", err, out)
	}
	bb, err := Busybox(busybox)
	if err != nil {
		return nil, err
	}
	var archives []string
	for _, img := range []Image{Pause(pauseBin), bb} {
		dst := filepath.Join(dir, ArchiveName(img.Name))
		if err := WriteArchive(dst, img); err != nil {
			return nil, err
		}
		archives = append(archives, dst)
	}
	return archives, nil
}

// ArchiveName is the file name used for an image's archive.
func ArchiveName(name string) string {
	r := strings.NewReplacer("/", "_", ":", "_")
	return r.Replace(name) + ".tar"
}
