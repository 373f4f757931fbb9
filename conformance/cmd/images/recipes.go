package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/capstan-dev/capstan/nodeagent/images"
)

// recipe makes one image. node marks the images that
// images.BuildNodeImages writes.
type recipe struct {
	name  string
	node  bool
	build func(*builder) (images.Image, error)
}

const e2e = "registry.k8s.io/e2e-test-images/"

// recipes lists every image, in build order. Names and tags are those of
// k8s.io/kubernetes/test/utils/image at v1.37.1. How each differs from
// upstream's (Alpine or Debian-slim based) image is noted at its recipe.
var recipes = []recipe{
	{name: images.PauseImage, node: true},
	{name: images.BusyboxImage, node: true},
	// Upstream's 1.36.1-1 and 1.37.0-2 differ only in busybox's version;
	// both are Debian's busybox-static here.
	{name: e2e + "busybox:1.36.1-1", build: func(b *builder) (images.Image, error) {
		return images.Busybox(b.busybox)
	}},
	// Both agnhost tags carry the agnhost of Kubernetes 1.37.1: the tests
	// that use 2.55 ("the previous agnhost") only need a second image name.
	{name: e2e + "agnhost:2.66.1", build: (*builder).agnhost},
	{name: e2e + "agnhost:2.55", build: (*builder).agnhost},
	{name: e2e + "kitten:1.8", build: func(b *builder) (images.Image, error) {
		return b.updateDemo("kitten")
	}},
	{name: e2e + "nautilus:1.8", build: func(b *builder) (images.Image, error) {
		return b.updateDemo("nautilus")
	}},
	{name: e2e + "glibc-dns-testing:2.1.1", build: func(b *builder) (images.Image, error) {
		tools, err := b.toolsLayer()
		if err != nil {
			return images.Image{}, err
		}
		return images.Image{Layers: []string{tools}, Cmd: []string{"bash"}}, nil
	}},
	{name: e2e + "ipc-utils:1.4", build: func(b *builder) (images.Image, error) {
		tools, err := b.toolsLayer()
		if err != nil {
			return images.Image{}, err
		}
		return images.Image{Layers: []string{tools}, Cmd: []string{"/bin/sh"}}, nil
	}},
	// Upstream's nginx images are nginx 1.27 and 1.28 on Alpine; both are
	// Debian 12's nginx (1.22) here, configured the same way.
	{name: e2e + "nginx:1.27.0-2", build: (*builder).nginx},
	{name: e2e + "nginx:1.28.0-2", build: (*builder).nginx},
	{name: e2e + "nonewprivs:1.4", build: func(b *builder) (images.Image, error) {
		return b.small("k8s.io/kubernetes/test/images/nonewprivs", "nnp", images.File{Path: "usr/local/bin/nnp", Mode: fs.ModeSetuid | 0o755}, images.Image{Cmd: []string{"nnp"}})
	}},
	// Upstream's nonroot is debian-base with USER 1234; tests run `id`.
	{name: e2e + "nonroot:1.5", build: func(b *builder) (images.Image, error) {
		img, err := images.Busybox(b.busybox)
		img.User = "1234"
		img.Cmd = []string{"/bin/sh"}
		return img, err
	}},
	{name: e2e + "regression-issue-74839:1.5", build: func(b *builder) (images.Image, error) {
		return b.small("k8s.io/kubernetes/test/images/regression-issue-74839", "regression-issue-74839", images.File{Path: "regression-issue-74839", Mode: 0o755}, images.Image{Entrypoint: []string{"/regression-issue-74839"}})
	}},
	// The sample API server of Kubernetes 1.37.1 under the 1.29.2 name the
	// aggregator tests use.
	{name: e2e + "sample-apiserver:1.29.2", build: func(b *builder) (images.Image, error) {
		return b.small("k8s.io/sample-apiserver", "sample-apiserver", images.File{Path: "sample-apiserver", Mode: 0o755}, images.Image{Entrypoint: []string{"/sample-apiserver"}})
	}},
	{name: e2e + "sample-device-plugin:1.7", build: func(b *builder) (images.Image, error) {
		return b.small("k8s.io/kubernetes/test/images/sample-device-plugin", "sampledeviceplugin", images.File{Path: "sampledeviceplugin", Mode: 0o755}, images.Image{Entrypoint: []string{"/sampledeviceplugin", "-alsologtostderr"}})
	}},
	// etcd 3.7.0, the version Kubernetes 1.37.1 builds with; like
	// upstream's image it has no shell, and unlike it no etcdctl.
	{name: "registry.k8s.io/etcd:3.7.0-0", build: func(b *builder) (images.Image, error) {
		etcd, err := b.goBinary("go.etcd.io/etcd/server/v3", "etcd")
		if err != nil {
			return images.Image{}, err
		}
		return images.Image{
			Files: []images.File{
				{Path: "usr/local/bin/etcd", Mode: 0o755, Source: etcd},
				// etcd's default peer URL names localhost.
				text("etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost\n"),
				dir("tmp", fs.ModeSticky|0o777),
				dir("var/etcd", 0o700),
			},
			Cmd: []string{"/usr/local/bin/etcd"},
		}, nil
	}},
	{name: e2e + "resource-consumer:1.14", build: (*builder).resourceConsumer},
	// Upstream's perl:5.26 tag is the Docker Hub perl image (Debian with
	// perl in /usr/local); this is Debian 12's perl 5.36.
	{name: e2e + "perl:5.26", build: func(b *builder) (images.Image, error) {
		root, err := b.debRootfs("perl", []string{"busybox", "perl", "perl-base"})
		if err != nil {
			return images.Image{}, err
		}
		files, err := b.rootfsFiles(root, symlink("usr/local/bin/perl", "/usr/bin/perl"))
		if err != nil {
			return images.Image{}, err
		}
		return images.Image{Files: files, Cmd: []string{"perl", "-de0"}}, nil
	}},
	// Upstream's is distroless with iptables (through a wrapper that picks
	// the legacy or nft backend) and conntrack; here Debian 12's with the
	// nft backend, Debian's default, and busybox for a shell.
	{name: "registry.k8s.io/build-image/distroless-iptables:v0.9.7", build: func(b *builder) (images.Image, error) {
		root, err := b.debRootfs("iptables", []string{"busybox", "conntrack", "iptables"})
		if err != nil {
			return images.Image{}, err
		}
		var links []images.File
		for _, cmd := range []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"} {
			links = append(links, symlink("usr/sbin/"+cmd, strings.Replace(cmd, "tables", "tables-nft", 1)))
		}
		files, err := b.rootfsFiles(root, links...)
		if err != nil {
			return images.Image{}, err
		}
		return images.Image{Files: files, Cmd: []string{"/bin/sh"}}, nil
	}},
	{name: e2e + "apparmor-loader:1.4", build: func(b *builder) (images.Image, error) {
		root, err := b.debRootfs("apparmor", []string{"apparmor", "busybox"})
		if err != nil {
			return images.Image{}, err
		}
		loader, err := b.goBinary("k8s.io/kubernetes/test/images/apparmor-loader", "apparmor-loader")
		if err != nil {
			return images.Image{}, err
		}
		files, err := b.rootfsFiles(root, images.File{Path: "usr/bin/loader", Mode: 0o755, Source: loader})
		if err != nil {
			return images.Image{}, err
		}
		return images.Image{Files: files, Entrypoint: []string{"/usr/bin/loader", "-logtostderr", "-v=2"}, Cmd: []string{"/profiles"}}, nil
	}},
}

// accounts are the users and groups of the images with Debian packages.
// agnhost's tests rely on user-defined-in-image (uid 1000) being a member
// of group-defined-in-image (gid 50000); nginx runs its workers as nginx
// (101), as upstream's image does.
const (
	passwd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/sbin/nologin
bin:x:2:2:bin:/bin:/sbin/nologin
nginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin
user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
`
	group = `root:x:0:
daemon:x:1:
bin:x:2:
nginx:x:101:nginx
user-defined-in-image:x:1000:
group-defined-in-image:x:50000:user-defined-in-image
nogroup:x:65534:
`
	nsswitch = `passwd: files
group: files
shadow: files
hosts: files dns
networks: files
protocols: files
services: files
`
	debianRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
`
	// The image volume test reads etc/os-release of kitten (built on
	// agnhost) and expects upstream's base, Alpine, to be named.
	agnhostRelease = `NAME="Capstan agnhost"
ID=capstan-agnhost
ID_LIKE=alpine
PRETTY_NAME="Capstan agnhost: stands in for Alpine Linux 3.21; programs from Debian 12 packages and busybox"
`
)

// rootfsFiles lists an extracted package set, which must include Debian's
// busybox package, with links to busybox for the commands that neither the
// packages nor extra provide, then extra and the files every image with a
// shell has. Debian's dynamically linked busybox is used here rather than
// busybox-static: the static build's shell runs its own applets in
// preference to the programs on PATH (`sh -c "nc ..."` would not run
// OpenBSD nc).
func (b *builder) rootfsFiles(root string, extra ...images.File) ([]images.File, error) {
	files, err := images.TreeFiles(root, "")
	if err != nil {
		return nil, err
	}
	bb := filepath.Join(root, "bin/busybox")
	list, err := run("", bb, "--list-full")
	if err != nil {
		return nil, fmt.Errorf("listing the applets of %s: %w", bb, err)
	}
	have := map[string]bool{}
	for _, f := range extra {
		have[path.Base(f.Path)] = true
	}
	for _, a := range strings.Fields(list) {
		a = strings.TrimPrefix(a, "/")
		name := path.Base(a)
		if a == "bin/busybox" || have[name] || provided(root, name) {
			continue
		}
		files = append(files, images.File{Path: a, Link: "bin/busybox"})
	}
	files = append(files, extra...)
	return append(files,
		text("etc/passwd", passwd),
		text("etc/group", group),
		text("etc/nsswitch.conf", nsswitch),
		text("etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"),
		text("etc/resolv.conf", ""),
		text("etc/os-release", debianRelease),
		dir("root", 0o700),
		dir("home/user-defined-in-image", 0o755),
		dir("tmp", fs.ModeSticky|0o777),
		dir("var/tmp", fs.ModeSticky|0o777),
		dir("run", 0o755),
		dir("proc", 0o555),
		dir("sys", 0o555),
		dir("dev", 0o755),
	), nil
}

// toolsLayer is the base of agnhost and of the images that only need its
// tools: the command-line tools upstream's agnhost Dockerfile installs
// (dig, curl, OpenBSD nc, iproute2, iperf, bash, util-linux, socat) and
// glibc's getent, from Debian 12, with busybox for the rest.
func (b *builder) toolsLayer() (string, error) {
	root, err := b.debRootfs("tools", []string{
		"bash", "bind9-dnsutils", "busybox", "curl", "iperf", "iproute2",
		"libc-bin", "netbase", "netcat-openbsd", "socat", "util-linux",
	})
	if err != nil {
		return "", err
	}
	files, err := b.rootfsFiles(root,
		// Debian names these through update-alternatives, which
		// extracting a package does not run.
		symlink("bin/nc", "nc.openbsd"),
		symlink("bin/netcat", "nc.openbsd"),
		symlink("usr/local/bin/iperf", "/usr/bin/iperf"),
	)
	if err != nil {
		return "", err
	}
	return b.layer("tools", files)
}

// agnhost is upstream's agnhost image: the agnhost program at /agnhost on
// the tools layer, with the files its subcommands and tests expect.
func (b *builder) agnhost() (images.Image, error) {
	tools, err := b.toolsLayer()
	if err != nil {
		return images.Image{}, err
	}
	bin, err := b.goBinary("k8s.io/kubernetes/test/images/agnhost", "agnhost")
	if err != nil {
		return images.Image{}, err
	}
	// fake-registry-server serves pause as pause:testing, as upstream's
	// image does.
	if err := b.nodeImages(); err != nil {
		return images.Image{}, err
	}
	registry, err := registryFiles(filepath.Join(b.out, images.ArchiveName(images.PauseImage)), "var/registry/pause", "testing")
	if err != nil {
		return images.Image{}, err
	}
	layer, err := b.layer("agnhost", append(registry,
		images.File{Path: "agnhost", Mode: 0o755, Source: bin},
		// Entrypoint tests override the command with agnhost-2.
		symlink("agnhost-2", "agnhost"),
		// porter's and the TLS probes' certificate.
		images.File{Path: "localhost.crt", Mode: 0o644, Source: b.moduleFile("test/images/agnhost/porter/localhost.crt")},
		images.File{Path: "localhost.key", Mode: 0o644, Source: b.moduleFile("test/images/agnhost/porter/localhost.key")},
		// netexec's upload folder.
		dir("uploads", 0o755),
		text("etc/os-release", agnhostRelease),
	))
	if err != nil {
		return images.Image{}, err
	}
	return images.Image{
		Layers:       []string{tools, layer},
		Entrypoint:   []string{"/agnhost"},
		Cmd:          []string{"pause"},
		ExposedPorts: []string{"80/tcp", "8080/tcp", "8081/tcp", "9376/tcp", "5000/tcp"},
	}, nil
}

// registryFiles lays out the image in an OCI archive the way agnhost's
// fake-registry-server reads a repository under dir: manifests/<tag> holds
// the index's digest, and each manifest and blob is at
// {manifests,blobs}/sha256/<first two hex digits>/<hex>/data.
func registryFiles(archive, dir, tag string) ([]images.File, error) {
	index, blobs, err := images.ReadArchive(archive)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", archive, err)
	}
	var idx, manifest struct {
		Manifests []struct{ Digest string }
		Config    struct{ Digest string }
		Layers    []struct{ Digest string }
	}
	if err := json.Unmarshal(index, &idx); err != nil || len(idx.Manifests) != 1 {
		return nil, fmt.Errorf("%s: want an index of one manifest (%v)", archive, err)
	}
	hex := func(digest string) string { return strings.TrimPrefix(digest, "sha256:") }
	mHex := hex(idx.Manifests[0].Digest)
	if err := json.Unmarshal(blobs["sha256:"+mHex], &manifest); err != nil {
		return nil, fmt.Errorf("%s: manifest: %w", archive, err)
	}
	sum := sha256.Sum256(index)
	indexHex := fmt.Sprintf("%x", sum)
	at := func(kind, h string, data []byte) images.File {
		return images.File{Path: path.Join(dir, kind, "sha256", h[:2], h, "data"), Mode: 0o644, Data: data}
	}
	files := []images.File{
		text(path.Join(dir, "manifests", tag), "sha256:"+indexHex+"\n"),
		at("manifests", indexHex, index),
		at("manifests", mHex, blobs["sha256:"+mHex]),
	}
	for _, d := range append([]struct{ Digest string }{manifest.Config}, manifest.Layers...) {
		h := hex(d.Digest)
		data, ok := blobs[d.Digest]
		if !ok {
			return nil, fmt.Errorf("%s: no blob %s", archive, d.Digest)
		}
		files = append(files, at("blobs", h, data))
	}
	return files, nil
}

// updateDemo is kitten or nautilus: agnhost serving its root folder, which
// holds the picture and a data.json naming it.
func (b *builder) updateDemo(name string) (images.Image, error) {
	img, err := b.agnhost()
	if err != nil {
		return img, err
	}
	html := "test/images/" + name + "/html/"
	img.Files = []images.File{
		{Path: name + ".jpg", Mode: 0o644, Source: b.moduleFile(html + name + ".jpg")},
		{Path: "data.json", Mode: 0o644, Source: b.moduleFile(html + "data.json")},
	}
	img.Cmd = []string{"test-webserver"}
	return img, nil
}

const (
	nginxConf = `user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /run/nginx.pid;

events {
    worker_connections  1024;
}

http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    keepalive_timeout  65;

    include /etc/nginx/conf.d/*.conf;
}
`
	nginxDefault = `server {
    listen       80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
`
	// Like upstream's entrypoint: listen on IPv6 too where the pod has
	// it, unless the configuration was changed (or is read-only).
	nginxEntrypoint = `#!/bin/sh
conf=/etc/nginx/conf.d/default.conf
if [ "$1" = nginx ] && [ -e /proc/net/if_inet6 ] && [ -w "$conf" ] && ! grep -q '\[::\]:80' "$conf"; then
  sed -i 's/^    listen       80;$/&\n    listen  [::]:80;/' "$conf" 2>/dev/null || true
fi
exec "$@"
`
	nginx50x = `<!DOCTYPE html>
<html>
<head><title>Error</title></head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.</p>
</body>
</html>
`
)

// nginx is Debian's nginx serving its welcome page on port 80 with the
// configuration layout of the official nginx image (conf.d/default.conf,
// logs to the container's output), and busybox for a shell.
func (b *builder) nginx() (images.Image, error) {
	root, err := b.debRootfs("nginx", []string{"busybox", "nginx"})
	if err != nil {
		return images.Image{}, err
	}
	files, err := b.rootfsFiles(root,
		text("etc/nginx/nginx.conf", nginxConf),
		text("etc/nginx/conf.d/default.conf", nginxDefault),
		text("usr/share/nginx/html/50x.html", nginx50x),
		images.File{Path: "docker-entrypoint.sh", Mode: 0o755, Data: []byte(nginxEntrypoint)},
		symlink("var/log/nginx/access.log", "/dev/stdout"),
		symlink("var/log/nginx/error.log", "/dev/stderr"),
		dir("var/lib/nginx", 0o755),
		dir("var/cache/nginx", 0o755),
	)
	if err != nil {
		return images.Image{}, err
	}
	return images.Image{
		Files:        files,
		Entrypoint:   []string{"/docker-entrypoint.sh"},
		Cmd:          []string{"nginx", "-g", "daemon off;"},
		ExposedPorts: []string{"80/tcp"},
	}, nil
}

// resourceConsumer is the autoscaling tests' load generator: consumer,
// consume-cpu where consumer runs it (./consume-cpu/consume-cpu from /),
// and Debian's stress for memory.
func (b *builder) resourceConsumer() (images.Image, error) {
	root, err := b.debRootfs("stress", []string{"busybox", "stress"})
	if err != nil {
		return images.Image{}, err
	}
	consumer, err := b.goBinary("k8s.io/kubernetes/test/images/resource-consumer", "consumer")
	if err != nil {
		return images.Image{}, err
	}
	cpu, err := b.goBinary("k8s.io/kubernetes/test/images/resource-consumer/consume-cpu", "consume-cpu")
	if err != nil {
		return images.Image{}, err
	}
	files, err := b.rootfsFiles(root,
		images.File{Path: "consumer", Mode: 0o755, Source: consumer},
		images.File{Path: "consume-cpu/consume-cpu", Mode: 0o755, Source: cpu},
	)
	if err != nil {
		return images.Image{}, err
	}
	return images.Image{Files: files, Entrypoint: []string{"/consumer"}, ExposedPorts: []string{"8080/tcp"}}, nil
}

// small is one program from the Kubernetes module on busybox, the shape of
// upstream's Alpine-based single-program images. file gives the program's
// path and mode in the image; img its configuration.
func (b *builder) small(pkg, name string, file images.File, img images.Image) (images.Image, error) {
	bin, err := b.goBinary(pkg, name)
	if err != nil {
		return img, err
	}
	base, err := images.Busybox(b.busybox)
	if err != nil {
		return img, err
	}
	file.Source = bin
	img.Files = append(base.Files, file)
	return img, nil
}
