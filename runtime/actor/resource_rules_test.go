package actor_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// The cluster has one GPU, on one node; the embedded node gets one too.
func TestFractionalGPUs(t *testing.T) {
	t.Parallel()
	forEachModeWith(t, []actor.Option{actor.WithNumGPUs(1)}, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		gpu := func() *actor.Spawner[*testv1.ProbeInit, *testv1actor.ProbeHandle] {
			return testv1actor.ProbeOptions().NumGPUs(0.5)
		}
		a := m.spawn(t, gpu(), "", nil)
		m.spawn(t, gpu(), "", nil)
		third := m.spawn(t, gpu(), "", nil)
		queued := third.Add(ctx, &testv1.AddRequest{By: 1})
		info := stateOf(t, m.sys, third.Ref().ID())
		if info.State != actor.PendingCreation || !strings.Contains(info.PendingReason, "GPU") {
			t.Fatalf("third GPU actor = %+v; want PENDING_CREATION with a GPU reason", info)
		}
		if err := m.sys.Kill(ctx, a, actor.NoRestart()); err != nil {
			t.Fatal(err)
		}
		if r, err := queued.Get(ctx); err != nil || r.GetValue() != 1 {
			t.Fatalf("call queued on the pending actor = %v, %v", r, err)
		}
		// A cluster's listing learns from the node's report, which may
		// arrive after the call's answer.
		eventually(t, "the listing to show the third actor alive", func() bool {
			info := stateOf(t, m.sys, third.Ref().ID())
			return info.State == actor.Alive && info.PendingReason == ""
		})
	})
}

// Embedded only: on one node nothing can ever join, so an infeasible actor
// fails at once; on a cluster it waits for a node that fits.
func TestInfeasibleFailsAtOnceOnEmbedded(t *testing.T) {
	t.Parallel()
	sys := start(t, nil, actor.WithNumGPUs(1), actor.WithResources(map[string]float64{"writer_node": 1}))
	ctx := context.Background()
	for name, s := range map[string]*actor.Spawner[*testv1.ProbeInit, *testv1actor.ProbeHandle]{
		"gpu":    testv1actor.ProbeOptions().NumGPUs(2),
		"custom": testv1actor.ProbeOptions().Resources(map[string]float64{"reader_node": 1}),
	} {
		_, err := s.Spawn(ctx, sys, nil)
		if !errors.Is(err, actor.ErrInfeasible) || connect.CodeOf(err) != connect.CodeFailedPrecondition {
			t.Fatalf("%s: Spawn = %v; want ErrInfeasible", name, err)
		}
	}
	if _, err := testv1actor.ProbeOptions().Resources(map[string]float64{"writer_node": 1}).Spawn(ctx, sys, nil); err != nil {
		t.Fatal(err)
	}
}

// On a cluster an actor no live node fits waits, with a reason, instead of
// failing: a node that fits may join.
func TestInfeasibleWaitsOnCluster(t *testing.T) {
	t.Parallel()
	sys := shared.get(t).connect(t)
	ctx := testCtx(t)
	h, err := testv1actor.ProbeOptions().Resources(map[string]float64{"no_such_node": 1}).Spawn(ctx, sys, nil)
	if err != nil {
		t.Fatalf("Spawn of an actor no node fits yet = %v; want it to wait", err)
	}
	if info := stateOf(t, sys, h.Ref().ID()); info.State != actor.PendingCreation || !strings.Contains(info.PendingReason, "no_such_node") {
		t.Fatalf("info = %+v; want PENDING_CREATION naming the missing resource", info)
	}
}

// "boom": every Do panics.
var _ = behave("boom", &behaviour{do: func(context.Context, *probe, *testv1.DoRequest) (*testv1.DoResponse, error) {
	panic("boom")
}})

func TestResourcesGivenBackAtDeath(t *testing.T) {
	t.Parallel()
	forEachModeWith(t, []actor.Option{actor.WithResources(contendedRes)}, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		all := testv1actor.ProbeOptions().Resources(map[string]float64{"given_back": 2})
		a := m.spawn(t, all, "boom", nil)
		b := m.spawn(t, testv1actor.ProbeOptions().Resources(map[string]float64{"given_back": 2}), "boom", nil)
		if info := stateOf(t, m.sys, b.Ref().ID()); info.State != actor.PendingCreation {
			t.Fatalf("b = %v; want pending while a holds the resource", info.State)
		}
		if _, err := a.Do(ctx, &testv1.DoRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
			t.Fatalf("panicking call = %v", err)
		}
		if _, err := b.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
			t.Fatalf("b after a died = %v; want it placed", err)
		}
	})
}

// "spawn-child": Do spawns a Probe named "child-<arg>", owned (arg 0) or
// detached (arg 1), and answers its id.
var _ = behave("spawn-child", &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	lifetime := actor.Owned
	if r.GetArg() == 1 {
		lifetime = actor.Detached
	}
	h, err := testv1actor.ProbeOptions().Lifetime(lifetime).Name("child-"+r.GetKey()).Spawn(ctx, actor.SystemFrom(ctx), nil)
	if err != nil {
		return nil, err
	}
	return &testv1.DoResponse{Text: h.Ref().ID()}, nil
}})

func TestOwnedActorsDieWithTheirOwner(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		parent := m.spawn(t, testv1actor.ProbeOptions(), "spawn-child", nil)
		ids := map[string]string{}
		for arg, key := range []string{"owned", "detached"} {
			r, err := parent.Do(ctx, &testv1.DoRequest{Arg: int64(arg), Key: key}).Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ids[key] = r.GetText()
		}
		if err := m.sys.Kill(ctx, parent, actor.NoRestart()); err != nil {
			t.Fatal(err)
		}
		eventually(t, "owned child dead", func() bool { return stateOf(t, m.sys, ids["owned"]).State == actor.Dead })
		if info := stateOf(t, m.sys, ids["owned"]); !strings.Contains(info.DeathCause, "owner died") {
			t.Fatalf("owned child cause = %q", info.DeathCause)
		}
		owned, err := testv1actor.GetProbe(ctx, m.sys, "child-owned")
		if err == nil {
			_, err = owned.Get(ctx, &testv1.GetRequest{}).Get(ctx)
		}
		if !errors.Is(err, actor.ErrActorNotFound) && !errors.Is(err, actor.ErrActorDied) {
			t.Fatalf("owned child after its owner died = %v; want it gone", err)
		}
		dh, err := testv1actor.GetProbe(ctx, m.sys, "child-detached")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dh.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
			t.Fatalf("detached child after its owner died: %v", err)
		}
		if info := stateOf(t, m.sys, ids["detached"]); info.State != actor.Alive || !info.Detached {
			t.Fatalf("detached child = %+v; want it alive", info)
		}
		if err := m.sys.Kill(ctx, dh, actor.NoRestart()); err != nil {
			t.Fatal(err)
		}
	})
}

// "spawn-pending": Do spawns a Probe named "pending-child" that needs all
// of the owner_pending resource, and answers its id.
var _ = behave("spawn-pending", &behaviour{do: func(ctx context.Context, _ *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
	h, err := testv1actor.ProbeOptions().Name("pending-child").Resources(map[string]float64{"owner_pending": 4}).
		Spawn(ctx, actor.SystemFrom(ctx), nil)
	if err != nil {
		return nil, err
	}
	return &testv1.DoResponse{Text: h.Ref().ID()}, nil
}})

func TestOwnerDiesWhilePendingCreation(t *testing.T) {
	t.Parallel()
	forEachModeWith(t, []actor.Option{actor.WithResources(contendedRes)}, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		hog := m.spawn(t, testv1actor.ProbeOptions().Resources(map[string]float64{"owner_pending": 4}), "", nil)
		parent := m.spawn(t, testv1actor.ProbeOptions(), "spawn-pending", nil)
		r, err := parent.Do(ctx, &testv1.DoRequest{}).Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		childID := r.GetText()
		child, err := testv1actor.GetProbe(ctx, m.sys, "pending-child")
		if err != nil {
			t.Fatalf("looking up the pending child: %v", err)
		}
		if child.Ref().ID() != childID {
			t.Fatalf("lookup found %s, want %s", child.Ref().ID(), childID)
		}
		queued := child.Get(ctx, &testv1.GetRequest{})
		if err := m.sys.Kill(ctx, parent, actor.NoRestart()); err != nil {
			t.Fatal(err)
		}
		_, err = queued.Get(ctx)
		var died *actor.ActorDiedError
		if !errors.As(err, &died) || died.Cause.Kind != actor.CauseOwnerDied {
			t.Fatalf("call queued on a pending child = %v; want owner died", err)
		}
		// The hog's resource was never the child's: killing it does not revive the child.
		if err := m.sys.Kill(ctx, hog, actor.NoRestart()); err != nil {
			t.Fatal(err)
		}
		if info := stateOf(t, m.sys, childID); info.State != actor.Dead {
			t.Fatalf("child = %+v; want DEAD, never created", info)
		}
	})
}
