package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/keyutil"
)

const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
)

// CA is a certificate authority that can sign leaf certificates.
type CA struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
}

// Files names the PEM files of one certificate and its key.
type Files struct{ Cert, Key string }

// Layout is where the cluster's credentials live under a data directory.
type Layout struct {
	Dir string
}

func (l Layout) path(name string) string { return filepath.Join(l.Dir, name) }

func (l Layout) CA() Files      { return Files{l.path("ca.crt"), l.path("ca.key")} }
func (l Layout) Serving() Files { return Files{l.path("apiserver.crt"), l.path("apiserver.key")} }
func (l Layout) Admin() Files   { return Files{l.path("admin.crt"), l.path("admin.key")} }
func (l Layout) FrontProxyCA() Files {
	return Files{l.path("front-proxy-ca.crt"), l.path("front-proxy-ca.key")}
}
func (l Layout) FrontProxyClient() Files {
	return Files{l.path("front-proxy-client.crt"), l.path("front-proxy-client.key")}
}
func (l Layout) ServiceAccountKey() string { return l.path("sa.key") }

// NodeClient is the apiserver's client certificate towards node agents.
func (l Layout) NodeClient() Files {
	return Files{l.path("apiserver-node-client.crt"), l.path("apiserver-node-client.key")}
}

// LoadOrCreateCA reads the CA in f, or creates a self-signed one named cn.
func LoadOrCreateCA(f Files, cn string) (*CA, error) {
	if certPEM, err := os.ReadFile(f.Cert); err == nil {
		cert, key, err := readPair(certPEM, f.Key)
		if err != nil {
			return nil, fmt.Errorf("reading CA %s: %w", f.Cert, err)
		}
		return &CA{Cert: cert, Key: key, CertPEM: certPEM}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writePair(f, certPEM, key); err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, CertPEM: certPEM}, nil
}

// Leaf describes a certificate to issue.
type Leaf struct {
	CommonName   string
	Organization []string
	DNSNames     []string
	IPs          []net.IP
	Server       bool
	Client       bool
}

// EnsureLeaf keeps the certificate in f if it exists, is signed by ca and
// covers every name and address asked for; otherwise it issues a new one.
func (ca *CA) EnsureLeaf(f Files, leaf Leaf) error {
	if certPEM, err := os.ReadFile(f.Cert); err == nil {
		if cert, _, err := readPair(certPEM, f.Key); err == nil && ca.covers(cert, leaf) {
			return nil
		}
	}
	key, err := newKey()
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: leaf.CommonName, Organization: leaf.Organization},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		DNSNames:     leaf.DNSNames,
		IPAddresses:  leaf.IPs,
	}
	if leaf.Server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if leaf.Client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return err
	}
	return writePair(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key)
}

func (ca *CA) covers(cert *x509.Certificate, leaf Leaf) bool {
	if cert.CheckSignatureFrom(ca.Cert) != nil || time.Until(cert.NotAfter) < 30*24*time.Hour {
		return false
	}
	if cert.Subject.CommonName != leaf.CommonName {
		return false
	}
	have := map[string]bool{}
	for _, n := range cert.DNSNames {
		have[n] = true
	}
	for _, ip := range cert.IPAddresses {
		have[ip.String()] = true
	}
	for _, n := range leaf.DNSNames {
		if !have[n] {
			return false
		}
	}
	for _, ip := range leaf.IPs {
		if !have[ip.String()] {
			return false
		}
	}
	return true
}

// WriteKubeconfig writes a kubeconfig for server that authenticates with the client certificate in f.
func WriteKubeconfig(path, server string, caPEM []byte, f Files, user string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["capstan"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cert, err := os.ReadFile(f.Cert)
	if err != nil {
		return err
	}
	key, err := os.ReadFile(f.Key)
	if err != nil {
		return err
	}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key}
	cfg.Contexts["capstan"] = &clientcmdapi.Context{Cluster: "capstan", AuthInfo: user}
	cfg.CurrentContext = "capstan"
	return clientcmd.WriteToFile(*cfg, path)
}

// EnsureKey returns the private key at path, creating it when missing.
func EnsureKey(path string) (crypto.Signer, error) {
	if data, err := os.ReadFile(path); err == nil {
		k, err := keyutil.ParsePrivateKeyPEM(data)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s: not a signing key", path)
		}
		return s, nil
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	return key, nil
}

func newKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, big.NewInt(math.MaxInt64))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return n
}

func readPair(certPEM []byte, keyPath string) (*x509.Certificate, crypto.Signer, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil, nil, errors.New("no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	k, err := keyutil.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("key cannot sign")
	}
	return cert, s, nil
}

// writePair writes the key before the certificate, each atomically, so that a
// crash never leaves a certificate whose key is missing.
func writePair(f Files, certPEM []byte, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeAtomic(f.Key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	return writeAtomic(f.Cert, certPEM, 0o644)
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
