package actor_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

func freeCPU(t *testing.T, sys *actor.System) float64 {
	t.Helper()
	nodes, err := sys.ListNodes(context.Background())
	if err != nil || len(nodes) != 1 {
		t.Fatalf("ListNodes = %v, %v", nodes, err)
	}
	return nodes[0].Available["CPU"]
}

func pgActorInfo(t *testing.T, sys *actor.System, id string) actor.ActorInfo {
	t.Helper()
	list, err := sys.ListActors(context.Background(), actor.Filter("id", id))
	if err != nil || len(list) != 1 {
		t.Fatalf("ListActors(id=%s) = %v, %v", id, list, err)
	}
	return list[0]
}

// freeOf sums what the nodes of sys have free of resource r.
func freeOf(t *testing.T, sys *actor.System, r string) float64 {
	t.Helper()
	nodes, err := sys.ListNodes(context.Background())
	if err != nil {
		t.Fatalf("ListNodes = %v, %v", nodes, err)
	}
	var free float64
	for _, n := range nodes {
		free += n.Available[r]
	}
	return free
}

// A STRICT_PACK group of two bundles fits one node; actors placed in its
// bundles draw on the reservation, not on the node's free resources;
// removing the group kills them and frees the reservation. The rule's
// resource is pg_pack, 4 of it on one node.
func TestPlacementGroupReservesAndFrees(t *testing.T) {
	t.Parallel()
	forEachModeWith(t, []actor.Option{actor.WithResources(contendedRes)}, func(t *testing.T, m *mode) {
		sys := m.sys
		ctx := testCtx(t)
		one := map[string]float64{"pg_pack": 1}
		pg, err := actor.CreatePlacementGroup(ctx, sys, []map[string]float64{one, one}, actor.StrictPack)
		if err != nil {
			t.Fatal(err)
		}
		if err := pg.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		if got := freeOf(t, sys, "pg_pack"); got != 2 {
			t.Fatalf("free pg_pack after reserving 2 = %v, want 2", got)
		}
		in := func(bundle int) *actor.Spawner[*testv1.ProbeInit, *testv1actor.ProbeHandle] {
			return testv1actor.ProbeOptions().Resources(one).PlacementGroup(pg, bundle)
		}
		a := m.spawn(t, in(0), "where", nil)
		b := m.spawn(t, in(1), "where", nil)
		var nodes []string
		for _, h := range []*testv1actor.ProbeHandle{a, b} {
			r, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			nodes = append(nodes, r.GetText())
		}
		if nodes[0] != nodes[1] {
			t.Fatalf("STRICT_PACK bundles' actors on nodes %v; want one node", nodes)
		}
		if got := freeOf(t, sys, "pg_pack"); got != 2 {
			t.Fatalf("free pg_pack with two actors in the bundles = %v, want 2: they must use the reservation", got)
		}
		// Bundle 0 is full: a third actor in it waits, with a reason, though
		// the node has the resource free.
		c := m.spawn(t, in(0), "", nil)
		if in := pgActorInfo(t, sys, c.Ref().ID()); in.State != actor.PendingCreation || in.PendingReason == "" {
			t.Fatalf("third actor in a full bundle: %+v; want PENDING_CREATION with a reason", in)
		}
		// An actor too big for its bundle can never be placed.
		if _, err := testv1actor.ProbeOptions().Resources(map[string]float64{"pg_pack": 2}).PlacementGroup(pg, 1).Spawn(ctx, sys, nil); !errors.Is(err, actor.ErrInfeasible) {
			t.Fatalf("actor larger than its bundle: %v, want ErrInfeasible", err)
		}
		if _, err := testv1actor.ProbeOptions().PlacementGroup(pg, 2).Spawn(ctx, sys, nil); !errors.Is(err, actor.ErrInvalidOption) {
			t.Fatalf("bundle out of range: %v, want ErrInvalidOption", err)
		}

		if err := actor.RemovePlacementGroup(ctx, sys, pg); err != nil {
			t.Fatal(err)
		}
		for _, h := range []*testv1actor.ProbeHandle{a, b, c} {
			id := h.Ref().ID()
			eventually(t, "the group's actors to die", func() bool { return pgActorInfo(t, sys, id).State == actor.Dead })
		}
		if _, err := a.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
			t.Fatalf("call after removal: %v, want ErrActorDied", err)
		}
		eventually(t, "the reservation to be freed", func() bool { return freeOf(t, sys, "pg_pack") == 4 })
		if err := pg.Ready(ctx); !errors.Is(err, actor.ErrActorNotFound) {
			t.Fatalf("Ready after removal: %v, want ErrActorNotFound", err)
		}
	})
}

// Embedded only: on one node STRICT_SPREAD of two bundles can never be
// placed and fails at once (a cluster waits for nodes to join); a group
// that fits later waits with a reason until it does.
func TestPlacementGroupEmbeddedInfeasibleAndPending(t *testing.T) {
	t.Parallel()
	sys := start(t, nil, actor.WithNumCPUs(2))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if _, err := actor.CreatePlacementGroup(ctx, sys, []map[string]float64{{"CPU": 1}, {"CPU": 1}}, actor.StrictSpread); !errors.Is(err, actor.ErrInfeasible) {
		t.Fatalf("STRICT_SPREAD of 2 on one node: %v, want ErrInfeasible", err)
	}
	if _, err := actor.CreatePlacementGroup(ctx, sys, []map[string]float64{{"CPU": 1}}, actor.DefaultScheduling); !errors.Is(err, actor.ErrInvalidOption) {
		t.Fatalf("DefaultScheduling as a placement strategy: %v, want ErrInvalidOption", err)
	}
	hog := spawn(t, sys, testv1actor.ProbeOptions().NumCPUs(2), nil)
	pg, err := actor.CreatePlacementGroup(ctx, sys, []map[string]float64{{"CPU": 1}, {"CPU": 1}}, actor.Spread)
	if err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if err := pg.Ready(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ready of a group without room: %v, want a deadline", err)
	}
	if info, err := pg.Info(ctx); err != nil || info.State != actor.PlacementGroupPending || info.PendingReason == "" {
		t.Fatalf("Info = %+v, %v; want PENDING with a reason", info, err)
	}
	if err := sys.Kill(ctx, hog, actor.NoRestart()); err != nil {
		t.Fatal(err)
	}
	if err := pg.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if got := freeCPU(t, sys); got != 0 {
		t.Fatalf("free CPU = %v, want 0", got)
	}
	if err := actor.RemovePlacementGroup(ctx, sys, pg); err != nil {
		t.Fatal(err)
	}
	if got := freeCPU(t, sys); got != 2 {
		t.Fatalf("free CPU after removal = %v, want 2", got)
	}
}
