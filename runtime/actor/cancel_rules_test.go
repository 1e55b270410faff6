package actor_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

func TestCancelledQueuedCallsNeverRun(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().MaxPendingCalls(6), "hold", nil)
		first := h.Do(ctx, &testv1.DoRequest{Arg: 0})
		m.arrived(t, "g", 1)
		cctx, cancel := context.WithCancel(ctx)
		var cancelled []*actor.Future[*testv1.DoResponse]
		for range 3 {
			cancelled = append(cancelled, h.Do(cctx, &testv1.DoRequest{Arg: 1}))
		}
		byFuture := h.Do(ctx, &testv1.DoRequest{Arg: 1})
		byFuture.Cancel()
		cancel()
		for _, f := range append(cancelled, byFuture) {
			if _, err := f.Get(ctx); connect.CodeOf(err) != connect.CodeCanceled {
				t.Fatalf("cancelled queued call = %v; want canceled", err)
			}
		}
		// The cancelled calls left the queue: five more fit under the limit of 6.
		var more []*actor.Future[*testv1.DoResponse]
		for range 5 {
			more = append(more, h.Do(ctx, &testv1.DoRequest{Arg: 1}))
		}
		m.open(t, "g")
		for _, f := range append(more, first) {
			if _, err := f.Get(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if r, err := h.Do(ctx, &testv1.DoRequest{Key: "ran"}).Get(ctx); err != nil || r.GetValue() != 5 {
			t.Fatalf("%d calls ran, want 5: cancelled calls must never run (%v)", r.GetValue(), err)
		}
	})
}

// "ctx-wait": Do counts an arrival at "entered" and waits for its ctx to
// end, answering its error; with arg 1 it first checks it has a deadline.
var _ = behave("ctx-wait", &behaviour{do: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	if r.GetArg() == 1 {
		if _, ok := ctx.Deadline(); !ok {
			return nil, errors.New("no deadline in the method's ctx")
		}
	}
	if _, err := count(ctx, p.init, "entered", 1); err != nil {
		return nil, err
	}
	<-ctx.Done()
	return nil, ctx.Err()
}})

func TestRunningCallSeesCancellationAndDeadline(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions(), "ctx-wait", nil)
		cctx, cancel := context.WithCancel(ctx)
		f := h.Do(cctx, &testv1.DoRequest{})
		m.arrived(t, "entered", 1)
		cancel()
		if _, err := f.Get(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("running call after cancel = %v; want the method to see ctx.Done()", err)
		}
		// The method ended: the actor runs the next call.
		if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
			t.Fatal(err)
		}
		dctx, dcancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer dcancel()
		_, err := h.Do(dctx, &testv1.DoRequest{Arg: 1}).Get(ctx)
		if n := m.counter(t, "entered"); n != 2 {
			t.Fatalf("%d calls entered the method, want 2: the deadline must reach it (call = %v)", n, err)
		}
		// The method and the caller see the deadline at once: either's
		// error may end the call (TestContextErrorsReachTheCaller holds
		// the method's to context.DeadlineExceeded).
		if !isDeadline(err) {
			t.Fatalf("call with deadline = %v; want a deadline error", err)
		}
	})
}

func TestCancelledCallIsNotRetried(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().MaxRestarts(1).MaxTaskRetries(-1), "hold", nil)
		cctx, cancel := context.WithCancel(ctx)
		running := h.Do(cctx, &testv1.DoRequest{Arg: 0})
		m.arrived(t, "g", 1)
		cancel()
		if err := m.sys.Kill(ctx, h); err != nil {
			t.Fatal(err)
		}
		if _, err := running.Get(ctx); connect.CodeOf(err) != connect.CodeCanceled {
			t.Fatalf("cancelled call = %v; want canceled, not a retry", err)
		}
		if _, err := h.Do(ctx, &testv1.DoRequest{Arg: 1}).Get(ctx); err != nil {
			t.Fatal(err)
		}
		// Had it been retried, the restarted actor would wait at the gate.
		if n := m.counter(t, "g"); n != 1 {
			t.Fatalf("the cancelled call ran %d times, want once", n)
		}
	})
}

// "cycle": Do with arg > 0 calls Do(arg-1, ref self) on the Probe in ref;
// with arg 0 it calls Do(-1) on ref; with arg -1 it answers "leaf".
var _ = behave("cycle", &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	if r.GetArg() < 0 {
		return &testv1.DoResponse{Text: "leaf"}, nil
	}
	peer, err := testv1actor.ProbeFromRef(ctx, actor.SystemFrom(ctx), r.GetRef())
	if err != nil {
		return nil, err
	}
	next := &testv1.DoRequest{Arg: -1}
	if r.GetArg() > 0 {
		next = &testv1.DoRequest{Arg: r.GetArg() - 1, Ref: actor.Self(ctx).Proto()}
	}
	return peer.Do(ctx, next).Get(ctx)
}})

func TestCallCycleDeadlock(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		a := m.spawn(t, testv1actor.ProbeOptions(), "cycle", nil)
		b := m.spawn(t, testv1actor.ProbeOptions(), "cycle", nil)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		// A.Do(arg 1, ref B) → B.Do(arg 0, ref A) → A.Do(arg -1): A is busy waiting on B.
		_, err := a.Do(ctx, &testv1.DoRequest{Arg: 1, Ref: b.ActorRef()}).Get(ctx)
		if !errors.Is(err, actor.ErrDeadlock) {
			t.Fatalf("A→B→A = %v; want ErrDeadlock within a second", err)
		}
		// Both actors still work.
		for _, h := range []*testv1actor.ProbeHandle{a, b} {
			if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// A direct self-call deadlocks too.
		self := m.spawn(t, testv1actor.ProbeOptions(), "cycle", nil)
		_, err = self.Do(ctx, &testv1.DoRequest{Arg: 0, Ref: self.ActorRef()}).Get(ctx)
		if !errors.Is(err, actor.ErrDeadlock) {
			t.Fatalf("A→A = %v; want ErrDeadlock", err)
		}
	})
}

// "forward": Do calls Do(arg 1) on the Probe in r.Ref with its own ctx and
// answers what it got.
var _ = behave("forward", &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	peer, err := testv1actor.ProbeFromRef(ctx, actor.SystemFrom(ctx), r.GetRef())
	if err != nil {
		return nil, err
	}
	return peer.Do(ctx, &testv1.DoRequest{Arg: r.GetArg()}).Get(ctx)
}})

// A caller's deadline travels on through the calls its method makes.
func TestDeadlineTravelsThroughActors(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		waiter := m.spawn(t, testv1actor.ProbeOptions(), "ctx-wait", nil)
		front := m.spawn(t, testv1actor.ProbeOptions(), "forward", nil)
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := front.Do(dctx, &testv1.DoRequest{Arg: 1, Ref: waiter.ActorRef()}).Get(ctx)
		if n := m.counter(t, "entered"); n != 1 {
			t.Fatalf("the inner method ran %d times, want once with a deadline (call = %v)", n, err)
		}
		if !isDeadline(err) {
			t.Fatalf("call = %v; want the deadline to end the inner method", err)
		}
	})
}

// Cancelling a call cancels the calls its method is waiting on.
func TestCancelTravelsThroughActors(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		waiter := m.spawn(t, testv1actor.ProbeOptions(), "ctx-wait", nil)
		front := m.spawn(t, testv1actor.ProbeOptions(), "forward", nil)
		cctx, cancel := context.WithCancel(ctx)
		f := front.Do(cctx, &testv1.DoRequest{Ref: waiter.ActorRef()})
		m.arrived(t, "entered", 1)
		cancel()
		if _, err := f.Get(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled call = %v; want canceled", err)
		}
		// The inner method saw its ctx end and returned: the waiter is free.
		if _, err := waiter.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := front.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func isDeadline(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || connect.CodeOf(err) == connect.CodeDeadlineExceeded
}

// "ctx-errors": Do returns context.DeadlineExceeded (arg 1) or
// context.Canceled, as a method whose ctx ended does.
var _ = behave("ctx-errors", &behaviour{do: func(_ context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	if r.GetArg() == 1 {
		return nil, context.DeadlineExceeded
	}
	return nil, context.Canceled
}})

// A method that returns its ctx's error is seen by the caller as that
// error: errors.Is matches context.DeadlineExceeded or context.Canceled,
// whatever process ran the method.
func TestContextErrorsReachTheCaller(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions(), "ctx-errors", nil)
		if _, err := h.Do(ctx, &testv1.DoRequest{Arg: 1}).Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("method returning context.DeadlineExceeded = %v (%T); want errors.Is to match it", err, err)
		}
		if _, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("method returning context.Canceled = %v (%T); want errors.Is to match it", err, err)
		}
	})
}
