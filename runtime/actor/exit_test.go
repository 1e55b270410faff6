package actor_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// exited fails the test unless err is ErrActorDied with cause exited.
func exited(t *testing.T, what string, err error) {
	t.Helper()
	var died *actor.ActorDiedError
	if !errors.As(err, &died) || died.Cause.Kind != actor.CauseExited {
		t.Fatalf("%s = %v; want ErrActorDied (exited)", what, err)
	}
}

// ExitActor from a goroutine the actor started, after the method that
// started it returned, ends the actor at once: its Stop hook has run when
// ExitActor returns, and calls fail with ErrActorDied instead of hanging.
func TestExitActorFromGoroutineAfterReturn(t *testing.T) {
	t.Parallel()
	var stops atomic.Int64
	trigger := make(chan struct{})
	exitErr := make(chan error, 1)
	sys := start(t, &behaviour{
		do: func(ctx context.Context, _ *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
			go func() {
				<-trigger
				exitErr <- actor.ExitActor(ctx)
			}()
			return &testv1.DoResponse{}, nil
		},
		stop: func(context.Context, *probe) error { stops.Add(1); return nil },
	})
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(3), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	close(trigger)
	if err := <-exitErr; err != nil {
		t.Fatalf("ExitActor from the actor's goroutine = %v", err)
	}
	if n := stops.Load(); n != 1 {
		t.Fatalf("Stop ran %d times by the time ExitActor returned, want 1", n)
	}
	_, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
	exited(t, "call after the exit", err)
	if info := stateOf(t, sys, h.Ref().ID()); info.State != actor.Dead || info.Restarts != 0 {
		t.Fatalf("actor after ExitActor: %+v; want DEAD, not restarted", info)
	}
}

// ExitActor inside a method that goes on running fails the calls queued
// behind it, and those made afterwards, at once; the exiting call still
// returns its result, and then the actor is DEAD.
func TestExitFailsQueuedAndLaterCallsAtOnce(t *testing.T) {
	t.Parallel()
	var stops atomic.Int64
	g1, g2 := newGate(1), newGate(1)
	sys := start(t, &behaviour{
		do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
			if r.GetArg() != 0 {
				return &testv1.DoResponse{Text: "ran"}, nil
			}
			if err := g1.pass(ctx); err != nil {
				return nil, err
			}
			if err := actor.ExitActor(ctx); err != nil {
				return nil, err
			}
			if err := g2.pass(ctx); err != nil {
				return nil, err
			}
			return &testv1.DoResponse{Text: "bye"}, nil
		},
		stop: func(context.Context, *probe) error { stops.Add(1); return nil },
	})
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(3).MaxTaskRetries(-1), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	exiting := h.Do(ctx, &testv1.DoRequest{})
	g1.wait(t, 1)
	queued := h.Do(ctx, &testv1.DoRequest{Arg: 1})
	g1.open()
	g2.wait(t, 1) // ExitActor has returned; the method still runs
	_, err := queued.Get(ctx)
	exited(t, "call queued behind the exiting one", err)
	_, err = h.Do(ctx, &testv1.DoRequest{Arg: 1}).Get(ctx)
	exited(t, "call made after the exit", err)
	if n := stops.Load(); n != 0 {
		t.Fatalf("Stop ran while a call still runs")
	}
	g2.open()
	if r, err := exiting.Get(ctx); err != nil || r.GetText() != "bye" {
		t.Fatalf("exiting call = %v, %v; want its result", r, err)
	}
	eventually(t, "the actor to be DEAD", func() bool { return stateOf(t, sys, h.Ref().ID()).State == actor.Dead })
	if info := stateOf(t, sys, h.Ref().ID()); info.Restarts != 0 || stops.Load() != 1 {
		t.Fatalf("after the exit: %+v, Stop ran %d times; want no restart and one Stop", info, stops.Load())
	}
}

// An actor that called ExitActor and then panics is not restarted: it
// is DEAD with the panic as its cause, and calls fail instead of waiting
// for an actor that will never take them.
func TestExitThenPanicIsNotRestarted(t *testing.T) {
	t.Parallel()
	sys := start(t, &behaviour{do: func(ctx context.Context, _ *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
		if err := actor.ExitActor(ctx); err != nil {
			return nil, err
		}
		panic("after exit")
	}})
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(3).MaxTaskRetries(-1), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
		t.Fatalf("exiting call that panics = %v; want ErrActorDied", err)
	}
	if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
		t.Fatalf("later call = %v; want ErrActorDied", err)
	}
	if info := stateOf(t, sys, h.Ref().ID()); info.State != actor.Dead || info.Restarts != 0 || info.DeathCause == "" {
		t.Fatalf("actor = %+v; want DEAD, not restarted, with the panic as cause", info)
	}
}

// ExitActor in a constructor ends the actor as the constructor returns:
// DEAD with cause exited, its Stop hook run, no restart, and calls fail
// with ErrActorDied. A constructor spawned from a method ends its own
// actor, not the spawner.
func TestExitActorInConstructor(t *testing.T) {
	t.Parallel()
	var stops atomic.Int64
	ctorErr := make(chan error, 2)
	b := &behaviour{
		ctor: func(ctx context.Context, init *testv1.ProbeInit) error {
			if init.GetLabel() == "exit" {
				ctorErr <- actor.ExitActor(ctx)
			}
			return nil
		},
		stop: func(context.Context, *probe) error { stops.Add(1); return nil },
	}
	b.do = func(ctx context.Context, _ *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
		child, err := testv1actor.ProbeOptions().Spawn(ctx, actor.SystemFrom(ctx), &testv1.ProbeInit{Label: "exit"})
		if err != nil {
			return nil, err
		}
		return &testv1.DoResponse{Text: child.Ref().ID()}, nil
	}
	sys := start(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(3).MaxTaskRetries(-1), &testv1.ProbeInit{Label: "exit"})
	_, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
	exited(t, "call to an actor whose constructor exited", err)
	if err := <-ctorErr; err != nil {
		t.Fatalf("ExitActor in a constructor = %v", err)
	}
	// The call may fail while the constructor still runs; the actor ends,
	// Stop hook and all, as it returns.
	eventually(t, "the Stop hook to run", func() bool { return stops.Load() >= 1 })
	info := stateOf(t, sys, h.Ref().ID())
	if info.State != actor.Dead || info.Restarts != 0 || stops.Load() != 1 {
		t.Fatalf("actor = %+v, Stop ran %d times; want DEAD, not restarted, Stop once", info, stops.Load())
	}

	parent := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	r, err := parent.Do(ctx, &testv1.DoRequest{}).Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-ctorErr; err != nil {
		t.Fatalf("ExitActor in a constructor spawned from a method = %v", err)
	}
	eventually(t, "the child to be DEAD", func() bool { return stateOf(t, sys, r.GetText()).State == actor.Dead })
	if _, err := parent.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
		t.Fatalf("the spawner after its child exited: %v", err)
	}
}
