package cluster_test

import (
	"context"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/anypb"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// gatewayDo calls Probe.Do through the gateway of the node at addr, on the
// actor named name in namespace ns.
func gatewayDo(ctx context.Context, hc *http.Client, addr, ns, name string, req *testv1.DoRequest, opts ...connect.ClientOption) (*connect.Response[testv1.DoResponse], error) {
	client := connect.NewClient[testv1.DoRequest, testv1.DoResponse](hc, "http://"+addr+testv1actor.ProbeDoProcedure, opts...)
	r := connect.NewRequest(req)
	r.Header().Set(actor.HeaderActorName, name)
	r.Header().Set(actor.HeaderNamespace, ns)
	return client.CallUnary(ctx, r)
}

// Every node serves the gateway: a plain Connect or gRPC client calling an
// actor's method at its standard path on any node reaches the actor
// wherever it lives; without the cluster token it is refused.
func TestGatewayOnEveryNode(t *testing.T) {
	c := newCluster(t)
	b := c.addNode("--labels", "role=worker")
	sys := c.connect("gw")
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().Name("target").Scheduling(actor.NodeAffinity(b, false)))
	if got := nodeOf(t, h); got != b {
		t.Fatalf("actor on %s, want %s", got, b)
	}

	hc := cluster.AuthClient(transport.NewH2CClient(), c.token)
	defer hc.CloseIdleConnections()
	for _, tc := range []struct {
		name, addr string
		opts       []connect.ClientOption
	}{
		{"connect via the head", c.headAddr, nil},
		{"grpc via the head", c.headAddr, []connect.ClientOption{connect.WithGRPC()}},
		{"grpc-web via the head", c.headAddr, []connect.ClientOption{connect.WithGRPCWeb()}},
		{"connect via the hosting node", c.nodeAddr(b), nil},
	} {
		res, err := gatewayDo(ctx, hc, tc.addr, "gw", "target", &testv1.DoRequest{Key: "node"}, tc.opts...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Msg.GetText() != b || res.Header().Get(actor.HeaderActorID) != h.Ref().ID() {
			t.Fatalf("%s: served by node %q, actor %q; want node %s, actor %s", tc.name,
				res.Msg.GetText(), res.Header().Get(actor.HeaderActorID), b, h.Ref().ID())
		}
	}
	if _, err := gatewayDo(ctx, hc, c.headAddr, "gw", "nobody", &testv1.DoRequest{}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("a call to a missing actor: %v, want not_found", err)
	}
	plain := transport.NewH2CClient()
	defer plain.CloseIdleConnections()
	if _, err := gatewayDo(ctx, plain, c.headAddr, "gw", "target", &testv1.DoRequest{}); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("a gateway call without the token: %v, want unauthenticated", err)
	}
}

// A node's ControlService spawns actors in the cluster. A node is not a
// job, so such actors are detached: they outlive every driver and restart
// per max_restarts; asking for an owned one is refused.
func TestControlServiceOnNode(t *testing.T) {
	c := newCluster(t)
	b := c.addNode("--labels", "role=worker")
	ctx := context.Background()
	hc := cluster.AuthClient(transport.NewH2CClient(), c.token)
	defer hc.CloseIdleConnections()
	control := actorv1connect.NewControlServiceClient(hc, "http://"+c.nodeAddr(b))

	init, err := anypb.New(&testv1.ProbeInit{Label: "remote", Start: 7})
	if err != nil {
		t.Fatal(err)
	}
	res, err := control.Spawn(ctx, connect.NewRequest(&actorv1.SpawnRequest{
		Class: "test.v1.Probe", Init: init, Name: "spawned", Namespace: "ctl",
		Options: &actorv1.SpawnOptions{LabelSelector: worker, MaxRestarts: new(int32(1))},
	}))
	if err != nil {
		t.Fatalf("Spawn on a node: %v", err)
	}
	id := res.Msg.GetActor().GetActorId()

	// The head's gateway reaches it by name; its state is the init's.
	do, err := gatewayDo(ctx, hc, c.headAddr, "ctl", "spawned", &testv1.DoRequest{Key: "node"})
	if err != nil || do.Msg.GetText() != b {
		t.Fatalf("call through the head's gateway = %v, %v; want node %s", do, err, b)
	}
	sys := c.connect("ctl")
	h, err := testv1actor.GetProbe(ctx, sys, "spawned")
	if err != nil || h.Ref().ID() != id {
		t.Fatalf("GetProbe(spawned) = %v, %v; want %s", h, err, id)
	}
	if got, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil || got.GetValue() != 7 || got.GetLabel() != "remote" {
		t.Fatalf("Get = %v, %v; want 7, remote", got, err)
	}
	in := info(t, sys, id)
	if !in.Detached || in.Job != "" || in.Namespace != "ctl" || in.Node != b {
		t.Fatalf("actor spawned on a node: %+v; want detached, no job, namespace ctl, on %s", in, b)
	}
	// It outlives a driver that shuts down.
	if err := sys.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	other := c.connect("ctl")
	if in := info(t, other, id); in.State != actor.Alive {
		t.Fatalf("after a driver's end the node-spawned actor is %v, want ALIVE", in.State)
	}

	_, err = control.Spawn(ctx, connect.NewRequest(&actorv1.SpawnRequest{
		Class: "test.v1.Probe", Options: &actorv1.SpawnOptions{Lifetime: actorv1.Lifetime_LIFETIME_OWNED},
	}))
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("an owned spawn on a node: %v, want invalid_argument", err)
	}
	if _, err := control.Kill(ctx, connect.NewRequest(&actorv1.KillRequest{Name: "spawned", Namespace: "ctl", NoRestart: true})); err != nil {
		t.Fatalf("Kill through a node: %v", err)
	}
	eventually(t, "the killed actor to be dead", func() bool { return info(t, other, id).State == actor.Dead })
}
