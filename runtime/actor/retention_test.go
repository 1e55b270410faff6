package actor_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/cluster"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// An embedded system keeps the newest dead actors up to its retention:
// listings show the live actors and those dead, the evicted ones are not
// found by id or name, and handles to them still fail with ErrActorDied.
func TestDeadActorRetention(t *testing.T) {
	const keep = 3
	sys := start(t, nil, actor.WithDeadActorRetention(keep))
	ctx := context.Background()

	live := spawn(t, sys, testv1actor.ProbeOptions().Name("live"), &testv1.ProbeInit{})
	var dead []*testv1actor.ProbeHandle
	for i := range 10 {
		h := spawn(t, sys, testv1actor.ProbeOptions().Name(fmt.Sprintf("p%d", i)), &testv1.ProbeInit{})
		if _, err := h.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); err != nil {
			t.Fatalf("Add on p%d: %v", i, err)
		}
		dead = append(dead, h)
	}
	// Kill them out of creation order: eviction goes by time of death.
	order := []int{9, 0, 8, 1, 7, 2, 6, 3, 5, 4}
	for _, i := range order {
		if err := sys.Kill(ctx, dead[i], actor.NoRestart()); err != nil {
			t.Fatalf("Kill p%d: %v", i, err)
		}
	}
	retained := map[string]bool{}
	for _, i := range order[len(order)-keep:] {
		retained[dead[i].Ref().ID()] = true
	}

	list, err := sys.ListActors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1+keep {
		t.Fatalf("ListActors = %d actors, want the live one and %d dead", len(list), keep)
	}
	if list[0].ID != live.Ref().ID() || list[0].State != actor.Alive {
		t.Fatalf("first listed = %+v, want the live actor", list[0])
	}
	for _, in := range list[1:] {
		if in.State != actor.Dead || !retained[in.ID] {
			t.Fatalf("listed %+v, want only the %d last to die", in, keep)
		}
	}
	if got, err := sys.ListActors(ctx, actor.Filter("state", "DEAD")); err != nil || len(got) != keep {
		t.Fatalf("ListActors(state=DEAD) = %d, %v; want %d", len(got), err, keep)
	}

	for i, h := range dead {
		id := h.Ref().ID()
		// Through the old handle: the actor died, evicted or not.
		_, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
		var died *actor.ActorDiedError
		if !errors.As(err, &died) || died.ActorID != id {
			t.Fatalf("call to p%d through its handle = %v, want ActorDiedError", i, err)
		}
		// By id: found while retained, not found once evicted.
		_, err = testv1actor.ProbeFromRef(ctx, sys, h.Ref().Proto())
		if retained[id] {
			if err != nil {
				t.Fatalf("ProbeFromRef(p%d), retained: %v", i, err)
			}
		} else if !errors.Is(err, actor.ErrActorNotFound) {
			t.Fatalf("ProbeFromRef(p%d), evicted = %v, want ErrActorNotFound", i, err)
		}
		// By name: names are free from death on.
		if _, err := testv1actor.GetProbe(ctx, sys, fmt.Sprintf("p%d", i)); !errors.Is(err, actor.ErrActorNotFound) {
			t.Fatalf("GetProbe(p%d) = %v, want ErrActorNotFound", i, err)
		}
	}

	// The live actor is untouched, and a name of an evicted actor can be
	// taken again.
	if _, err := live.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
		t.Fatalf("call to the live actor: %v", err)
	}
	again := spawn(t, sys, testv1actor.ProbeOptions().Name("p9"), &testv1.ProbeInit{Start: 7})
	if res, err := again.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil || res.GetValue() != 7 {
		t.Fatalf("Get on the new p9 = %v, %v; want 7", res, err)
	}
}

// Retention 0 keeps no dead actor.
func TestDeadActorRetentionZero(t *testing.T) {
	sys := start(t, nil, actor.WithDeadActorRetention(0))
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions(), &testv1.ProbeInit{})
	if err := sys.Kill(ctx, h, actor.NoRestart()); err != nil {
		t.Fatal(err)
	}
	if list, err := sys.ListActors(ctx); err != nil || len(list) != 0 {
		t.Fatalf("ListActors = %v, %v; want none", list, err)
	}
	if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
		t.Fatalf("call through the handle = %v, want ErrActorDied", err)
	}
}

// A negative retention is an invalid option.
func TestDeadActorRetentionNegative(t *testing.T) {
	ctx := context.Background()
	if _, err := actor.Start(ctx, actor.WithDeadActorRetention(-1)); !errors.Is(err, actor.ErrInvalidOption) {
		t.Fatalf("Start(WithDeadActorRetention(-1)) = %v, want ErrInvalidOption", err)
	}
	if _, err := actor.Connect(ctx, "127.0.0.1:1", actor.WithToken("t"), actor.WithDeadActorRetention(-1)); !errors.Is(err, actor.ErrInvalidOption) {
		t.Fatalf("Connect(WithDeadActorRetention(-1)) = %v, want ErrInvalidOption", err)
	}
	for _, args := range [][]string{
		{"start", "--head", "--dead-actor-retention", "-1", "--state-dir", t.TempDir()},
		{"start", "--head", "--dead-actor-retention", "many", "--state-dir", t.TempDir()},
	} {
		if err := cluster.RunNode(ctx, args); !errors.Is(err, actor.ErrInvalidOption) {
			t.Errorf("cluster.RunNode(%q) = %v, want ErrInvalidOption", args, err)
		}
	}
	if err := cluster.RunNode(ctx, []string{"start", "--head", "--state-dir", t.TempDir()}, actor.WithDeadActorRetention(-5)); !errors.Is(err, actor.ErrInvalidOption) {
		t.Errorf("cluster.RunNode with WithDeadActorRetention(-5) = %v, want ErrInvalidOption", err)
	}
}
