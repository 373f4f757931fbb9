// Package cni writes the node's pod network configuration: a bridge with
// host-local addresses from the node's pod CIDR, plus port mappings. The
// runtime (containerd's CRI plugin) runs the plugins for every sandbox.
package cni

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
)

// Config describes the node's pod network.
type Config struct {
	// ConfDir is the runtime's CNI configuration directory.
	ConfDir string
	// PodCIDR is the node's pod address range.
	PodCIDR string
	// Bridge is the Linux bridge name (at most 15 characters).
	Bridge string
	// DataDir keeps host-local's allocations, per node.
	DataDir string
}

// Write writes the configuration list atomically, so the runtime never
// reads half a file.
func Write(c Config) error {
	_, ipnet, err := net.ParseCIDR(c.PodCIDR)
	if err != nil {
		return fmt.Errorf("pod CIDR %q: %w", c.PodCIDR, err)
	}
	if len(c.Bridge) > 15 {
		return fmt.Errorf("bridge name %q is longer than 15 characters", c.Bridge)
	}
	conf := map[string]any{
		"cniVersion": "0.4.0",
		"name":       "capstan-" + c.Bridge,
		"plugins": []any{
			map[string]any{
				"type":        "bridge",
				"bridge":      c.Bridge,
				"isGateway":   true,
				"ipMasq":      true,
				"hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": c.DataDir,
					"ranges":  [][]map[string]string{{{"subnet": ipnet.String()}}},
					"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.ConfDir, 0o755); err != nil {
		return err
	}
	dst := filepath.Join(c.ConfDir, "10-capstan.conflist")
	if old, err := os.ReadFile(dst); err == nil && string(old) == string(data) {
		return nil
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// ForgetNeighbor drops the node's cached link-layer address of a pod IP on
// the bridge. host-local hands out addresses again after a pod is gone, and a
// stale entry would send the new pod's traffic to the old pod's MAC until the
// kernel re-probes (several seconds).
func ForgetNeighbor(bridge, ip string) {
	_ = exec.Command("ip", "neigh", "del", ip, "dev", bridge).Run()
}
