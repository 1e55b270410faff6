package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and its
// key to dir.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "troupe cli test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// A head started with certificates answers the CLI over TLS when the CLI
// is given the authority, and refuses it otherwise.
func TestClusterCommandsOverTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "node")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/troupehq/troupe/examples/cluster").CombinedOutput(); err != nil {
		t.Fatalf("building the node binary: %v\n%s", err, out)
	}
	cert, key := writeSelfSigned(t, dir)
	stateDir := filepath.Join(dir, "head")
	addr := startNode(t, bin, nil, "start", "--head", "--state-dir", stateDir, "--node-id", "node-tls",
		"--tls-cert", cert, "--tls-key", key)

	code, out, errOut := troupe(t, "list", "nodes", "--address", addr, "--state-dir", stateDir, "--tls-ca", cert)
	if code != 0 || !strings.Contains(out, "node-tls") {
		t.Fatalf("list nodes over TLS = %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = troupe(t, "list", "nodes", "--address", addr, "--state-dir", stateDir, "--timeout", "5s")
	if code != 1 || errOut == "" {
		t.Fatalf("list nodes in cleartext against a TLS head = %d, %q; want a failure", code, errOut)
	}
	code, _, errOut = troupe(t, "list", "nodes", "--address", addr, "--tls-ca", filepath.Join(dir, "missing.pem"))
	if code != 1 || !strings.Contains(errOut, "--tls-ca") {
		t.Fatalf("missing --tls-ca file = %d, %q", code, errOut)
	}
}
