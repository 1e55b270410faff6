package actor_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// "panic-always": Do and Retried count their attempts in counter
// "attempts", then panic with the attempt's number.
var _ = behave("panic-always", func() *behaviour {
	h := func(ctx context.Context, p *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
		n, err := count(ctx, p.init, "attempts", 1)
		if err != nil {
			return nil, err
		}
		panic("attempt " + string(rune('0'+n)))
	}
	return &behaviour{do: h, retried: h}
}())

// Each retry spends one of the call's retries; when they run out the
// caller gets the error of the last attempt.
func TestRetriesRunOut(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().MaxRestarts(-1), "panic-always", nil)
		_, err := h.Retried(ctx, &testv1.DoRequest{}).Get(ctx) // 3 retries: 4 attempts
		var died *actor.ActorDiedError
		if !errors.As(err, &died) || died.Cause.Kind != actor.CausePanic || died.Cause.Message != "attempt 4" {
			t.Fatalf("call whose retries ran out = %v; want actor died with the last attempt's panic", err)
		}
		if n := m.counter(t, "attempts"); n != 4 {
			t.Fatalf("%d attempts, want 4: the first and three retries", n)
		}
	})
}

// When restarts run out before retries do, the caller gets the error of
// the last attempt, and every later call fails with actor-died.
func TestRestartsRunOutBeforeRetries(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().MaxRestarts(1).MaxTaskRetries(-1), "panic-always", nil)
		_, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx)
		var died *actor.ActorDiedError
		if !errors.As(err, &died) || died.Cause.Kind != actor.CausePanic || died.Cause.Message != "attempt 2" {
			t.Fatalf("call = %v; want actor died with the second attempt's panic", err)
		}
		if n := m.counter(t, "attempts"); n != 2 {
			t.Fatalf("%d attempts, want 2: one per life", n)
		}
		_, err = h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
		if !errors.As(err, &died) || !strings.Contains(died.Cause.Message, "attempt 2") {
			t.Fatalf("later call = %v; want actor died carrying the last cause", err)
		}
	})
}

// Calls that had finished are never run again after a restart.
func TestFinishedCallsAreNotRetried(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().MaxRestarts(1).MaxTaskRetries(-1), "retry-order", nil)
		for i := range 3 {
			if _, err := h.Do(ctx, &testv1.DoRequest{Arg: int64(i)}).Get(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.sys.Kill(ctx, h); err != nil {
			t.Fatal(err)
		}
		if r, err := h.Do(ctx, &testv1.DoRequest{Arg: 3}).Get(ctx); err != nil || r.GetValue() != 3 {
			t.Fatalf("call after restart = %v, %v", r, err)
		}
		if got, want := m.log(t, "seen"), "0,1,2,3"; got != want {
			t.Fatalf("ran %v, want %v: finished calls must not run again", got, want)
		}
	})
}

// Kill of an actor still PENDING_CREATION: with NoRestart its creation is
// cancelled and its queued calls fail (killed); without, it goes back in
// the queue for placement and is created when it fits.
func TestKillPendingActor(t *testing.T) {
	t.Parallel()
	forEachModeWith(t, []actor.Option{actor.WithResources(contendedRes)}, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		need := map[string]float64{"pending_kill": 1}
		hog := m.spawn(t, testv1actor.ProbeOptions().Resources(need), "", nil)
		cancelled := m.spawn(t, testv1actor.ProbeOptions().Resources(need), "", nil)
		requeued := m.spawn(t, testv1actor.ProbeOptions().Resources(need).MaxRestarts(1), "", &testv1.ProbeInit{Start: 9})
		for _, h := range []*testv1actor.ProbeHandle{cancelled, requeued} {
			if info := stateOf(t, m.sys, h.Ref().ID()); info.State != actor.PendingCreation {
				t.Fatalf("%+v; want PENDING_CREATION while the hog holds the resource", info)
			}
		}
		queued := cancelled.Get(ctx, &testv1.GetRequest{})
		if err := m.sys.Kill(ctx, cancelled, actor.NoRestart()); err != nil {
			t.Fatal(err)
		}
		_, err := queued.Get(ctx)
		var died *actor.ActorDiedError
		if !errors.As(err, &died) || died.Cause.Kind != actor.CauseKilled {
			t.Fatalf("call queued on a pending actor killed with NoRestart = %v; want actor died (killed)", err)
		}
		if info := stateOf(t, m.sys, cancelled.Ref().ID()); info.State != actor.Dead {
			t.Fatalf("pending actor killed with NoRestart = %+v; want DEAD", info)
		}
		if err := m.sys.Kill(ctx, requeued); err != nil {
			t.Fatal(err)
		}
		waiting := requeued.Get(ctx, &testv1.GetRequest{})
		if err := m.sys.Kill(ctx, hog, actor.NoRestart()); err != nil {
			t.Fatal(err)
		}
		if r, err := waiting.Get(ctx); err != nil || r.GetValue() != 9 {
			t.Fatalf("call on the requeued actor = %v, %v; want it created once the resource is free", r, err)
		}
	})
}

// NodeAffinity: hard affinity places the actor on that node; an unknown
// node fails hard affinity as unschedulable and soft affinity falls back to
// any node.
func TestNodeAffinity(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		nodes, err := m.sys.ListNodes(ctx)
		if err != nil || len(nodes) == 0 {
			t.Fatalf("ListNodes = %v, %v", nodes, err)
		}
		if m.cluster && len(nodes) != 3 {
			t.Fatalf("cluster has %d nodes, want 3", len(nodes))
		}
		for _, n := range nodes {
			h := m.spawn(t, testv1actor.ProbeOptions().Scheduling(actor.NodeAffinity(n.ID, false)), "where", nil)
			if r, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx); err != nil || r.GetText() != n.ID {
				t.Fatalf("actor with hard affinity to %s runs on %v (%v)", n.ID, r.GetText(), err)
			}
		}
		_, err = m.trySpawn(t, testv1actor.ProbeOptions().Scheduling(actor.NodeAffinity("no-such-node", false)), "", nil)
		if !errors.Is(err, actor.ErrUnschedulable) {
			t.Fatalf("hard affinity to an unknown node = %v; want ErrUnschedulable", err)
		}
		h := m.spawn(t, testv1actor.ProbeOptions().Scheduling(actor.NodeAffinity("no-such-node", true)), "", nil)
		if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
			t.Fatalf("soft affinity to an unknown node = %v; want it placed elsewhere", err)
		}
	})
}

// A detached actor outlives the driver that spawned it and a later driver
// finds it by name. Cluster only: an embedded system is its only driver.
func TestDetachedOutlivesItsDriver(t *testing.T) {
	t.Parallel()
	c := shared.get(t)
	first := c.connect(t)
	ctx := testCtx(t)
	h, err := testv1actor.ProbeOptions().Name("keeper").Lifetime(actor.Detached).Spawn(ctx, first, &testv1.ProbeInit{Start: 41})
	if err != nil {
		t.Fatal(err)
	}
	owned, err := testv1actor.ProbeOptions().Spawn(ctx, first, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	if err := first.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	later := c.connectNS(t, first.Namespace())
	found, err := testv1actor.GetProbe(ctx, later, "keeper")
	if err != nil {
		t.Fatalf("a later driver's lookup = %v", err)
	}
	if r, err := found.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil || r.GetValue() != 42 {
		t.Fatalf("detached actor after its driver ended = %v, %v; want its state, 42", r, err)
	}
	eventually(t, "the driver's owned actor to die", func() bool { return stateOf(t, later, owned.Ref().ID()).State == actor.Dead })
	if err := later.Kill(ctx, found, actor.NoRestart()); err != nil {
		t.Fatal(err)
	}
}
