package etcd

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// Config is what the embedded member needs.
type Config struct {
	// Dir holds the member's data; it survives restarts.
	Dir string
	// ClientPort and PeerPort on 127.0.0.1; 0 picks a free port.
	ClientPort, PeerPort int
	// MaxRequestBytes is the largest write etcd accepts; the apiserver's own
	// body limit (3 MiB) sits below it.
	MaxRequestBytes uint
	// StartTimeout bounds the wait for the member to become ready.
	StartTimeout time.Duration
}

// Server is a running embedded etcd member.
type Server struct {
	e *embed.Etcd
	// Endpoint is the client URL for the apiserver's storage backend.
	Endpoint string
}

// Start starts the member and waits until it serves requests. On any error
// everything it started is stopped again.
func Start(ctx context.Context, c Config) (*Server, error) {
	cfg := embed.NewConfig()
	cfg.Name = "capstan"
	cfg.Dir = filepath.Join(c.Dir, "etcd")
	// etcd's own log goes to a file beside its data: at shutdown it reports
	// its closed listeners as errors, which would only confuse the server log.
	cfg.LogLevel = "warn"
	cfg.LogOutputs = []string{filepath.Join(c.Dir, "etcd.log")}
	cfg.MaxRequestBytes = c.MaxRequestBytes
	if cfg.MaxRequestBytes == 0 {
		cfg.MaxRequestBytes = 4 << 20
	}
	// Compaction is the apiserver's job (it compacts every 5 minutes), as with an external etcd.
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "0"
	clientURL, err := localURL(c.ClientPort)
	if err != nil {
		return nil, err
	}
	peerURL, err := localURL(c.PeerPort)
	if err != nil {
		return nil, err
	}
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd: %w", err)
	}
	timeout := c.StartTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-time.After(timeout):
		e.Close()
		return nil, fmt.Errorf("embedded etcd not ready after %s", timeout)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	return &Server{e: e, Endpoint: "http://" + e.Clients[0].Addr().String()}, nil
}

// Err reports a fatal error of the running member.
func (s *Server) Err() <-chan error { return s.e.Err() }

// Stop closes the member; pending writes are flushed first.
func (s *Server) Stop() { s.e.Close() }

// localURL reserves a loopback port (port 0 picks a free one) and returns its URL.
func localURL(port int) (*url.URL, error) {
	if port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	return url.Parse(fmt.Sprintf("http://127.0.0.1:%d", port))
}
