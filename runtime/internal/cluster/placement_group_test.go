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

// Placement groups across real processes, a head and one node:
// STRICT_SPREAD lays two bundles on two different nodes and the actors
// placed in them run there; STRICT_PACK lays two on one node; a group that
// cannot fit waits with a reason; groups survive a head restart; removal
// kills the group's actors and frees the reservation.
func TestPlacementGroups(t *testing.T) {
	c := newCluster(t, "--num-cpus", "4")
	other := c.addNode("--num-cpus", "4")
	sys := c.connect("groups")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	two := []map[string]float64{{"CPU": 1}, {"CPU": 1}}

	spread, err := actor.CreatePlacementGroup(ctx, sys, two, actor.StrictSpread)
	if err != nil {
		t.Fatal(err)
	}
	if err := spread.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	s0 := spawn(t, sys, testv1actor.ProbeOptions().NumCPUs(1).PlacementGroup(spread, 0))
	s1 := spawn(t, sys, testv1actor.ProbeOptions().NumCPUs(1).PlacementGroup(spread, 1))
	n0, n1 := nodeOf(t, s0), nodeOf(t, s1)
	if n0 == n1 {
		t.Fatalf("STRICT_SPREAD actors in bundles 0 and 1 both run on node %s", n0)
	}
	for _, n := range []string{n0, n1} {
		if n != c.headID && n != other {
			t.Fatalf("actor on unknown node %s", n)
		}
	}
	gi, err := spread.Info(ctx)
	if err != nil || gi.State != actor.PlacementGroupCreated || len(gi.Nodes) != 2 || gi.Nodes[0] != n0 || gi.Nodes[1] != n1 {
		t.Fatalf("STRICT_SPREAD group %+v, %v; want CREATED on [%s %s]", gi, err, n0, n1)
	}

	pack, err := actor.CreatePlacementGroup(ctx, sys, two, actor.StrictPack)
	if err != nil {
		t.Fatal(err)
	}
	if err := pack.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	p0 := spawn(t, sys, testv1actor.ProbeOptions().NumCPUs(1).PlacementGroup(pack, 0))
	p1 := spawn(t, sys, testv1actor.ProbeOptions().NumCPUs(1).PlacementGroup(pack, 1))
	packNode := nodeOf(t, p0)
	if got := nodeOf(t, p1); got != packNode {
		t.Fatalf("STRICT_PACK actors run on %s and %s, want one node", packNode, got)
	}
	// Each node reserved 1 CPU for the spread group, the packing node 2
	// more; the actors in the bundles take nothing from the nodes.
	nodes, err := sys.ListNodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		want := 3.0
		if n.ID == packNode {
			want = 1
		}
		if n.Available["CPU"] != want {
			t.Fatalf("node %s has %v CPU free, want %v", n.ID, n.Available["CPU"], want)
		}
	}

	// Three bundles cannot be spread strictly over two nodes: the group
	// waits, with a reason, and so does an actor placed in it.
	three, err := actor.CreatePlacementGroup(ctx, sys, append(two, map[string]float64{"CPU": 1}), actor.StrictSpread)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := three.Info(ctx); err != nil || info.State != actor.PlacementGroupPending || info.PendingReason == "" {
		t.Fatalf("STRICT_SPREAD of 3 on 2 nodes: %+v, %v; want PENDING with a reason", info, err)
	}
	waiting := spawn(t, sys, testv1actor.ProbeOptions().PlacementGroup(three, 2))
	if in := info(t, sys, waiting.Ref().ID()); in.State != actor.PendingCreation || in.PendingReason == "" {
		t.Fatalf("actor in a waiting group: %+v", in)
	}
	if err := actor.RemovePlacementGroup(ctx, sys, three); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the waiting group's actor to die", func() bool { return info(t, sys, waiting.Ref().ID()).State == actor.Dead })

	// Removing the spread group kills its actors and frees its bundles.
	if err := actor.RemovePlacementGroup(ctx, sys, spread); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*testv1actor.ProbeHandle{s0, s1} {
		if _, err := h.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
			t.Fatalf("call to an actor of a removed group: %v, want ErrActorDied", err)
		}
	}
	eventually(t, "the spread group's reservation to be freed", func() bool {
		nodes, err := sys.ListNodes(ctx)
		if err != nil {
			return false
		}
		for _, n := range nodes {
			want := 4.0
			if n.ID == packNode {
				want = 2
			}
			if n.Available["CPU"] != want {
				return false
			}
		}
		return true
	})

	// The head stores its groups: after a restart the pack group is still
	// there, on the same node, and takes new actors.
	if err := sys.Kill(ctx, p0, actor.NoRestart()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the killed pack actor to die", func() bool { return info(t, sys, p0.Ref().ID()).State == actor.Dead })
	_, port, _ := splitHostPort(c.headAddr)
	c.head.kill()
	c.startHead(port, "--num-cpus", "4")
	eventually(t, "the restarted head to know the pack group", func() bool {
		info, err := pack.Info(ctx)
		return err == nil && info.State == actor.PlacementGroupCreated && info.Nodes[0] == packNode && info.Nodes[1] == packNode
	})
	var again *testv1actor.ProbeHandle
	eventually(t, "a spawn into the pack group after the restart", func() bool {
		h, err := testv1actor.ProbeOptions().NumCPUs(1).PlacementGroup(pack, 0).Spawn(ctx, sys, nil)
		again = h
		return err == nil
	})
	if got := nodeOf(t, again); got != packNode {
		t.Fatalf("actor in the pack group after the restart runs on %s, want %s", got, packNode)
	}
	if _, err := actor.CreatePlacementGroup(ctx, sys, two, actor.DefaultScheduling); !errors.Is(err, actor.ErrInvalidOption) {
		t.Fatalf("DefaultScheduling as a placement strategy: %v", err)
	}
}
