package transport_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
)

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

	c.CallFunc(context.Background(), call("/p.S/M", "a"), f)
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
	c.CallFunc(ctx, call("/p.S/M", "b"), func(res *actorv1.ResultEnvelope, err error) {
		<-returned
		f(res, err)
	})
	close(returned)
	wantCode(t, next().err, connect.CodeCanceled)
	if len(got) != 0 {
		t.Fatal("f was called twice")
	}
}

// A call without a deadline gets a context that ends on cancel, together with its derived contexts and
// AfterFuncs, and at the end of the stream.
func TestCallContextWithoutDeadline(t *testing.T) {
	h := newHeld()
	n := startNode(t, "127.0.0.1:0", h)
	c := dial(t, n)

	ctx, cancel := context.WithCancel(context.Background())
	c.Call(ctx, call("/p.S/M", "x"))
	in := h.next(t)
	if _, ok := in.ctx.Deadline(); ok {
		t.Fatal("a call without a deadline has one")
	}
	child, stopChild := context.WithCancel(in.ctx)
	defer stopChild()
	ran := make(chan struct{})
	context.AfterFunc(in.ctx, func() { close(ran) })
	stopped := context.AfterFunc(in.ctx, func() { t.Error("a stopped AfterFunc ran") })
	if !stopped() {
		t.Fatal("stop did not stop a pending AfterFunc")
	}
	if in.ctx.Err() != nil {
		t.Fatal("the call's ctx ended early")
	}
	cancel()
	if err := waitCtx(t, child); !errors.Is(err, context.Canceled) {
		t.Fatalf("derived ctx ended with %v", err)
	}
	if !errors.Is(context.Cause(in.ctx), context.Canceled) {
		t.Fatalf("cause %v", context.Cause(in.ctx))
	}
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("AfterFunc did not run")
	}

	// The stream's end ends the calls still running.
	c.Call(context.Background(), call("/p.S/M", "y"))
	in = h.next(t)
	n.stop()
	if err := waitCtx(t, in.ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("after the stream ended: %v", err)
	}
}
