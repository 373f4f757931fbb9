package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/capstan-dev/capstan/nodeagent/containerd"
	"github.com/capstan-dev/capstan/nodeagent/images"
)

// probe is a command run in the image (or, for a serving image, in its
// running container) that must succeed and print want.
type probe struct {
	args []string
	want string
}

// check says how to tell that an image works. With serve, the image's own
// command (or serveArgs) runs detached, must still run after a moment, and
// the probes run inside it; otherwise each probe runs in a new container.
type check struct {
	serve     bool
	serveArgs []string
	probes    []probe
}

func sh(script, want string) probe { return probe{args: []string{"sh", "-c", script}, want: want} }

// agnhostTools runs the tools tests exec in agnhost pods.
var agnhostTools = sh(`set -e
nc -h 2>&1 | grep -q OpenBSD; ip -V | grep -q iproute2
for t in sh bash dig nslookup curl wget nc ip ss iperf socat ipcs getent timeout seq awk hostname; do command -v $t >/dev/null || { echo missing $t; exit 1; }; done
dig -v 2>&1; curl --version | head -1; ip -V; ss -V; socat -V | head -2 | tail -1
getent hosts localhost
id -G user-defined-in-image
grep -q 'Alpine Linux' /etc/os-release && echo release-ok`, "1000 50000")

var checks = map[string]check{
	images.PauseImage:                                        {serve: true},
	images.BusyboxImage:                                      {probes: []probe{sh("echo hello; id -u", "hello")}},
	e2e + "busybox:1.36.1-1":                                 {probes: []probe{sh("echo hello; id -u", "hello")}},
	e2e + "agnhost:2.66.1":                                   {serve: true, serveArgs: []string{"/agnhost", "netexec", "--http-port=8080", "--udp-port=8081"}, probes: agnhostProbes},
	e2e + "agnhost:2.55":                                     {serve: true, serveArgs: []string{"/agnhost", "netexec", "--http-port=8080", "--udp-port=8081"}, probes: agnhostProbes},
	e2e + "kitten:1.8":                                       {serve: true, probes: []probe{{args: []string{"curl", "-sf", "http://127.0.0.1/data.json"}, want: "kitten.jpg"}}},
	e2e + "nautilus:1.8":                                     {serve: true, probes: []probe{{args: []string{"curl", "-sf", "http://127.0.0.1/data.json"}, want: "nautilus.jpg"}}},
	e2e + "glibc-dns-testing:2.1.1":                          {probes: []probe{sh("dig -v 2>&1 && getent hosts localhost", "localhost")}},
	e2e + "ipc-utils:1.4":                                    {probes: []probe{sh("ipcmk -M 4096 && ipcs -m", "Shared Memory")}},
	e2e + "nginx:1.27.0-2":                                   nginxCheck,
	e2e + "nginx:1.28.0-2":                                   nginxCheck,
	e2e + "nonewprivs:1.4":                                   {probes: []probe{{args: []string{"nnp"}, want: "Effective uid: 0"}}},
	e2e + "nonroot:1.5":                                      {probes: []probe{{args: []string{"id", "-u"}, want: "1234"}}},
	e2e + "regression-issue-74839:1.5":                       {probes: []probe{sh("/regression-issue-74839 2>&1; true", "No valid IP found")}},
	e2e + "sample-apiserver:1.29.2":                          {probes: []probe{{args: []string{"/sample-apiserver", "--help"}, want: "--etcd-servers"}}},
	e2e + "sample-device-plugin:1.7":                         {probes: []probe{sh("/sampledeviceplugin 2>&1; true", "Starting device plugin server")}},
	"registry.k8s.io/etcd:3.7.0-0":                           {serve: true, probes: []probe{{args: []string{"/usr/local/bin/etcd", "--version"}, want: "etcd Version: 3.7.0"}}},
	e2e + "resource-consumer:1.14":                           {serve: true, probes: []probe{sh("stress --version && wget -qO- --post-data= 'http://127.0.0.1:8080/ConsumeCPU?millicores=10&durationSec=1'", "ConsumeCPU")}},
	e2e + "perl:5.26":                                        {probes: []probe{{args: []string{"perl", "-Mbignum=bpi", "-wle", "print bpi(20)"}, want: "3.141592653589793238"}}},
	"registry.k8s.io/build-image/distroless-iptables:v0.9.7": {probes: []probe{sh("iptables --version && ip6tables-save --version && conntrack --version && which conntrack", "nf_tables")}},
	e2e + "apparmor-loader:1.4":                              {probes: []probe{sh("apparmor_parser --version && /usr/bin/loader --help 2>&1; true", "AppArmor parser version")}},
}

var agnhostProbes = []probe{
	agnhostTools,
	sh(`h=$(curl -sf http://127.0.0.1:8080/hostname) && [ "$h" = "$(hostname)" ] && echo tcp-ok`, "tcp-ok"),
	sh(`h=$(echo hostname | nc -u -w 1 127.0.0.1 8081) && [ "$h" = "$(hostname)" ] && echo udp-ok`, "udp-ok"),
	// fake-registry-server serves pause:testing with intact blobs.
	sh(`/agnhost fake-registry-server >/dev/null 2>&1 &
for i in $(seq 30); do curl -sfL http://127.0.0.1:5000/v2/pause/manifests/testing >/tmp/index && break; sleep 0.2; done
m=$(grep -o 'sha256:[0-9a-f]*' /tmp/index | head -1); [ -n "$m" ] || exit 1
curl -sf http://127.0.0.1:5000/v2/pause/manifests/$m >/tmp/manifest
for d in $(grep -o 'sha256:[0-9a-f]*' /tmp/manifest); do curl -sf http://127.0.0.1:5000/v2/pause/blobs/$d | sha256sum | grep -q ${d#sha256:} || exit 1; done
echo registry-ok`, "registry-ok"),
}

var nginxCheck = check{serve: true, probes: []probe{
	{args: []string{"nginx", "-t"}},
	{args: []string{"wget", "-qO-", "http://127.0.0.1/"}, want: "Welcome to nginx"},
}}

// checkAll imports the archives of the images that match into a private
// containerd and runs each image's check, reporting one line per image.
func (b *builder) checkAll(match *regexp.Regexp) error {
	dir, err := os.MkdirTemp("", "capstan-imgcheck-")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := containerd.Start(ctx, containerd.Config{Dir: dir, SandboxImage: images.PauseImage})
	if err != nil {
		return err
	}
	c := ctr{address: p.Socket, runcRoot: filepath.Join(dir, "runc")}
	passed, failed := 0, 0
	for _, r := range recipes {
		if match != nil && !match.MatchString(r.name) {
			continue
		}
		start := time.Now()
		err := (images.Ctr{Address: p.Socket}).Import(filepath.Join(b.out, images.ArchiveName(r.name)))
		if err == nil {
			err = c.check(r.name, checks[r.name])
		}
		if err != nil {
			failed++
			fmt.Printf("FAIL %s: %v\n", r.name, err)
			continue
		}
		passed++
		fmt.Printf("ok   %s (%s)\n", r.name, time.Since(start).Round(time.Millisecond))
	}
	p.Stop()
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return fmt.Errorf("%d images failed their check", failed)
	}
	return nil
}

type ctr struct{ address, runcRoot string }

func (c ctr) cmd(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ctr", append([]string{"--address", c.address, "--namespace", "k8s.io"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("ctr %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

var checkSeq int

func (c ctr) check(image string, ck check) error {
	if ck.probes == nil && !ck.serve {
		return fmt.Errorf("no check defined")
	}
	checkSeq++
	id := fmt.Sprintf("imgcheck-%d-%d", os.Getpid(), checkSeq)
	if !ck.serve {
		for i, pr := range ck.probes {
			args := append([]string{"run", "--rm", "--runc-root", c.runcRoot, image, fmt.Sprintf("%s-%d", id, i)}, pr.args...)
			out, err := c.cmd(time.Minute, args...)
			if err != nil {
				return err
			}
			if !strings.Contains(out, pr.want) {
				return fmt.Errorf("%v printed %q, want %q in it", pr.args, out, pr.want)
			}
		}
		return nil
	}
	args := append([]string{"run", "-d", "--runc-root", c.runcRoot, image, id}, ck.serveArgs...)
	if _, err := c.cmd(time.Minute, args...); err != nil {
		return err
	}
	defer func() {
		_, _ = c.cmd(time.Minute, "task", "rm", "-f", id)
		_, _ = c.cmd(time.Minute, "container", "rm", id)
	}()
	for i, pr := range ck.probes {
		var out string
		var err error
		// The server may still be starting.
		for deadline := time.Now().Add(15 * time.Second); ; {
			out, err = c.cmd(time.Minute, append([]string{"task", "exec", "--exec-id", fmt.Sprintf("probe%d", i), id}, pr.args...)...)
			if err == nil && strings.Contains(out, pr.want) {
				break
			}
			if time.Now().After(deadline) {
				if err != nil {
					return err
				}
				return fmt.Errorf("%v printed %q, want %q in it", pr.args, out, pr.want)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	// A server must outlive its probes (pause and etcd have no shell to
	// probe with, so this is their check).
	time.Sleep(time.Second)
	out, err := c.cmd(time.Minute, "task", "ls")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == id {
			if f[2] != "RUNNING" {
				return fmt.Errorf("the image's command is %s", f[2])
			}
			return nil
		}
	}
	return fmt.Errorf("no task %s", id)
}
