package cluster_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// to dir and returns their paths.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "troupe test"},
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

// With certificate flags the head and nodes speak HTTP/2 over TLS only: a
// driver trusting the certificate spawns and calls actors on both, a node
// reaches another's actor, and cleartext clients are refused.
func TestTLSCluster(t *testing.T) {
	certFile, keyFile := selfSigned(t, t.TempDir())
	c := newCluster(t, "--tls-cert", certFile, "--tls-key", keyFile)
	b := c.addNode("--tls-cert", certFile, "--tls-key", keyFile, "--tls-ca", certFile, "--labels", "role=worker")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if _, err := actor.Connect(ctx, c.headAddr, actor.WithToken(c.token), actor.WithLogger(slog.New(slog.DiscardHandler))); err == nil {
		t.Fatal("a cleartext driver joined a TLS head")
	}
	sys, err := actor.Connect(ctx, c.headAddr, actor.WithToken(c.token), actor.WithTLS(certFile),
		actor.WithNamespace("tls"), actor.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("Connect over TLS: %v", err)
	}
	t.Cleanup(func() { _ = sys.Shutdown(context.Background()) })

	onB := spawn(t, sys, testv1actor.ProbeOptions().Scheduling(actor.NodeAffinity(b, false)))
	onHead := spawn(t, sys, testv1actor.ProbeOptions().Scheduling(actor.NodeAffinity(c.headID, false)))
	if got := nodeOf(t, onB); got != b {
		t.Fatalf("actor on %s, want %s", got, b)
	}
	if got := nodeOf(t, onHead); got != c.headID {
		t.Fatalf("actor on %s, want the head %s", got, c.headID)
	}
	// The head's actor calls the node's across TLS.
	res, err := onHead.Do(ctx, &testv1.DoRequest{Key: "call", Ref: onB.Ref().Proto()}).Get(ctx)
	if err != nil || res.GetText() != b {
		t.Fatalf("a call from the head's actor to the node's = %v, %v; want node %s", res, err, b)
	}

	// A plain client of the node's gateway over TLS works; cleartext does not.
	conf, err := cluster.ClientTLS(certFile)
	if err != nil {
		t.Fatal(err)
	}
	hc, scheme := cluster.HTTPClient(conf)
	hc = cluster.AuthClient(hc, c.token)
	defer hc.CloseIdleConnections()
	control := actorv1connect.NewControlServiceClient(hc, scheme+"://"+c.nodeAddr(b), connect.WithGRPC())
	list, err := control.ListActors(ctx, connect.NewRequest(&actorv1.ControlServiceListActorsRequest{Filters: map[string]string{"namespace": "tls"}}))
	if err != nil || len(list.Msg.GetActors()) != 2 {
		t.Fatalf("ListActors over gRPC+TLS = %v, %v; want the 2 actors", list, err)
	}
	plain := cluster.AuthClient(transport.NewH2CClient(), c.token)
	defer plain.CloseIdleConnections()
	cleartext := actorv1connect.NewControlServiceClient(plain, "http://"+c.nodeAddr(b))
	if _, err := cleartext.ListActors(ctx, connect.NewRequest(&actorv1.ControlServiceListActorsRequest{})); err == nil {
		t.Fatal("a cleartext request to a TLS node succeeded")
	}
}
