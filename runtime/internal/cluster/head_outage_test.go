package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// A spawn, a lookup and a listing made while the head is down wait for it,
// bounded by their ctx, and succeed once it is back; a spawn sent again
// while the head restarts makes one actor, not two.
func TestSpawnDuringHeadOutage(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	a := c.addNode("--labels", "role=worker")
	sys := c.connect("outage")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	existing := spawn(t, sys, testv1actor.ProbeOptions().Name("existing").LabelSelector(worker))

	_, port, _ := splitHostPort(c.headAddr)
	c.head.kill()
	// With the head down, a spawn with a short ctx gives up when its ctx
	// ends, not at once.
	short, stop := context.WithTimeout(ctx, 300*time.Millisecond)
	began := time.Now()
	_, err := testv1actor.ProbeOptions().LabelSelector(worker).Spawn(short, sys, &testv1.ProbeInit{})
	stop()
	if err == nil || time.Since(began) < 250*time.Millisecond {
		t.Fatalf("spawn with the head down and a 300ms ctx: %v after %v, want an error once the ctx ends", err, time.Since(began))
	}

	type result struct {
		h   *testv1actor.ProbeHandle
		err error
	}
	spawned := make(chan result, 1)
	go func() {
		h, err := testv1actor.ProbeOptions().Name("outage").LabelSelector(worker).Spawn(ctx, sys, &testv1.ProbeInit{})
		spawned <- result{h, err}
	}()
	found := make(chan error, 1)
	go func() {
		_, err := testv1actor.GetProbe(ctx, sys, "existing")
		found <- err
	}()
	// Calls to existing actors go on meanwhile.
	if _, err := existing.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); err != nil {
		t.Fatalf("call with the head down: %v", err)
	}
	select {
	case r := <-spawned:
		t.Fatalf("spawn with the head down returned before the head came back: %v, %v", r.h, r.err)
	default:
	}

	c.startHead(port)
	r := <-spawned
	if r.err != nil {
		t.Fatalf("spawn during the head outage: %v", r.err)
	}
	if err := <-found; err != nil {
		t.Fatalf("lookup during the head outage: %v", err)
	}
	if got := nodeOf(t, r.h); got != a {
		t.Fatalf("actor spawned during the outage runs on %s, want %s", got, a)
	}
	var list []actor.ActorInfo
	eventually(t, "the actor spawned during the outage to be listed alive", func() bool {
		var err error
		if list, err = sys.ListActors(ctx, actor.Filter("name", "outage")); err != nil {
			t.Fatal(err)
		}
		return len(list) > 0 && list[0].State == actor.Alive
	})
	if len(list) != 1 || list[0].ID != r.h.Ref().ID() {
		t.Fatalf("actors named outage: %+v, want one, %s", list, r.h.Ref().ID())
	}
}
