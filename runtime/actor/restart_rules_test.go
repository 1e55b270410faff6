package actor_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// "panic3": the constructor counts lives; the third Do of each life panics.
var _ = behave("panic3", &behaviour{
	ctor: func(ctx context.Context, init *testv1.ProbeInit) error {
		_, err := count(ctx, init, "ctors", 1)
		return err
	},
	do: func(_ context.Context, p *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
		p.n++
		if p.n == 3 {
			panic(fmt.Sprintf("third call on instance %p", p))
		}
		return &testv1.DoResponse{Value: p.n}, nil
	},
})

func TestPanicRestartsWithFreshState(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().MaxRestarts(2), "panic3", nil)
		for death := 1; death <= 3; death++ {
			for want := int64(1); want <= 2; want++ {
				r, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx)
				if err != nil || r.GetValue() != want {
					t.Fatalf("life %d: call %d = %v, %v; want %d (state reset after restart)", death, want, r, err, want)
				}
			}
			_, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx)
			var died *actor.ActorDiedError
			if !errors.As(err, &died) || died.Cause.Kind != actor.CausePanic ||
				!strings.Contains(died.Cause.Message, "third call on instance") || !strings.Contains(died.Cause.Stack, "restart_rules_test.go") {
				t.Fatalf("life %d: panicking call = %v; want actor died with the panic text and stack", death, err)
			}
			if died.Restarts != death-1 {
				t.Fatalf("life %d: died after %d restarts", death, died.Restarts)
			}
			// Calls without task retries fail with ErrActorUnavailable while the
			// constructor re-runs: wait for the restart to finish.
			if death < 3 {
				eventually(t, "restart done", func() bool {
					info := stateOf(t, m.sys, h.Ref().ID())
					return info.State == actor.Alive && info.Restarts == death
				})
			}
		}
		if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
			t.Fatalf("call after the last death = %v; want ErrActorDied", err)
		}
		// A listing reflects the death once the node's report reaches the
		// head (at once on an embedded node).
		var info actor.ActorInfo
		eventually(t, "the listing to show the death", func() bool {
			info = stateOf(t, m.sys, h.Ref().ID())
			return info.State != actor.Alive
		})
		if info.State != actor.Dead || info.Restarts != 2 || !strings.Contains(info.DeathCause, "third call") {
			t.Fatalf("info = %+v", info)
		}
		if n := m.counter(t, "ctors"); n != 3 {
			t.Fatalf("constructor ran %d times, want 3", n)
		}
	})
}

// "retry-order": the first attempt of Do arg 5 waits at gate "g" (a kill
// ends it); every Do that completes records its arg in log "seen".
var _ = behave("retry-order", &behaviour{do: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	if r.GetArg() == 5 {
		first, err := count(ctx, p.init, "blocked", 1)
		if err != nil {
			return nil, err
		}
		if first == 1 {
			if err := pass(ctx, p, "g"); err != nil {
				return nil, err // the kill cancels this attempt
			}
		}
	}
	if err := record(ctx, p, "seen", fmt.Sprint(r.GetArg())); err != nil {
		return nil, err
	}
	return &testv1.DoResponse{Value: r.GetArg()}, nil
}})

func TestTaskRetriesKeepOrderAcrossRestart(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().MaxRestarts(1).MaxTaskRetries(-1), "retry-order", nil)
		var futs []*actor.Future[*testv1.DoResponse]
		for i := range 10 {
			futs = append(futs, h.Do(ctx, &testv1.DoRequest{Arg: int64(i)}))
		}
		m.arrived(t, "g", 1) // call 5 is running, 6..9 queued
		if err := m.sys.Kill(ctx, h); err != nil {
			t.Fatal(err)
		}
		for i, f := range futs {
			if r, err := f.Get(ctx); err != nil || r.GetValue() != int64(i) {
				t.Fatalf("call %d = %v, %v; want success on the restarted actor", i, r, err)
			}
		}
		if got, want := m.log(t, "seen"), "0,1,2,3,4,5,6,7,8,9"; got != want {
			t.Fatalf("completed in order %v, want %v", got, want)
		}
		if info := stateOf(t, m.sys, h.Ref().ID()); info.State != actor.Alive || info.Restarts != 1 {
			t.Fatalf("info = %+v", info)
		}
	})
}

func TestNoTaskRetriesFailInFlightCalls(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().MaxRestarts(1), "hold", nil)
		running := h.Do(ctx, &testv1.DoRequest{Arg: 0})
		m.arrived(t, "g", 1)
		queued := h.Do(ctx, &testv1.DoRequest{Arg: 1})
		retried := h.Retried(ctx, &testv1.DoRequest{Arg: 2}) // method option: 3 retries
		// Both calls are in the actor's queue before the kill (on a cluster
		// they travel while Do returns).
		eventually(t, "two queued calls", func() bool { return stateOf(t, m.sys, h.Ref().ID()).PendingCalls == 2 })
		if err := m.sys.Kill(ctx, h); err != nil {
			t.Fatal(err)
		}
		for name, f := range map[string]*actor.Future[*testv1.DoResponse]{"running": running, "queued": queued} {
			_, err := f.Get(ctx)
			var died *actor.ActorDiedError
			if !errors.As(err, &died) || died.Cause.Kind != actor.CauseKilled {
				t.Fatalf("%s call = %v; want actor died (killed)", name, err)
			}
		}
		if r, err := retried.Get(ctx); err != nil || r.GetValue() != 2 {
			t.Fatalf("call with a method-level retry = %v, %v; want success after restart", r, err)
		}
		if r, err := h.Do(ctx, &testv1.DoRequest{Arg: 3}).Get(ctx); err != nil || r.GetValue() != 3 {
			t.Fatalf("call after restart = %v, %v", r, err)
		}
	})
}

// "slow-restart": the second life's constructor waits at gate "ctor".
var _ = behave("slow-restart", &behaviour{ctor: func(ctx context.Context, init *testv1.ProbeInit) error {
	lives, err := count(ctx, init, "lives", 1)
	if err != nil || lives != 2 {
		return err
	}
	_, err = coordDo(ctx, init, "pass/ctor", 0)
	return err
}})

func TestUnavailableWhileRestarting(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().MaxRestarts(1), "slow-restart", nil)
		if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
			t.Fatal(err)
		}
		if err := m.sys.Kill(ctx, h); err != nil {
			t.Fatal(err)
		}
		m.arrived(t, "ctor", 1)
		eventually(t, "restarting", func() bool { return stateOf(t, m.sys, h.Ref().ID()).State == actor.Restarting })
		_, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
		if !errors.Is(err, actor.ErrActorUnavailable) || connect.CodeOf(err) != connect.CodeUnavailable {
			t.Fatalf("call without retries while restarting = %v; want ErrActorUnavailable", err)
		}
		var unavailable *actor.ActorUnavailableError
		if !errors.As(err, &unavailable) || unavailable.ActorID != h.Ref().ID() || unavailable.Reason == "" {
			t.Fatalf("call without retries while restarting = %v; want an *actor.ActorUnavailableError naming the actor", err)
		}
		waiting := h.Retried(ctx, &testv1.DoRequest{})
		m.open(t, "ctor")
		if _, err := waiting.Get(ctx); err != nil {
			t.Fatalf("call with retries while restarting = %v; want it to wait and succeed", err)
		}
	})
}

// "app-errors": Do counts its attempts in counter "attempts"; with arg 1 it
// fails with a *connect.Error carrying metadata, else with a plain error.
var _ = behave("app-errors", &behaviour{do: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	if _, err := count(ctx, p.init, "attempts", 1); err != nil {
		return nil, err
	}
	if r.GetArg() == 1 {
		err := connect.NewError(connect.CodeInvalidArgument, errors.New("bad widget"))
		err.Meta().Set("x-widget", "7")
		return nil, err
	}
	return nil, errors.New("plain failure")
}})

func TestApplicationErrorsUnchanged(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().MaxRestarts(-1).MaxTaskRetries(-1), "app-errors", nil)
		_, err := h.Do(ctx, &testv1.DoRequest{Arg: 1}).Get(ctx)
		var ce *connect.Error
		if !errors.As(err, &ce) || ce.Code() != connect.CodeInvalidArgument || ce.Message() != "bad widget" || ce.Meta().Get("x-widget") != "7" {
			t.Fatalf("error = %v (%T, meta %v); want the method's *connect.Error, code, message and metadata unchanged", err, err, metaOf(ce))
		}
		_, err = h.Do(ctx, &testv1.DoRequest{Arg: 2}).Get(ctx)
		if err == nil || err.Error() != "plain failure" && !strings.HasSuffix(err.Error(), ": plain failure") {
			t.Fatalf("error = %v; want the method's error unchanged", err)
		}
		if m.embedded() && err.Error() != "plain failure" {
			t.Fatalf("error = %v; want the method's error itself", err)
		}
		if info := stateOf(t, m.sys, h.Ref().ID()); info.Restarts != 0 || info.State != actor.Alive {
			t.Fatalf("application errors restarted the actor: %+v", info)
		}
		if n := m.counter(t, "attempts"); n != 2 {
			t.Fatalf("%d attempts for two failing calls, want 2: application errors are never retried", n)
		}
	})
}

func metaOf(ce *connect.Error) any {
	if ce == nil {
		return nil
	}
	return ce.Meta()
}

// "exit": Do ends the actor gracefully; Stop counts in counter "stops".
var _ = behave("exit", &behaviour{
	do: func(ctx context.Context, _ *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
		if err := actor.ExitActor(ctx); err != nil {
			return nil, err
		}
		return &testv1.DoResponse{Text: "bye"}, nil
	},
	stop: func(ctx context.Context, p *probe) error {
		// Stop's ctx carries no System: call through the constructor's.
		c, err := testv1actor.ProbeFromRef(ctx, p.sys, p.init.GetCoord())
		if err != nil {
			return err
		}
		_, err = c.Do(ctx, &testv1.DoRequest{Key: "add/stops", Arg: 1}).Get(ctx)
		return err
	},
})

func TestExitActorAndStopHook(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().MaxRestarts(5).Name("leaver"), "exit", nil)
		if r, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx); err != nil || r.GetText() != "bye" {
			t.Fatalf("exiting call = %v, %v; want its result", r, err)
		}
		_, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
		var died *actor.ActorDiedError
		if !errors.As(err, &died) || died.Cause.Kind != actor.CauseExited {
			t.Fatalf("call after exit = %v; want actor died (exited)", err)
		}
		eventually(t, "Stop to run", func() bool { return m.counter(t, "stops") >= 1 })
		// A listing reflects the exit once the node's report reaches the
		// head; an exited actor is never restarted, so it must read DEAD.
		var info actor.ActorInfo
		eventually(t, "the listing to show the exit", func() bool {
			info = stateOf(t, m.sys, h.Ref().ID())
			return info.State == actor.Dead || info.Restarts != 0
		})
		if info.State != actor.Dead || info.Restarts != 0 {
			t.Fatalf("exited actor restarted: %+v", info)
		}
		if _, err := testv1actor.GetProbe(ctx, m.sys, "leaver"); !errors.Is(err, actor.ErrActorNotFound) {
			t.Fatalf("name of exited actor still bound: %v", err)
		}
		if n := m.counter(t, "stops"); n != 1 {
			t.Fatalf("Stop ran %d times, want 1", n)
		}
		if err := actor.ExitActor(ctx); !errors.Is(err, actor.ErrNotInActor) {
			t.Fatalf("ExitActor outside an actor = %v", err)
		}
	})
}

func TestKillWithRestart(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().MaxRestarts(1), "", &testv1.ProbeInit{Start: 5})
		if _, err := h.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); err != nil {
			t.Fatal(err)
		}
		if err := m.sys.Kill(ctx, h); err != nil {
			t.Fatal(err)
		}
		eventually(t, "restart", func() bool {
			info := stateOf(t, m.sys, h.Ref().ID())
			return info.State == actor.Alive && info.Restarts == 1
		})
		if r, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil || r.GetValue() != 5 {
			t.Fatalf("after restart = %v, %v; want the constructor's 5", r, err)
		}
		if err := m.sys.Kill(ctx, h); err != nil { // no restarts left
			t.Fatal(err)
		}
		_, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
		var died *actor.ActorDiedError
		if !errors.As(err, &died) || died.Cause.Kind != actor.CauseKilled {
			t.Fatalf("after last kill = %v; want actor died (killed)", err)
		}
	})
}

// The running call's context is cancelled by a kill, and the killed actor's
// queued calls fail with actor-died (cause killed) at once.
func TestKillCancelsTheRunningCall(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions(), "hold", nil)
		running := h.Do(ctx, &testv1.DoRequest{Arg: 0})
		m.arrived(t, "g", 1)
		queued := h.Do(ctx, &testv1.DoRequest{Arg: 1})
		if err := m.sys.Kill(ctx, h, actor.NoRestart()); err != nil {
			t.Fatal(err)
		}
		for name, f := range map[string]*actor.Future[*testv1.DoResponse]{"running": running, "queued": queued} {
			_, err := f.Get(ctx)
			var died *actor.ActorDiedError
			if !errors.As(err, &died) || died.Cause.Kind != actor.CauseKilled {
				t.Fatalf("%s call = %v; want actor died (killed)", name, err)
			}
		}
		// The running method saw its ctx end: its wait at the gate was
		// cancelled, so no caller is left at the gate.
		eventually(t, "the running method's ctx to end", func() bool { return m.coordCall(t, "waiting/g", 0).GetValue() == 0 })
	})
}
