package nodeagent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	remote "k8s.io/cri-client/pkg"
	"k8s.io/klog/v2"
	utilexec "k8s.io/utils/exec"

	"github.com/capstan-dev/capstan/nodeagent/cni"
	"github.com/capstan-dev/capstan/nodeagent/nodestatus"
	"github.com/capstan-dev/capstan/nodeagent/podenv"
	"github.com/capstan-dev/capstan/nodeagent/pods"
	"github.com/capstan-dev/capstan/nodeagent/probe"
	"github.com/capstan-dev/capstan/nodeagent/server"
	"github.com/capstan-dev/capstan/nodeagent/staticpods"
	"github.com/capstan-dev/capstan/nodeagent/volumes"
)

// Config is the agent's validated configuration.
type Config struct {
	// Client is the agent's own identity towards the apiserver
	// (system:node:<name>).
	Client   *rest.Config
	NodeName string
	NodeIP   net.IP
	// RootDir holds pods/ and logs/.
	RootDir string
	// RuntimeEndpoint is the CRI socket (unix:///...).
	RuntimeEndpoint string
	// CNIConfDir is the runtime's CNI configuration directory; empty leaves
	// pod networking to whoever configured the runtime.
	CNIConfDir string
	// PodCIDR for the bridge; when empty the Node's spec.podCIDR is used.
	PodCIDR string
	// Bridge is the name of the node's pod bridge.
	Bridge string
	// ClusterDNS and ClusterDomain for pods' resolvers.
	ClusterDNS    []string
	ClusterDomain string
	// Address and Port of the agent API; TLS files for it and the CA that
	// signs client certificates.
	Address  string
	Port     int
	TLSCert  string
	TLSKey   string
	ClientCA string
	Version  string
	Labels   map[string]string
	// PodManifestPath is a directory of static pod manifests ("" for none).
	PodManifestPath string
	Taints          []corev1.Taint
	SyncPeriod      time.Duration
}

// Run runs the agent until ctx ends. Pods keep running when it returns.
func Run(ctx context.Context, cfg Config) error {
	logger := klog.FromContext(ctx).WithValues("node", cfg.NodeName)
	ctx = klog.NewContext(ctx, logger)
	if cfg.Port == 0 {
		cfg.Port = 10250
	}
	if cfg.Bridge == "" {
		cfg.Bridge = "capstan0"
	}
	clientCfg := rest.CopyConfig(cfg.Client)
	clientCfg.UserAgent = "capstan-agent/" + cfg.Version + " (" + cfg.NodeName + ")"
	clientCfg.QPS, clientCfg.Burst = 50, 100
	client, err := kubernetes.NewForConfig(clientCfg)
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return fmt.Errorf("agent serving certificate: %w", err)
	}
	caPEM, err := os.ReadFile(cfg.ClientCA)
	if err != nil {
		return fmt.Errorf("client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("client CA %s holds no certificate", cfg.ClientCA)
	}

	// The runtime may still be starting.
	var rs internalapi.RuntimeService
	var is internalapi.ImageManagerService
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		var err error
		if rs, err = remote.NewRemoteRuntimeService(ctx, cfg.RuntimeEndpoint, 2*time.Minute, nil, false); err != nil {
			logger.V(2).Info("Waiting for the container runtime", "endpoint", cfg.RuntimeEndpoint, "err", err)
			return false, nil
		}
		if _, err = rs.Version(ctx, "v1"); err != nil {
			logger.V(2).Info("Waiting for the container runtime", "endpoint", cfg.RuntimeEndpoint, "err", err)
			return false, nil
		}
		is, err = remote.NewRemoteImageService(ctx, cfg.RuntimeEndpoint, 2*time.Minute, nil, false)
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("container runtime at %s: %w", cfg.RuntimeEndpoint, err)
	}

	podsDir := filepath.Join(cfg.RootDir, "pods")
	logsDir := filepath.Join(cfg.RootDir, "logs")
	for _, d := range []string{podsDir, logsDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	hostname, _ := os.Hostname()
	reporter := nodestatus.New(nodestatus.Config{
		NodeName: cfg.NodeName, NodeIP: cfg.NodeIP, Hostname: cfg.NodeName, KubeletPort: int32(cfg.Port),
		KubeletVersion: cfg.Version, RootDir: cfg.RootDir, PodCIDR: cfg.PodCIDR, Labels: cfg.Labels, Taints: cfg.Taints,
	}, client, rs, is)
	_ = hostname
	if err := reporter.Register(ctx); err != nil {
		return err
	}
	logger.Info("Node registered")

	// Pod networking: the node's pod CIDR on a bridge of its own.
	if cfg.CNIConfDir != "" {
		cidr := cfg.PodCIDR
		if cidr == "" {
			cidr = reporter.Node().Spec.PodCIDR
		}
		if cidr == "" {
			return errors.New("no pod CIDR: pass one or set the Node's spec.podCIDR")
		}
		if err := cni.Write(cni.Config{ConfDir: cfg.CNIConfDir, PodCIDR: cidr, Bridge: cfg.Bridge, DataDir: filepath.Join(cfg.RootDir, "cni")}); err != nil {
			return err
		}
	}
	go watchNetwork(ctx, rs, reporter)

	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: cfg.NodeName})

	var mgr *pods.Manager
	prober := probe.NewManager(criExecer{rs}, recorder, func(uid types.UID) {
		if mgr != nil {
			mgr.Kick(uid)
		}
	})
	defer prober.Stop()
	vols := volumes.NewManager(client, podsDir, reporter.Node)
	envSrc := podenv.ClientSources{Client: client, CurrentNode: reporter.Node}
	env := func(ctx context.Context, pod *corev1.Pod, c *corev1.Container) ([]podenv.EnvVar, error) {
		return podenv.Env(ctx, envSrc, pod, c)
	}
	mgr = pods.New(pods.Config{
		NodeName: cfg.NodeName, NodeIP: cfg.NodeIP, PodsDir: podsDir, LogsDir: logsDir,
		CgroupRoot: "/capstan/" + cfg.NodeName, ClusterDNS: cfg.ClusterDNS, ClusterDomain: cfg.ClusterDomain,
		SyncPeriod: cfg.SyncPeriod,
		Node:       reporter.Node,
		OnSandboxIP: func(ips []string) {
			for _, ip := range ips {
				cni.ForgetNeighbor(cfg.Bridge, ip)
			}
		},
	}, client, rs, is, vols, prober, env, recorder)

	srv := server.New(server.Config{NodeName: cfg.NodeName, Address: cfg.Address, Port: cfg.Port, Cert: cert, ClientCA: pool},
		client, rs, mgr.Lister(), func(ctx context.Context) (any, error) { return summary(ctx, cfg.NodeName, rs) })
	l, err := srv.Listen()
	if err != nil {
		return fmt.Errorf("agent API: %w", err)
	}
	errs := make(chan error, 1)
	go func() { errs <- srv.Serve(ctx, l) }()
	go mgr.Run(ctx)
	if cfg.PodManifestPath != "" {
		go watchManifests(ctx, cfg.PodManifestPath, cfg.NodeName, mgr)
	}
	go reporter.Run(ctx)
	logger.Info("Node agent running", "address", l.Addr().String(), "runtime", cfg.RuntimeEndpoint)
	select {
	case <-ctx.Done():
		return nil
	case err := <-errs:
		return err
	}
}

// watchNetwork reports the runtime's NetworkReady condition on the node.
func watchNetwork(ctx context.Context, rs internalapi.RuntimeService, r *nodestatus.Reporter) {
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		st, err := rs.Status(ctx, false)
		ready := false
		if err == nil {
			for _, c := range st.GetStatus().GetConditions() {
				if c.Type == runtimeapi.NetworkReady && c.Status {
					ready = true
				}
			}
		}
		r.SetNetworkReady(ready)
	}, time.Second)
}

// criExecer runs probe commands through the CRI.
type criExecer struct{ rs internalapi.RuntimeService }

func (e criExecer) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) ([]byte, []byte, int32, error) {
	stdout, stderr, err := e.rs.ExecSync(ctx, id, cmd, timeout)
	var exit utilexec.CodeExitError
	if errors.As(err, &exit) {
		return stdout, stderr, int32(exit.Code), nil
	}
	if err != nil {
		return stdout, stderr, -1, err
	}
	return stdout, stderr, 0, nil
}

// watchManifests feeds the static pods of dir to the pod manager, reading
// the directory again every 20 s as upstream's file source does.
func watchManifests(ctx context.Context, dir, node string, mgr *pods.Manager) {
	logger := klog.FromContext(ctx)
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		list, errs := staticpods.Read(dir, node)
		for _, err := range errs {
			logger.Error(err, "Reading static pod manifest")
		}
		mgr.SetStaticPods(list)
	}, 20*time.Second)
}
