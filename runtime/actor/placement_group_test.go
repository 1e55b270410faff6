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

// A STRICT_PACK group of two bundles fits the one node; actors placed in
// its bundles draw on the reservation, not on the node's free CPU; removing
// the group kills them and frees the reservation.
func TestPlacementGroupEmbedded(t *testing.T) {
	t.Parallel()
	sys := start(t, nil, actor.WithNumCPUs(4))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	pg, err := actor.CreatePlacementGroup(ctx, sys, []map[string]float64{{"CPU": 1}, {"CPU": 1}}, actor.StrictPack)
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if got := freeCPU(t, sys); got != 2 {
		t.Fatalf("free CPU after reserving 2 = %v, want 2", got)
	}
	a := spawn(t, sys, testv1actor.ProbeOptions().NumCPUs(1).PlacementGroup(pg, 0), nil)
	b := spawn(t, sys, testv1actor.ProbeOptions().NumCPUs(1).PlacementGroup(pg, 1), nil)
	for _, h := range []*testv1actor.ProbeHandle{a, b} {
		if res, err := h.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); err != nil || res.GetValue() != 1 {
			t.Fatalf("Add = %v, %v", res, err)
		}
	}
	if got := freeCPU(t, sys); got != 2 {
		t.Fatalf("free CPU with two actors in the bundles = %v, want 2: they must use the reservation", got)
	}
	// Bundle 0 is full: a third actor in it waits, with a reason, though
	// the node has free CPU.
	c := spawn(t, sys, testv1actor.ProbeOptions().NumCPUs(1).PlacementGroup(pg, 0), nil)
	if in := pgActorInfo(t, sys, c.Ref().ID()); in.State != actor.PendingCreation || in.PendingReason == "" {
		t.Fatalf("third actor in a full bundle: %+v; want PENDING_CREATION with a reason", in)
	}
	// An actor too big for its bundle can never be placed.
	if _, err := testv1actor.ProbeOptions().NumCPUs(2).PlacementGroup(pg, 1).Spawn(ctx, sys, nil); !errors.Is(err, actor.ErrInfeasible) {
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
	eventually(t, "the reservation to be freed", func() bool { return freeCPU(t, sys) == 4 })
	if err := pg.Ready(ctx); !errors.Is(err, actor.ErrActorNotFound) {
		t.Fatalf("Ready after removal: %v, want ErrActorNotFound", err)
	}
}

// On one node, STRICT_SPREAD of two bundles can never be placed and fails
// at once; a group that fits later waits with a reason until it does.
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
