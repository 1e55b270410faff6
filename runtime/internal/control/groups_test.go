package control_test

import (
	"testing"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/control"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// A group's bundles take their nodes' resources when placed; a lost node's
// bundle waits and is placed again apart from the others; removing the
// group gives back what its actors do not use.
func TestGroupsLedger(t *testing.T) {
	cpu := func(n float64) resources.Set { return set(t, map[string]float64{"CPU": n}) }
	ledgers := map[string]*control.Ledger{}
	for _, id := range []string{"a", "b", "c"} {
		l := control.NewLedger(cpu(2))
		ledgers[id] = &l
	}
	ledger := func(id string) *control.Ledger { return ledgers[id] }
	alive := []string{"a", "b", "c"}
	cands := func() []control.Candidate {
		var out []control.Candidate
		for _, id := range alive {
			out = append(out, control.Candidate{ID: id, Total: ledgers[id].Total, Avail: ledgers[id].Free()})
		}
		return out
	}
	gs := control.NewGroups()
	g := control.NewGroup("g", actorv1.PlacementStrategy_PLACEMENT_STRATEGY_STRICT_SPREAD, []resources.Set{cpu(1), cpu(1)})
	gs.Add(g)
	if changed := gs.PlaceWaiting(cands, ledger); len(changed) != 1 || !g.Placed() || g.Nodes[0] != "a" || g.Nodes[1] != "b" {
		t.Fatalf("placed %v on %v", changed, g.Nodes)
	}
	if free := ledgers["a"].Free(); !free.Fits(cpu(1)) || free.Fits(cpu(1.5)) {
		t.Fatalf("node a has %v free after its bundle, want 1 CPU", free)
	}
	alive = []string{"b", "c"}
	if changed := gs.NodeLost("a"); len(changed) != 1 || g.Placed() || g.Reason == "" {
		t.Fatalf("node lost: changed %v, nodes %v, reason %q", changed, g.Nodes, g.Reason)
	}
	gs.PlaceWaiting(cands, ledger)
	if g.Nodes[0] != "c" || g.Nodes[1] != "b" {
		t.Fatalf("the lost bundle went to %v, want c beside b", g.Nodes)
	}
	// Bundle 1's actors use half of it: removing the group gives back the
	// other half now; the actors give back theirs as they die.
	gs.Remove(g, ledger, func(b int) resources.Set {
		if b == 1 {
			return cpu(0.5)
		}
		return nil
	})
	if !g.Removed || gs.Live("g") != nil {
		t.Fatal("the removed group is still live")
	}
	if free := ledgers["b"].Free(); !free.Fits(cpu(1.5)) || free.Fits(cpu(1.6)) {
		t.Fatalf("node b has %v free after the removal, want 1.5 CPU", free)
	}
	if free := ledgers["c"].Free(); !free.Fits(cpu(2)) {
		t.Fatalf("node c has %v free after the removal, want 2 CPU", free)
	}
}
