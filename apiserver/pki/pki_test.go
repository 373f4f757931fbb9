package pki

import (
	"bytes"
	"net"
	"os"
	"testing"
)

func TestCertificatesAreReusedAcrossRestarts(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	ca, err := LoadOrCreateCA(l.CA(), "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	leaf := Leaf{CommonName: "kube-apiserver", Server: true, DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}}
	if err := ca.EnsureLeaf(l.Serving(), leaf); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(l.Serving().Cert)

	again, err := LoadOrCreateCA(l.CA(), "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.CertPEM, ca.CertPEM) {
		t.Fatal("CA was regenerated on restart")
	}
	if err := again.EnsureLeaf(l.Serving(), leaf); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(l.Serving().Cert)
	if !bytes.Equal(first, second) {
		t.Error("serving certificate was reissued although it still covers every name")
	}

	// A new address must lead to a new certificate that covers it.
	leaf.IPs = append(leaf.IPs, net.ParseIP("10.96.0.1"))
	if err := again.EnsureLeaf(l.Serving(), leaf); err != nil {
		t.Fatal(err)
	}
	third, _ := os.ReadFile(l.Serving().Cert)
	if bytes.Equal(second, third) {
		t.Error("serving certificate not reissued for a new SAN")
	}
	cert, _, err := readPair(third, l.Serving().Key)
	if err != nil {
		t.Fatal(err)
	}
	if !again.covers(cert, leaf) {
		t.Error("reissued certificate does not cover the requested names")
	}
}
