package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// Killing an actor that waits on the head for a node follows the rule of
// an embedded node: with NoRestart it is never created; without, it spends
// a restart and waits again, or dies when it has none left. Calls made
// while it waited fail with ErrActorDied once it is dead.
func TestKillPendingActor(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	sys := c.connect("pending")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nowhere := func() *actor.Spawner[*testv1.ProbeInit, *testv1actor.ProbeHandle] {
		return testv1actor.ProbeOptions().Resources(map[string]float64{"nowhere": 1})
	}
	pending := func(h *testv1actor.ProbeHandle) actor.ActorInfo {
		t.Helper()
		in := info(t, sys, h.Ref().ID())
		if in.State != actor.PendingCreation {
			t.Fatalf("actor %s is %v, want PENDING_CREATION", in.ID, in.State)
		}
		return in
	}
	dead := func(h *testv1actor.ProbeHandle, call *actor.Future[*testv1.GetResponse]) {
		t.Helper()
		if in := info(t, sys, h.Ref().ID()); in.State != actor.Dead || !contains(in.DeathCause, "killed") {
			t.Fatalf("after the kill: %v (%q), want DEAD, killed", in.State, in.DeathCause)
		}
		if _, err := call.Get(ctx); !errors.Is(err, actor.ErrActorDied) {
			t.Fatalf("call made while it waited: %v, want ErrActorDied", err)
		}
		if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
			t.Fatalf("call after the kill: %v, want ErrActorDied", err)
		}
	}

	t.Run("no restart", func(t *testing.T) {
		h := spawn(t, sys, nowhere().MaxRestarts(3))
		pending(h)
		call := h.Get(ctx, &testv1.GetRequest{})
		if err := sys.Kill(ctx, h, actor.NoRestart()); err != nil {
			t.Fatal(err)
		}
		dead(h, call)
	})
	t.Run("restart spent", func(t *testing.T) {
		h := spawn(t, sys, nowhere().MaxRestarts(1))
		call := h.Get(ctx, &testv1.GetRequest{})
		if err := sys.Kill(ctx, h); err != nil {
			t.Fatal(err)
		}
		if in := pending(h); in.Restarts != 1 {
			t.Fatalf("after a kill with a restart left: restarts %d, want 1", in.Restarts)
		}
		if err := sys.Kill(ctx, h); err != nil {
			t.Fatal(err)
		}
		dead(h, call)
	})
	t.Run("no restarts left", func(t *testing.T) {
		h := spawn(t, sys, nowhere().MaxRestarts(0))
		call := h.Get(ctx, &testv1.GetRequest{})
		if err := sys.Kill(ctx, h); err != nil {
			t.Fatal(err)
		}
		dead(h, call)
	})
}
