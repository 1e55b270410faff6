package cluster_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
	"github.com/troupehq/troupe/internal/testcert"
	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// With certificate flags the head and nodes speak HTTP/2 over TLS only: a
// driver trusting the certificate spawns and calls actors on both, a node
// reaches another's actor, and cleartext clients are refused.
func TestTLSCluster(t *testing.T) {
	certFile, keyFile := testcert.SelfSigned(t, t.TempDir())
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
