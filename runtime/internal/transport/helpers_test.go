package transport_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// node is an in-process node server on 127.0.0.1.
type node struct {
	addr string
	srv  *http.Server
	done chan struct{}
}

// startNode serves d on addr ("127.0.0.1:0" for a free port) until the test
// ends.
func startNode(t testing.TB, addr string, d transport.Dispatcher, opts ...transport.Option) *node {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(transport.NewHandler(d, opts...))
	n := &node{addr: lis.Addr().String(), srv: transport.NewH2CServer(mux, 0), done: make(chan struct{})}
	go func() {
		defer close(n.done)
		_ = n.srv.Serve(lis)
	}()
	t.Cleanup(n.stop)
	return n
}

func (n *node) url() string { return "http://" + n.addr }

// stop closes the server and its connections and waits for Serve to return.
func (n *node) stop() {
	_ = n.srv.Close()
	<-n.done
}

// dial returns a Conn to n that is closed, with its HTTP client's idle
// connections, when the test ends.
func dial(t testing.TB, n *node, opts ...transport.Option) *transport.Conn {
	t.Helper()
	hc := transport.NewH2CClient()
	c := transport.Dial(n.url(), hc, opts...)
	t.Cleanup(func() {
		_ = c.Close()
		hc.CloseIdleConnections()
	})
	return c
}

// echo answers every call with its request.
var echo = transport.DispatcherFunc(func(_ context.Context, call *actorv1.CallEnvelope, reply transport.Reply) transport.Canceler {
	reply.Send(&actorv1.ResultEnvelope{Response: call.GetRequest()})
	return nil
})

// held is a dispatcher that keeps every call until the test lets it go.
type held struct {
	calls chan heldCall
}

type heldCall struct {
	ctx       context.Context
	env       *actorv1.CallEnvelope
	done      func(*actorv1.ResultEnvelope)
	cancelled chan struct{} // closed when the transport cancels the call
	reply     transport.Reply
}

func newHeld() *held { return &held{calls: make(chan heldCall, 100000)} }

func (h *held) Dispatch(ctx context.Context, call *actorv1.CallEnvelope, reply transport.Reply) transport.Canceler {
	cancelled := make(chan struct{})
	h.calls <- heldCall{ctx, call, reply.Send, cancelled, reply}
	return transport.CancelFunc(func() { close(cancelled) })
}

// waitCancel waits for the transport to cancel c, failing the test after a
// generous wait.
func waitCancel(t testing.TB, c heldCall) {
	t.Helper()
	select {
	case <-c.cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the call was not cancelled")
	}
}

// next returns the next call the node received, failing the test after a
// generous wait.
func (h *held) next(t testing.TB) heldCall {
	t.Helper()
	select {
	case c := <-h.calls:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the dispatcher received no call")
		return heldCall{}
	}
}

// wait returns p's result, failing the test if it does not come in time.
func wait(t testing.TB, p *transport.Pending) (*actorv1.ResultEnvelope, error) {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not complete")
	}
	return p.Result()
}

// waitCtx waits for ctx to end, failing the test after a generous wait.
func waitCtx(t testing.TB, ctx context.Context) error {
	t.Helper()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(10 * time.Second):
		t.Fatal("the dispatcher's context did not end")
		return nil
	}
}

func wantCode(t testing.TB, err error, code connect.Code) {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *connect.Error", err, err)
	}
	if ce.Code() != code {
		t.Fatalf("code %v, want %v (error: %v)", ce.Code(), code, err)
	}
}

func call(procedure string, request string) *actorv1.CallEnvelope {
	return &actorv1.CallEnvelope{ActorId: "a-1", Procedure: procedure, Request: []byte(request)}
}
