package actor_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// Future.Cancel on a running call ends its method's ctx, as cancelling
// the caller's ctx does: a method that waits on ctx.Done() returns, and
// Get has its answer instead of waiting for ever.
func TestFutureCancelReachesRunningCall(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{}, 1)
	sys := start(t, &behaviour{do: func(ctx context.Context, _ *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
		entered <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}})
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f := h.Do(ctx, &testv1.DoRequest{})
	<-entered
	f.Cancel()
	if _, err := f.Get(ctx); !errors.Is(err, context.Canceled) || ctx.Err() != nil {
		t.Fatalf("Get after Cancel of a running call = %v; want the method's ctx.Err(), context.Canceled, at once", err)
	}
	f.Cancel() // once done: nothing
	if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
		t.Fatalf("call after the cancelled one: %v", err)
	}
}

// A running call cancelled with Future.Cancel is not retried when its
// actor dies and restarts with retries left: the caller sees canceled and
// the restarted actor never runs it.
func TestFutureCancelledRunningCallIsNotRetried(t *testing.T) {
	t.Parallel()
	var runs atomic.Int64
	entered := make(chan struct{}, 4)
	release := make(chan struct{})
	defer close(release)
	sys := start(t, &behaviour{do: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		if r.GetArg() == 1 {
			return &testv1.DoResponse{}, nil
		}
		runs.Add(1)
		entered <- struct{}{}
		<-release // a method slow to notice: still running when the kill comes
		return &testv1.DoResponse{}, nil
	}})
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(1).MaxTaskRetries(-1), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	running := h.Do(ctx, &testv1.DoRequest{})
	<-entered
	running.Cancel()
	if err := sys.Kill(ctx, h); err != nil {
		t.Fatal(err)
	}
	if _, err := running.Get(ctx); connect.CodeOf(err) != connect.CodeCanceled {
		t.Fatalf("cancelled running call after a restart = %v; want canceled", err)
	}
	// Calls run in order: this one comes after any retry of the first.
	if _, err := h.Do(ctx, &testv1.DoRequest{Arg: 1}).Get(ctx); err != nil {
		t.Fatalf("call on the restarted actor: %v", err)
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("the cancelled call ran %d times; a cancelled call is never retried", n)
	}
	if info := stateOf(t, sys, h.Ref().ID()); info.State != actor.Alive || info.Restarts != 1 {
		t.Fatalf("actor after the kill: %+v; want ALIVE after 1 restart", info)
	}
}

// Future.Cancel of a queued call on a restarting actor takes it out of
// the queue: it never runs on the restarted actor.
func TestFutureCancelWhileRestarting(t *testing.T) {
	t.Parallel()
	var runs atomic.Int64
	ctorGate := make(chan struct{})
	var restarting atomic.Bool
	sys := start(t, &behaviour{
		ctor: func(context.Context, *testv1.ProbeInit) error {
			if restarting.Load() {
				<-ctorGate
			}
			return nil
		},
		do: func(context.Context, *probe, *testv1.DoRequest) (*testv1.DoResponse, error) {
			runs.Add(1)
			return &testv1.DoResponse{}, nil
		},
	})
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(1).MaxTaskRetries(-1), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	restarting.Store(true)
	if err := sys.Kill(ctx, h); err != nil {
		t.Fatal(err)
	}
	queued := h.Do(ctx, &testv1.DoRequest{})
	queued.Cancel()
	close(ctorGate)
	if _, err := queued.Get(ctx); connect.CodeOf(err) != connect.CodeCanceled {
		t.Fatalf("call cancelled while the actor restarts = %v; want canceled", err)
	}
	if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	if n := runs.Load(); n != 0 {
		t.Fatalf("the cancelled call ran %d times", n)
	}
}

// A method's ctx ends when the method returns, and so does the ctx of a
// call it made with that ctx and did not wait for.
func TestCallsEndWithTheCallersMethodCtx(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{}, 1)
	ended := make(chan error, 1)
	var callee *testv1actor.ProbeHandle // set before the caller runs
	sys := start(t, &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		switch r.GetArg() {
		case 0: // the caller: a call to the callee, and return
			callee.Do(ctx, &testv1.DoRequest{Arg: 1})
			<-entered
		case 1:
			entered <- struct{}{}
			<-ctx.Done()
			ended <- ctx.Err()
		}
		return &testv1.DoResponse{}, nil
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	caller := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	callee = spawn(t, sys, testv1actor.ProbeOptions(), nil)
	if _, err := caller.Do(ctx, &testv1.DoRequest{}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the running call's ctx ended with %v; want context.Canceled", err)
		}
	case <-ctx.Done():
		t.Fatal("the running call's ctx did not end with its caller's method")
	}
}
