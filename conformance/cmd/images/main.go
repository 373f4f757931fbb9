// Command images writes OCI image archives of the images the upstream
// conformance tests run, named as upstream publishes them, so that a node's
// containerd can import them without a registry. Programs come from the
// Kubernetes module (agnhost and the other test-image programs, the sample
// API server, etcd), tools, libraries and shells from Debian packages (busybox
// for the shell and small commands, as on Alpine), and the busybox images
// from Debian's busybox-static. Everything is cached: an archive, layer,
// binary or package extraction whose inputs did not change is not redone.
//
//	go run ./cmd/images -out images/out -cache images/cache
//
// With -check it then imports the archives into a private containerd and
// runs each image: a command in it, or its own server and a probe inside.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/capstan-dev/capstan/nodeagent/images"
)

func main() {
	b := &builder{rootfs: map[string]string{}, bins: map[string]string{}, layers: map[string]string{}}
	flag.StringVar(&b.out, "out", "images/out", "directory for the image archives")
	flag.StringVar(&b.cache, "cache", "images/cache", "directory for downloaded packages, built programs and layers")
	flag.StringVar(&b.goBin, "go", "go", "Go toolchain")
	flag.StringVar(&b.busybox, "busybox", "/bin/busybox", "statically linked busybox (Debian's busybox-static)")
	flag.StringVar(&b.capstan, "capstan", "..", "the Capstan module, whose nodeagent/images builds pause")
	only := flag.String("only", "", "build only the images whose names match this regular expression")
	list := flag.Bool("list", false, "print the image names and exit")
	check := flag.Bool("check", false, "then import the archives into a private containerd and run a check in each image")
	link := flag.String("link", "", "then symlink the archives of the images built into this directory (an existing entry of the same name is kept)")
	flag.Parse()
	if *list {
		for _, r := range recipes {
			fmt.Println(r.name)
		}
		return
	}
	var match *regexp.Regexp
	if *only != "" {
		var err error
		if match, err = regexp.Compile(*only); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	if err := b.run(match); err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
	if *link != "" {
		if err := b.linkAll(match, *link); err != nil {
			fmt.Fprintln(os.Stderr, "images:", err)
			os.Exit(1)
		}
	}
	if *check {
		if err := b.checkAll(match); err != nil {
			fmt.Fprintln(os.Stderr, "images:", err)
			os.Exit(1)
		}
	}
}

// builder holds the paths and the intermediate results shared by images.
type builder struct {
	out, cache, goBin, busybox, capstan string

	modDir string // the Kubernetes module in the module cache
	goKey  string // Go version and this module's requirements

	rootfs   map[string]string
	bins     map[string]string
	layers   map[string]string
	nodeDone bool
}

func (b *builder) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

func (b *builder) run(match *regexp.Regexp) error {
	// Absolute, because BuildNodeImages runs the Go toolchain in the
	// Capstan module.
	for _, d := range []*string{&b.out, &b.cache, &b.capstan} {
		abs, err := filepath.Abs(*d)
		if err != nil {
			return err
		}
		*d = abs
	}
	for _, d := range []string{b.out, b.cache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	var err error
	if b.modDir, err = run("", b.goBin, "list", "-m", "-f", "{{.Dir}}", "k8s.io/kubernetes"); err != nil {
		return err
	}
	b.modDir = strings.TrimSpace(b.modDir)
	goVersion, err := run("", b.goBin, "env", "GOVERSION")
	if err != nil {
		return err
	}
	h := sha256.New()
	fmt.Fprintln(h, strings.TrimSpace(goVersion))
	for _, f := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("run from the conformance module: %w", err)
		}
		h.Write(data)
	}
	b.goKey = hex.EncodeToString(h.Sum(nil))

	for _, r := range recipes {
		if match != nil && !match.MatchString(r.name) {
			continue
		}
		start := time.Now()
		if r.node {
			if err := b.nodeImages(); err != nil {
				return err
			}
			continue
		}
		img, err := r.build(b)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		img.Name = r.name
		wrote, err := b.archive(img)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		if wrote {
			b.logf("wrote %s (%s)", r.name, time.Since(start).Round(time.Millisecond))
		}
	}
	return nil
}

// linkAll symlinks the archive of every image match selects into dir.
func (b *builder) linkAll(match *regexp.Regexp, dir string) error {
	for _, r := range recipes {
		if match != nil && !match.MatchString(r.name) {
			continue
		}
		name := images.ArchiveName(r.name)
		err := os.Symlink(filepath.Join(b.out, name), filepath.Join(dir, name))
		if err != nil && !os.IsExist(err) {
			return err
		}
	}
	return nil
}

// archive writes img into the output directory unless the archive there
// was written from the same inputs (its images.Key is recorded in the
// cache).
func (b *builder) archive(img images.Image) (bool, error) {
	dst := filepath.Join(b.out, images.ArchiveName(img.Name))
	key, err := images.Key(img)
	if err != nil {
		return false, err
	}
	keyFile := filepath.Join(b.cache, "keys", images.ArchiveName(img.Name))
	if fresh(dst, key, keyFile) {
		return false, nil
	}
	if err := images.WriteArchive(dst, img); err != nil {
		return false, err
	}
	return true, stamp(keyFile, key)
}

// nodeImages makes pause and busybox with images.BuildNodeImages (the
// images every Capstan node has) and copies an archive into the output
// directory only when its content changed, so its time stays that of its
// last real change.
func (b *builder) nodeImages() error {
	if b.nodeDone {
		return nil
	}
	b.nodeDone = true
	archives, err := images.BuildNodeImages(filepath.Join(b.cache, "node"), b.goBin, b.capstan, b.busybox)
	if err != nil {
		return err
	}
	for _, a := range archives {
		dst := filepath.Join(b.out, filepath.Base(a))
		data, err := os.ReadFile(a)
		if err != nil {
			return err
		}
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
		b.logf("wrote %s", filepath.Base(dst))
	}
	return nil
}

// goBinary builds a main package of this module's build list into the cache
// with cgo off (the images have no C toolchain's libraries to match), unless
// a binary built by the same Go from the same requirements is there.
func (b *builder) goBinary(pkg, name string) (string, error) {
	if p, ok := b.bins[name]; ok {
		return p, nil
	}
	dst := filepath.Join(b.cache, "bin", name)
	flags := []string{"build", "-trimpath", "-ldflags=-s -w", "-o", dst, pkg}
	key := b.goKey + "\n" + strings.Join(flags, " ")
	if !fresh(dst, key, dst+".key") {
		b.logf("building %s", pkg)
		cmd := exec.Command(b.goBin, flags...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("building %s: %w: %s", pkg, err, out)
		}
		if err := stamp(dst+".key", key); err != nil {
			return "", err
		}
	}
	b.bins[name] = dst
	return dst, nil
}

// layer writes files as a layer tarball in the cache, for images that
// share it, unless the tarball there was written from the same inputs.
func (b *builder) layer(name string, files []images.File) (string, error) {
	if p, ok := b.layers[name]; ok {
		return p, nil
	}
	dst := filepath.Join(b.cache, "layers", name+".tar")
	key, err := images.Key(images.Image{Files: files})
	if err != nil {
		return "", err
	}
	if !fresh(dst, key, dst+".key") {
		data, err := images.Layer(files)
		if err != nil {
			return "", fmt.Errorf("layer %s: %w", name, err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return "", err
		}
		if err := stamp(dst+".key", key); err != nil {
			return "", err
		}
		b.logf("wrote layer %s (%d MB)", name, len(data)>>20)
	}
	b.layers[name] = dst
	return dst, nil
}

// fresh reports whether path exists and keyFile records key.
func fresh(path, key, keyFile string) bool {
	if _, err := os.Stat(path); err != nil {
		return false
	}
	old, err := os.ReadFile(keyFile)
	return err == nil && string(old) == key
}

func stamp(keyFile, key string) error {
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o755); err != nil {
		return err
	}
	return os.WriteFile(keyFile, []byte(key), 0o644)
}

// provided reports whether an extracted package set has a program of that
// name in one of the usual program folders.
func provided(root, name string) bool {
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin"} {
		if _, err := os.Lstat(filepath.Join(root, d, name)); err == nil {
			return true
		}
	}
	return false
}

// moduleFile is a file of the Kubernetes module (test data of an image).
func (b *builder) moduleFile(rel string) string {
	return filepath.Join(b.modDir, filepath.FromSlash(rel))
}

func dir(p string, mode fs.FileMode) images.File {
	return images.File{Path: p, Mode: fs.ModeDir | mode}
}

func text(p, data string) images.File {
	return images.File{Path: p, Mode: 0o644, Data: []byte(data)}
}

func symlink(p, target string) images.File {
	return images.File{Path: p, Mode: fs.ModeSymlink | 0o777, Link: target}
}
