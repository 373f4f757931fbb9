package apiserver

import (
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// Options are the flags of `capstan server`.
type Options struct {
	DataDir          string
	BindAddress      net.IP
	SecurePort       int
	AdvertiseAddress net.IP

	// EtcdServers, when set, replace the embedded etcd.
	EtcdServers []string
	EtcdPrefix  string
	// EtcdClientPort and EtcdPeerPort of the embedded member; 0 picks free ports.
	EtcdClientPort, EtcdPeerPort int

	ServiceClusterIPRange string
	ServiceNodePortRange  string

	// ServiceAccountIssuer is the iss claim of ServiceAccount tokens and the API audience.
	ServiceAccountIssuer string

	ShutdownTimeout time.Duration
}

// NewOptions returns the defaults upstream's kube-apiserver uses where they apply.
func NewOptions() *Options {
	return &Options{
		DataDir:               "capstan-data",
		BindAddress:           net.ParseIP("0.0.0.0"),
		SecurePort:            6443,
		EtcdPrefix:            "/registry",
		ServiceClusterIPRange: "10.96.0.0/12",
		ServiceNodePortRange:  "30000-32767",
		ServiceAccountIssuer:  "https://kubernetes.default.svc.cluster.local",
		ShutdownTimeout:       60 * time.Second,
	}
}

// AddFlags registers the options on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir, "Directory for the embedded etcd data, certificates and admin.kubeconfig.")
	fs.IPVar(&o.BindAddress, "bind-address", o.BindAddress, "Address to serve HTTPS on.")
	fs.IntVar(&o.SecurePort, "secure-port", o.SecurePort, "Port to serve HTTPS on (0 picks a free port).")
	fs.IPVar(&o.AdvertiseAddress, "advertise-address", o.AdvertiseAddress, "Address the kubernetes Service's endpoints point at; defaults to the host's primary address.")
	fs.StringSliceVar(&o.EtcdServers, "etcd-servers", o.EtcdServers, "External etcd servers (scheme://host:port, comma separated); without it an embedded etcd runs under --data-dir.")
	fs.StringVar(&o.EtcdPrefix, "etcd-prefix", o.EtcdPrefix, "Prefix of every key in etcd.")
	fs.IntVar(&o.EtcdClientPort, "embedded-etcd-client-port", o.EtcdClientPort, "Loopback client port of the embedded etcd (0 picks a free port).")
	fs.IntVar(&o.EtcdPeerPort, "embedded-etcd-peer-port", o.EtcdPeerPort, "Loopback peer port of the embedded etcd (0 picks a free port).")
	fs.StringVar(&o.ServiceClusterIPRange, "service-cluster-ip-range", o.ServiceClusterIPRange, "CIDR (or two, comma separated, for dual-stack) from which Service ClusterIPs are allocated.")
	fs.StringVar(&o.ServiceNodePortRange, "service-node-port-range", o.ServiceNodePortRange, "Port range reserved for NodePort Services.")
	fs.StringVar(&o.ServiceAccountIssuer, "service-account-issuer", o.ServiceAccountIssuer, "Issuer (iss claim) of ServiceAccount tokens; also the API audience.")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", o.ShutdownTimeout, "How long a graceful shutdown may take.")
}

// Validate reports every invalid option.
func (o *Options) Validate() []error {
	var errs []error
	if o.DataDir == "" {
		errs = append(errs, fmt.Errorf("--data-dir must be set"))
	}
	if o.SecurePort < 0 || o.SecurePort > 65535 {
		errs = append(errs, fmt.Errorf("--secure-port %d must be between 0 and 65535", o.SecurePort))
	}
	if _, err := ParseServiceCIDRs(o.ServiceClusterIPRange); err != nil {
		errs = append(errs, err)
	}
	if _, err := utilnet.ParsePortRange(o.ServiceNodePortRange); err != nil {
		errs = append(errs, fmt.Errorf("--service-node-port-range: %w", err))
	}
	return errs
}

// Complete fills in derived defaults.
func (o *Options) Complete() error {
	abs, err := filepath.Abs(o.DataDir)
	if err != nil {
		return err
	}
	o.DataDir = abs
	if o.AdvertiseAddress == nil || o.AdvertiseAddress.IsUnspecified() {
		ip, err := utilnet.ResolveBindAddress(o.BindAddress)
		if err != nil || ip == nil {
			ip = net.ParseIP("127.0.0.1")
		}
		o.AdvertiseAddress = ip
	}
	return nil
}

// ParseServiceCIDRs parses --service-cluster-ip-range: one CIDR, or one per IP family.
func ParseServiceCIDRs(s string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, c := range splitComma(s) {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			return nil, fmt.Errorf("--service-cluster-ip-range: %w", err)
		}
		out = append(out, n)
	}
	if len(out) == 0 || len(out) > 2 {
		return nil, fmt.Errorf("--service-cluster-ip-range needs one or two CIDRs, got %q", s)
	}
	if len(out) == 2 && (out[0].IP.To4() == nil) == (out[1].IP.To4() == nil) {
		return nil, fmt.Errorf("--service-cluster-ip-range: two CIDRs must be of different IP families")
	}
	return out, nil
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
