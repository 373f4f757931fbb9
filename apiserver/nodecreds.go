package apiserver

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/capstan-dev/capstan/apiserver/pki"
)

// NodeCredentials are the files a node agent runs with.
type NodeCredentials struct {
	// Kubeconfig authenticates as system:node:<name> (group system:nodes).
	Kubeconfig string
	// ServingCert and ServingKey are the agent API's certificate.
	ServingCert, ServingKey string
	// ClientCA is the cluster CA, which signs the apiserver's client
	// certificate towards agents.
	ClientCA string
}

// WriteNodeCredentials issues a node's identity from the cluster CA under
// dataDir and writes it into outDir, keeping valid existing files.
func WriteNodeCredentials(dataDir, nodeName string, nodeIP net.IP, serverURL, outDir string) (NodeCredentials, error) {
	layout := pki.Layout{Dir: dataDir}
	if _, err := os.Stat(layout.CA().Key); err != nil {
		return NodeCredentials{}, fmt.Errorf("cluster CA key: %w", err)
	}
	ca, err := pki.LoadOrCreateCA(layout.CA(), "capstan-ca")
	if err != nil {
		return NodeCredentials{}, err
	}
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return NodeCredentials{}, err
	}
	client := pki.Files{Cert: filepath.Join(outDir, "node-client.crt"), Key: filepath.Join(outDir, "node-client.key")}
	if err := ca.EnsureLeaf(client, pki.Leaf{CommonName: "system:node:" + nodeName, Organization: []string{"system:nodes"}, Client: true}); err != nil {
		return NodeCredentials{}, fmt.Errorf("node client certificate: %w", err)
	}
	serving := pki.Files{Cert: filepath.Join(outDir, "agent.crt"), Key: filepath.Join(outDir, "agent.key")}
	leaf := pki.Leaf{CommonName: nodeName, DNSNames: []string{nodeName, "localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}, Server: true}
	if nodeIP != nil {
		leaf.IPs = append(leaf.IPs, nodeIP)
	}
	if err := ca.EnsureLeaf(serving, leaf); err != nil {
		return NodeCredentials{}, fmt.Errorf("agent serving certificate: %w", err)
	}
	caFile := filepath.Join(outDir, "ca.crt")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o644); err != nil {
		return NodeCredentials{}, err
	}
	kubeconfig := filepath.Join(outDir, "kubeconfig")
	if err := pki.WriteKubeconfig(kubeconfig, serverURL, ca.CertPEM, client, "system:node:"+nodeName); err != nil {
		return NodeCredentials{}, err
	}
	return NodeCredentials{Kubeconfig: kubeconfig, ServingCert: serving.Cert, ServingKey: serving.Key, ClientCA: caFile}, nil
}
