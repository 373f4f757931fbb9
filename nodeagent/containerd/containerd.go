// Package containerd starts a private containerd for one node: its own root,
// state directory, socket and CNI configuration directory, with the CRI
// plugin on, so that several nodes (or tests) can share a machine.
package containerd

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Config describes the containerd to start.
type Config struct {
	// Dir holds root/, state/, the socket, cni/net.d and containerd.log.
	Dir string
	// Binary is the containerd executable ("containerd" from PATH when empty).
	Binary string
	// SandboxImage is the pause image the CRI plugin uses.
	SandboxImage string
	// CNIBinDir is where the CNI plugins are (Debian: /usr/lib/cni).
	CNIBinDir string
	// RegistryConfigDir, when set, is containerd's certs.d directory
	// (hosts.toml per registry, for a loopback mirror).
	RegistryConfigDir string
}

// Process is a running containerd.
type Process struct {
	cmd      *exec.Cmd
	Socket   string
	CNIConfD string
	exited   chan struct{}
	err      error
}

// Endpoint is the CRI endpoint of the process.
func (p *Process) Endpoint() string { return "unix://" + p.Socket }

// Pid is the process id of containerd.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Available reports whether containerd and runc are installed.
func Available(binary string) bool {
	if binary == "" {
		binary = "containerd"
	}
	if _, err := exec.LookPath(binary); err != nil {
		return false
	}
	_, err := exec.LookPath("runc")
	return err == nil
}

// CNIBinDir finds the directory holding the CNI plugins.
func CNIBinDir() string {
	for _, d := range []string{"/usr/lib/cni", "/opt/cni/bin"} {
		if _, err := os.Stat(filepath.Join(d, "bridge")); err == nil {
			return d
		}
	}
	return "/opt/cni/bin"
}

func (c Config) toml() string {
	dir := c.Dir
	var b strings.Builder
	fmt.Fprintf(&b, "version = 2\nroot = %q\nstate = %q\n", filepath.Join(dir, "root"), filepath.Join(dir, "state"))
	fmt.Fprintf(&b, "disabled_plugins = [\"io.containerd.snapshotter.v1.aufs\", \"io.containerd.snapshotter.v1.btrfs\", \"io.containerd.snapshotter.v1.zfs\", \"io.containerd.snapshotter.v1.devmapper\"]\n")
	fmt.Fprintf(&b, "[grpc]\n  address = %q\n", filepath.Join(dir, "containerd.sock"))
	fmt.Fprintf(&b, "[ttrpc]\n  address = %q\n", filepath.Join(dir, "containerd.sock.ttrpc"))
	fmt.Fprintf(&b, "[debug]\n  address = \"\"\n[metrics]\n  address = \"\"\n")
	fmt.Fprintf(&b, "[plugins.\"io.containerd.internal.v1.opt\"]\n  path = %q\n", filepath.Join(dir, "opt"))
	fmt.Fprintf(&b, "[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = %q\n  stream_server_address = \"127.0.0.1\"\n  stream_server_port = \"0\"\n  enable_selinux = false\n  max_container_log_line_size = 16384\n  restrict_oom_score_adj = true\n", c.SandboxImage)
	fmt.Fprintf(&b, "  [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n    snapshotter = \"overlayfs\"\n    default_runtime_name = \"runc\"\n")
	fmt.Fprintf(&b, "    [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n      runtime_type = \"io.containerd.runc.v2\"\n")
	// runc's state under the node's own directory, not the machine-wide
	// /run/containerd/runc shared by every containerd.
	fmt.Fprintf(&b, "      [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n        Root = %q\n", filepath.Join(dir, "runc"))
	// "test-handler" is the RuntimeClass handler the upstream e2e tests
	// expect every node to have: runc under another name.
	fmt.Fprintf(&b, "    [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.test-handler]\n      runtime_type = \"io.containerd.runc.v2\"\n")
	fmt.Fprintf(&b, "      [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.test-handler.options]\n        Root = %q\n", filepath.Join(dir, "runc"))
	fmt.Fprintf(&b, "  [plugins.\"io.containerd.grpc.v1.cri\".cni]\n    bin_dir = %q\n    conf_dir = %q\n", c.CNIBinDir, filepath.Join(dir, "cni", "net.d"))
	if c.RegistryConfigDir != "" {
		fmt.Fprintf(&b, "  [plugins.\"io.containerd.grpc.v1.cri\".registry]\n    config_path = %q\n", c.RegistryConfigDir)
	}
	return b.String()
}

// Start writes the configuration and starts containerd, returning once its
// socket answers. The process ends when ctx is cancelled or Stop is called.
func Start(ctx context.Context, c Config) (*Process, error) {
	if c.Binary == "" {
		c.Binary = "containerd"
	}
	if c.CNIBinDir == "" {
		c.CNIBinDir = CNIBinDir()
	}
	abs, err := filepath.Abs(c.Dir)
	if err != nil {
		return nil, err
	}
	c.Dir = abs
	confD := filepath.Join(c.Dir, "cni", "net.d")
	if err := os.MkdirAll(confD, 0o755); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(c.Dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(c.toml()), 0o644); err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(filepath.Join(c.Dir, "containerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	socket := filepath.Join(c.Dir, "containerd.sock")
	cmd := exec.Command(c.Binary, "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so a terminal's ^C reaches the agent first and
	// the agent decides; Pdeathsig ends it if the parent dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting containerd: %w", err)
	}
	p := &Process{cmd: cmd, Socket: socket, CNIConfD: confD, exited: make(chan struct{})}
	// Whoever started the agent can find (and stop) containerd by its PID.
	_ = os.WriteFile(filepath.Join(c.Dir, "containerd.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	go func() {
		select {
		case <-ctx.Done():
			p.Stop()
		case <-p.exited:
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("unix", socket, time.Second)
		if err == nil {
			conn.Close()
			return p, nil
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("containerd exited: %v (see %s)", p.err, logFile.Name())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("containerd socket %s did not answer within 30s", socket)
		}
	}
}

// Stop terminates containerd (SIGTERM, then SIGKILL after 10 s) and waits.
// Containers it started keep running under their shims.
func (p *Process) Stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }
