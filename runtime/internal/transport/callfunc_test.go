package transport_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

type receiverFunc func(*actorv1.ResultEnvelope, error)

func (f receiverFunc) Receive(res *actorv1.ResultEnvelope, err error) { f(res, err) }

type outcome struct {
	res *actorv1.ResultEnvelope
	err error
}

func TestCallFunc(t *testing.T) {
	h := newHeld()
	n := startNode(t, "127.0.0.1:0", h)
	c := dial(t, n)
	got := make(chan outcome, 2)
	f := func(res *actorv1.ResultEnvelope, err error) { got <- outcome{res, err} }
	next := func() outcome {
		t.Helper()
		select {
		case o := <-got:
			return o
		case <-time.After(10 * time.Second):
			t.Fatal("f was not called")
			return outcome{}
		}
	}

	c.CallFunc(context.Background(), call("/p.S/M", "a"), receiverFunc(f), nil)
	in := h.next(t)
	in.done(&actorv1.ResultEnvelope{Response: []byte("A")})
	if o := next(); o.err != nil || string(o.res.GetResponse()) != "A" {
		t.Fatalf("result %v, %v", o.res, o.err)
	}

	// A call whose ctx ended first fails, and f never runs before
	// CallFunc returns: a caller may hold locks f takes.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	returned := make(chan struct{})
	c.CallFunc(ctx, call("/p.S/M", "b"), receiverFunc(func(res *actorv1.ResultEnvelope, err error) {
		<-returned
		f(res, err)
	}), new(transport.Pending))
	close(returned)
	wantCode(t, next().err, connect.CodeCanceled)
	if len(got) != 0 {
		t.Fatal("f was called twice")
	}
}

// A call without a deadline gets the stream's values in a context that
// never ends: the caller's cancel and the end of the stream reach the
// dispatcher's Canceler.
func TestCancelerWithoutDeadline(t *testing.T) {
	h := newHeld()
	n := startNode(t, "127.0.0.1:0", h)
	c := dial(t, n)

	ctx, cancel := context.WithCancel(context.Background())
	c.Call(ctx, call("/p.S/M", "x"))
	in := h.next(t)
	if _, ok := in.ctx.Deadline(); ok {
		t.Fatal("a call without a deadline has one")
	}
	if in.ctx.Done() != nil {
		t.Fatal("a call's ctx can end: cancels go to its Canceler")
	}
	cancel()
	waitCancel(t, in)

	// Pending.Cancel does what the ctx's end does.
	p := c.Call(context.Background(), call("/p.S/M", "y"))
	in = h.next(t)
	p.Cancel()
	waitCancel(t, in)
	_, err := wait(t, p)
	wantCode(t, err, connect.CodeCanceled)
	p.Cancel() // after the result: nothing

	// The stream's end cancels the calls still running, and ends the
	// stream's context.
	c.Call(context.Background(), call("/p.S/M", "z"))
	in = h.next(t)
	if in.reply.StreamContext().Err() != nil {
		t.Fatal("the stream's context ended with the stream open")
	}
	n.stop()
	waitCancel(t, in)
	if err := waitCtx(t, in.reply.StreamContext()); err == nil {
		t.Fatal("the stream's context did not end")
	}
}
