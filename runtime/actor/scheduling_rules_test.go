package actor_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// ListNodes shows every node alive, one of them the head, each with the
// classes its binary registered and what it declares.
func TestListNodes(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		nodes, err := m.sys.ListNodes(ctx)
		want := 1
		if m.cluster {
			want = 3
		}
		if err != nil || len(nodes) != want {
			t.Fatalf("ListNodes = %d nodes, %v; want %d", len(nodes), err, want)
		}
		heads := 0
		for _, n := range nodes {
			if n.Head {
				heads++
			}
			if n.State != "ALIVE" || !slices.Contains(n.Classes, testv1actor.ProbeClassName) || n.Total["CPU"] <= 0 || n.PID == 0 {
				t.Errorf("node %+v; want ALIVE, hosting Probe, with CPUs and a pid", n)
			}
		}
		if heads != 1 {
			t.Fatalf("%d heads, want 1", heads)
		}
		if !slices.IsSortedFunc(nodes, func(a, b actor.NodeInfo) int { return compareStrings(a.ID, b.ID) }) {
			t.Fatal("nodes not sorted by id")
		}
	})
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// SPREAD places actors across the nodes, best effort: on idle nodes, as
// many actors as nodes land one on each.
func TestSpreadAcrossNodes(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		nodes, err := m.sys.ListNodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for range nodes {
			h := m.spawn(t, testv1actor.ProbeOptions().Scheduling(actor.Spread), "where", nil)
			r, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			seen[r.GetText()] = true
		}
		if len(seen) != len(nodes) {
			t.Fatalf("%d SPREAD actors landed on %d nodes, want one on each", len(nodes), len(seen))
		}
	})
}

// "group-barrier": Io waits until arg Io calls run at once.
var _ = behave("group-barrier", &behaviour{io: barrierHook})

// The ConcurrencyGroups option sets a group's limit for one actor.
func TestConcurrencyGroupLimitSetAtSpawn(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().ConcurrencyGroups(map[string]int{"io": 3}), "group-barrier", nil)
		var futs []*actor.Future[*testv1.DoResponse]
		for range 3 {
			futs = append(futs, h.Io(ctx, &testv1.DoRequest{Arg: 3})) // returns only if all three run at once
		}
		for _, f := range futs {
			if _, err := f.Get(ctx); err != nil {
				t.Fatalf("three io calls did not run at once: %v", err)
			}
		}
	})
}

// "killer": Do finds the Probe named in r.Key and kills it without restart.
var _ = behave("killer", &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	sys := actor.SystemFrom(ctx)
	h, err := testv1actor.GetProbe(ctx, sys, r.GetKey())
	if err != nil {
		return nil, err
	}
	return &testv1.DoResponse{}, sys.Kill(ctx, h, actor.NoRestart())
}})

// Kill works from anywhere: an actor finds another by name and kills it.
func TestKillFromAnotherActor(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		victim := m.spawn(t, testv1actor.ProbeOptions().Name("victim").MaxRestarts(3), "", nil)
		if _, err := victim.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
			t.Fatal(err)
		}
		killer := m.spawn(t, testv1actor.ProbeOptions(), "killer", nil)
		if _, err := killer.Do(ctx, &testv1.DoRequest{Key: "victim"}).Get(ctx); err != nil {
			t.Fatalf("kill from an actor = %v", err)
		}
		_, err := victim.Get(ctx, &testv1.GetRequest{}).Get(ctx)
		var died *actor.ActorDiedError
		if !errors.As(err, &died) || died.Cause.Kind != actor.CauseKilled {
			t.Fatalf("call to the victim = %v; want actor died (killed), no restart", err)
		}
	})
}
