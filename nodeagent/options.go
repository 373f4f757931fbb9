package nodeagent

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/nodeagent/containerd"
	"github.com/capstan-dev/capstan/nodeagent/images"
)

// Options are the agent's command-line options.
type Options struct {
	Kubeconfig string
	Server     string
	NodeName   string
	NodeIP     string
	RootDir    string
	// RuntimeEndpoint is the CRI socket; with StartContainerd the agent
	// starts a private containerd under RootDir and uses it.
	RuntimeEndpoint string
	StartContainerd bool
	CNIConfDir      string
	PodCIDR         string
	Bridge          string
	ClusterDNS      []string
	ClusterDomain   string
	Address         string
	Port            int
	TLSCertFile     string
	TLSKeyFile      string
	ClientCAFile    string
	// ImageArchiveDir holds OCI image archives imported into the runtime
	// at start (images a node needs without a registry, like pause).
	ImageArchiveDir string
	// RegistryConfigDir is the started containerd's registry hosts
	// directory (<registry>/hosts.toml, e.g. a loopback mirror).
	RegistryConfigDir string
	// PodManifestPath is a directory of static pod manifests.
	PodManifestPath string
	NodeLabels      map[string]string
	Taints          []string
	Version         string
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	host, _ := os.Hostname()
	return &Options{
		NodeName:        strings.ToLower(host),
		RootDir:         "/var/lib/capstan-agent",
		RuntimeEndpoint: "unix:///run/containerd/containerd.sock",
		ClusterDomain:   "cluster.local",
		Address:         "0.0.0.0",
		Port:            10250,
	}
}

// AddFlags registers the options on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Kubeconfig with the node's own credentials (see `capstan node-credentials`).")
	fs.StringVar(&o.Server, "server", o.Server, "URL of the API server; overrides the kubeconfig's.")
	fs.StringVar(&o.NodeName, "node-name", o.NodeName, "Name of the Node.")
	fs.StringVar(&o.NodeIP, "node-ip", o.NodeIP, "The node's InternalIP; defaults to the host's primary address.")
	fs.StringVar(&o.RootDir, "root-dir", o.RootDir, "Directory for pods' volumes, logs and the private containerd.")
	fs.StringVar(&o.RuntimeEndpoint, "container-runtime-endpoint", o.RuntimeEndpoint, "CRI endpoint of the container runtime.")
	fs.BoolVar(&o.StartContainerd, "start-containerd", o.StartContainerd, "Start a private containerd under --root-dir and use it.")
	fs.StringVar(&o.CNIConfDir, "cni-conf-dir", o.CNIConfDir, "The runtime's CNI configuration directory, where the node's pod network is written.")
	fs.StringVar(&o.PodCIDR, "pod-cidr", o.PodCIDR, "The node's pod address range (defaults to the Node's spec.podCIDR).")
	fs.StringVar(&o.Bridge, "bridge", o.Bridge, "Name of the pod bridge (defaults to capstan0).")
	fs.StringSliceVar(&o.ClusterDNS, "cluster-dns", o.ClusterDNS, "DNS server addresses for pods with dnsPolicy ClusterFirst.")
	fs.StringVar(&o.ClusterDomain, "cluster-domain", o.ClusterDomain, "The cluster's DNS domain.")
	fs.StringVar(&o.Address, "address", o.Address, "Address of the agent API.")
	fs.IntVar(&o.Port, "port", o.Port, "Port of the agent API.")
	fs.StringVar(&o.TLSCertFile, "tls-cert-file", o.TLSCertFile, "Serving certificate of the agent API.")
	fs.StringVar(&o.TLSKeyFile, "tls-private-key-file", o.TLSKeyFile, "Key of the serving certificate.")
	fs.StringVar(&o.ClientCAFile, "client-ca-file", o.ClientCAFile, "CA whose client certificates the agent API accepts.")
	fs.StringVar(&o.RegistryConfigDir, "registry-config-dir", o.RegistryConfigDir, "With --start-containerd: containerd's registry hosts directory (<registry>/hosts.toml), e.g. to pull through a mirror.")
	fs.StringVar(&o.ImageArchiveDir, "image-archive-dir", o.ImageArchiveDir, "Directory of OCI image archives to import into the runtime at start.")
	fs.StringVar(&o.PodManifestPath, "pod-manifest-path", o.PodManifestPath, "Directory of static pod manifests, run without the API and mirrored into it.")
	fs.StringToStringVar(&o.NodeLabels, "node-labels", o.NodeLabels, "Labels to add to the Node.")
	fs.StringSliceVar(&o.Taints, "register-with-taints", o.Taints, "Taints (key=value:Effect) to register the Node with.")
}

// RunWithOptions validates o, starts the private containerd when asked,
// imports image archives and runs the agent until ctx ends.
func RunWithOptions(ctx context.Context, o *Options) error {
	logger := klog.FromContext(ctx)
	if o.Kubeconfig == "" {
		return fmt.Errorf("--kubeconfig is required: the agent runs with its own node credentials")
	}
	overrides := &clientcmd.ConfigOverrides{}
	if o.Server != "" {
		overrides.ClusterInfo.Server = o.Server
	}
	restCfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: o.Kubeconfig}, overrides).ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	var ip net.IP
	if o.NodeIP != "" {
		if ip = net.ParseIP(o.NodeIP); ip == nil {
			return fmt.Errorf("--node-ip %q is not an IP address", o.NodeIP)
		}
	} else {
		ip = hostIP()
	}
	taints, err := parseTaints(o.Taints)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.RootDir, 0o755); err != nil {
		return err
	}
	endpoint, cniDir := o.RuntimeEndpoint, o.CNIConfDir
	if o.StartContainerd {
		p, err := containerd.Start(ctx, containerd.Config{Dir: filepath.Join(o.RootDir, "containerd"), SandboxImage: images.PauseImage, RegistryConfigDir: o.RegistryConfigDir})
		if err != nil {
			return err
		}
		defer p.Stop()
		endpoint = p.Endpoint()
		if cniDir == "" {
			cniDir = p.CNIConfD
		}
		logger.Info("Started containerd", "pid", p.Pid(), "endpoint", endpoint)
	}
	if o.ImageArchiveDir != "" {
		if err := importArchives(o.ImageArchiveDir, strings.TrimPrefix(endpoint, "unix://")); err != nil {
			return err
		}
	}
	return Run(ctx, Config{
		Client: restCfg, NodeName: o.NodeName, NodeIP: ip, RootDir: o.RootDir, RuntimeEndpoint: endpoint,
		CNIConfDir: cniDir, PodCIDR: o.PodCIDR, Bridge: o.Bridge, ClusterDNS: o.ClusterDNS, ClusterDomain: o.ClusterDomain,
		Address: o.Address, Port: o.Port, TLSCert: o.TLSCertFile, TLSKey: o.TLSKeyFile, ClientCA: o.ClientCAFile,
		Version: o.Version, Labels: o.NodeLabels, Taints: taints, PodManifestPath: o.PodManifestPath,
	})
}

// importArchives loads every *.tar in dir whose image the runtime lacks.
func importArchives(dir, socket string) error {
	entries, err := filepath.Glob(filepath.Join(dir, "*.tar"))
	if err != nil {
		return err
	}
	ctr := images.Ctr{Address: socket}
	for _, a := range entries {
		name, err := images.ArchiveImageName(a)
		if err != nil {
			return err
		}
		if name != "" && ctr.Has(name) {
			continue
		}
		if err := ctr.Import(a); err != nil {
			return err
		}
	}
	return nil
}

func parseTaints(specs []string) ([]corev1.Taint, error) {
	var out []corev1.Taint
	for _, s := range specs {
		kv, effect, ok := strings.Cut(s, ":")
		if !ok {
			return nil, fmt.Errorf("taint %q: want key[=value]:Effect", s)
		}
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, corev1.Taint{Key: k, Value: v, Effect: corev1.TaintEffect(effect)})
	}
	return out, nil
}

// hostIP is the address of the interface holding the default route.
func hostIP() net.IP {
	conn, err := net.Dial("udp", "10.255.255.255:9")
	if err == nil {
		defer conn.Close()
		return conn.LocalAddr().(*net.UDPAddr).IP
	}
	return net.ParseIP("127.0.0.1")
}
