package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/capstan-dev/capstan/apiserver/bootstrap"
	"github.com/capstan-dev/capstan/apiserver/etcd"
	"github.com/capstan-dev/capstan/apiserver/pki"
	"github.com/capstan-dev/capstan/controllers/manager"
	"github.com/capstan-dev/capstan/scheduler"
)

// Server is a started `capstan server`.
type Server struct {
	// Kubeconfig is the admin kubeconfig written under the data directory.
	Kubeconfig string
	// URL is where the server listens, as written to the kubeconfig.
	URL string
	// LoopbackConfig is the server's own privileged client configuration.
	LoopbackConfig *rest.Config

	done        chan error
	etcdServers []string
}

// CompactEtcd compacts etcd's history up to its current revision. Tests use
// it to reach "410 Gone" without waiting for the periodic compaction.
func (s *Server) CompactEtcd(ctx context.Context) error {
	c, err := clientv3.New(clientv3.Config{Endpoints: s.etcdServers, DialTimeout: 10 * time.Second})
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Get(ctx, "compact-probe")
	if err != nil {
		return err
	}
	_, err = c.Compact(ctx, resp.Header.Revision, clientv3.WithCompactPhysical())
	return err
}

// Done yields the server's result once it has stopped.
func (s *Server) Done() <-chan error { return s.done }

// AdminConfig reads the admin kubeconfig into a client configuration.
func (s *Server) AdminConfig() (*rest.Config, error) {
	return clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
}

// Run starts the server and blocks until ctx is cancelled and it has shut down.
func Run(ctx context.Context, o *Options) error {
	s, err := Start(ctx, o)
	if err != nil {
		return err
	}
	return <-s.Done()
}

// Start validates the options, creates credentials, starts etcd (unless
// external servers are named) and the server chain, and returns without
// waiting for readiness. Cancelling ctx shuts everything down; Done reports
// when that has finished. If a step fails, what was started is stopped.
func Start(ctx context.Context, o *Options) (*Server, error) {
	if err := o.Complete(); err != nil {
		return nil, err
	}
	if errs := o.Validate(); len(errs) > 0 {
		return nil, utilerrors.NewAggregate(errs)
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, err
	}
	logger := klog.FromContext(ctx)
	layout := pki.Layout{Dir: o.DataDir}
	ca, err := WriteCertificates(o)
	if err != nil {
		return nil, err
	}

	servers := o.EtcdServers
	var member *etcd.Server
	if len(servers) == 0 {
		member, err = etcd.Start(ctx, etcd.Config{Dir: o.DataDir, ClientPort: o.EtcdClientPort, PeerPort: o.EtcdPeerPort})
		if err != nil {
			return nil, err
		}
		servers = []string{member.Endpoint}
		logger.V(2).Info("Embedded etcd ready", "endpoint", member.Endpoint)
	}
	stopEtcd := func() {
		if member != nil {
			member.Stop()
		}
	}

	sc, err := newSharedConfig(o, layout, servers)
	if err != nil {
		stopEtcd()
		return nil, err
	}
	c, err := newChain(sc, o)
	if err != nil {
		stopEtcd()
		return nil, err
	}
	kubeconfig, url, err := WriteAdminKubeconfig(o, ca)
	if err != nil {
		stopEtcd()
		return nil, err
	}
	prepared, err := c.aggregator.PrepareRun()
	if err != nil {
		stopEtcd()
		return nil, err
	}
	sched, err := scheduler.New(scheduler.Config{Client: sc.generic.LoopbackClientConfig})
	if err != nil {
		stopEtcd()
		return nil, err
	}
	s := &Server{Kubeconfig: kubeconfig, URL: url, LoopbackConfig: sc.generic.LoopbackClientConfig, done: make(chan error, 1), etcdServers: servers}
	// The apiserver outlives the scheduler and the controllers on shutdown:
	// they stop first, so that they can still release their leases through it.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ctrlCtx, ctrlCancel := context.WithCancel(runCtx)
	var components sync.WaitGroup
	components.Add(2)
	ctrlDone := make(chan struct{})
	go func() {
		components.Wait()
		close(ctrlDone)
	}()
	go func() {
		defer components.Done()
		if err := waitReady(ctrlCtx, s.LoopbackConfig); err != nil {
			return
		}
		if err := manager.Run(ctrlCtx, manager.Config{Client: s.LoopbackConfig, RootCA: ca.CertPEM}); err != nil {
			logger.Error(err, "Controller manager failed")
		}
	}()
	go func() {
		defer components.Done()
		if err := waitReady(ctrlCtx, s.LoopbackConfig); err != nil {
			return
		}
		if err := sched.Run(ctrlCtx); err != nil {
			logger.Error(err, "Scheduler failed")
		}
	}()
	go func() {
		defer cancel()
		result := make(chan error, 1)
		go func() { result <- prepared.Run(runCtx) }()
		stopAll := func() {
			ctrlCancel()
			select {
			case <-ctrlDone:
			case <-time.After(10 * time.Second):
			}
			cancel()
		}
		var err error
		var etcdErr <-chan error
		if member != nil {
			etcdErr = member.Err()
		}
		select {
		case <-ctx.Done():
			stopAll()
			err = <-result
		case err = <-result:
			ctrlCancel()
		case e := <-etcdErr:
			// etcd failing takes the whole process down through the same path as a signal.
			stopAll()
			err = errors.Join(fmt.Errorf("embedded etcd: %w", e), <-result)
		}
		<-ctrlDone
		stopEtcd()
		s.done <- err
	}()
	return s, nil
}

// waitReady polls /readyz through the loopback client until it answers ok.
func waitReady(ctx context.Context, cfg *rest.Config) error {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	return wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		status := 0
		client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).StatusCode(&status)
		return status == http.StatusOK, nil
	})
}

// servingLeaf lists every name and address clients use to reach the server.
func servingLeaf(o *Options, serviceIP net.IP) pki.Leaf {
	leaf := pki.Leaf{
		CommonName: "kube-apiserver",
		Server:     true,
		DNSNames:   []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPs:        []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback, serviceIP},
	}
	if host, err := os.Hostname(); err == nil && host != "" {
		leaf.DNSNames = append(leaf.DNSNames, host)
	}
	seen := map[string]bool{}
	for _, ip := range leaf.IPs {
		seen[ip.String()] = true
	}
	add := func(ip net.IP) {
		if ip != nil && !ip.IsUnspecified() && !ip.IsLinkLocalUnicast() && !seen[ip.String()] {
			seen[ip.String()] = true
			leaf.IPs = append(leaf.IPs, ip)
		}
	}
	add(o.AdvertiseAddress)
	add(o.BindAddress)
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				add(n.IP)
			}
		}
	}
	return leaf
}

func kubeconfigHost(o *Options) string {
	if o.BindAddress == nil || o.BindAddress.IsUnspecified() || o.BindAddress.IsLoopback() {
		return "127.0.0.1"
	}
	return o.BindAddress.String()
}

// WriteCertificates creates, or keeps when they are still valid, the cluster
// CA, the serving certificate, the admin and node-client certificates, the
// front-proxy CA and client and the service account key in o.DataDir. Start
// calls it; `capstan certs` calls it alone, for a control plane run from
// other binaries on the same files.
func WriteCertificates(o *Options) (*pki.CA, error) {
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, err
	}
	layout := pki.Layout{Dir: o.DataDir}
	ca, err := pki.LoadOrCreateCA(layout.CA(), "capstan-ca")
	if err != nil {
		return nil, err
	}
	cidrs, err := ParseServiceCIDRs(o.ServiceClusterIPRange)
	if err != nil {
		return nil, err
	}
	if err := ca.EnsureLeaf(layout.Serving(), servingLeaf(o, bootstrap.FirstIP(cidrs[0]))); err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	if err := ca.EnsureLeaf(layout.Admin(), pki.Leaf{CommonName: "kubernetes-admin", Organization: []string{"system:masters"}, Client: true}); err != nil {
		return nil, fmt.Errorf("admin certificate: %w", err)
	}
	if err := ca.EnsureLeaf(layout.NodeClient(), pki.Leaf{CommonName: "capstan-apiserver-node-client", Organization: []string{"system:masters"}, Client: true}); err != nil {
		return nil, fmt.Errorf("node client certificate: %w", err)
	}
	proxyCA, err := pki.LoadOrCreateCA(layout.FrontProxyCA(), "capstan-front-proxy-ca")
	if err != nil {
		return nil, err
	}
	if err := proxyCA.EnsureLeaf(layout.FrontProxyClient(), pki.Leaf{CommonName: "front-proxy-client", Client: true}); err != nil {
		return nil, err
	}
	if _, err := pki.EnsureKey(layout.ServiceAccountKey()); err != nil {
		return nil, err
	}
	return ca, nil
}

// WriteAdminKubeconfig writes the admin kubeconfig for the server o
// describes into o.DataDir and returns its path and the server URL.
func WriteAdminKubeconfig(o *Options, ca *pki.CA) (path, url string, err error) {
	url = "https://" + net.JoinHostPort(kubeconfigHost(o), strconv.Itoa(o.SecurePort))
	path = filepath.Join(o.DataDir, "admin.kubeconfig")
	return path, url, pki.WriteKubeconfig(path, url, ca.CertPEM, pki.Layout{Dir: o.DataDir}.Admin(), "admin")
}
