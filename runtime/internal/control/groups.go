package control

import (
	"fmt"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// Group is a placement group: bundles of resources reserved on nodes for
// the actors placed in them. A placed bundle's resources are taken out of
// its node's ledger; its actors draw on the bundle instead (Cost).
type Group struct {
	ID       string
	Strategy actorv1.PlacementStrategy
	Bundles  []resources.Set
	// Nodes holds, per bundle, the id of the node holding it, "" while
	// the bundle waits.
	Nodes []string
	// Reason says why bundles wait.
	Reason  string
	Removed bool
}

// NewGroup returns a group that waits to be placed.
func NewGroup(id string, strategy actorv1.PlacementStrategy, bundles []resources.Set) *Group {
	return &Group{ID: id, Strategy: strategy, Bundles: bundles, Nodes: make([]string, len(bundles))}
}

// Placed reports whether every bundle of g holds a node.
func (g *Group) Placed() bool {
	for _, n := range g.Nodes {
		if n == "" {
			return false
		}
	}
	return len(g.Nodes) > 0
}

// Groups are the placement groups by id, in creation order: the table of
// the embedded control plane and of the head. The caller holds the lock
// that guards it and the ledgers it is given.
type Groups struct {
	byID  map[string]*Group
	order []*Group
}

// NewGroups returns an empty table.
func NewGroups() *Groups { return &Groups{byID: map[string]*Group{}} }

// Add records g.
func (t *Groups) Add(g *Group) {
	t.byID[g.ID] = g
	t.order = append(t.order, g)
}

// Get returns the group id, removed or not, or nil.
func (t *Groups) Get(id string) *Group { return t.byID[id] }

// Live returns the group id unless it does not exist or was removed.
func (t *Groups) Live(id string) *Group {
	if g := t.byID[id]; g != nil && !g.Removed {
		return g
	}
	return nil
}

// All returns the groups in creation order; the caller must not modify
// the slice.
func (t *Groups) All() []*Group { return t.order }

// Forget drops a removed group from the table.
func (t *Groups) Forget(g *Group) {
	delete(t.byID, g.ID)
	for i, o := range t.order {
		if o == g {
			t.order = append(t.order[:i], t.order[i+1:]...)
			break
		}
	}
}

// Place lays g's waiting bundles on nodes (the open nodes, in a stable
// order), taking their resources from the nodes' ledgers. It reports
// whether g changed (placed, or its reason did) and, when it stays
// waiting, whether the nodes could ever hold it.
func (t *Groups) Place(g *Group, nodes []Candidate, ledger func(id string) *Ledger) (changed, feasible bool) {
	if g.Removed || g.Placed() {
		return false, true
	}
	assign, reason, feasible := PlaceBundles(nodes, g.Bundles, g.Nodes, g.Strategy)
	if assign == nil {
		changed = g.Reason != reason
		g.Reason = reason
		return changed, feasible
	}
	for b, i := range assign {
		if g.Nodes[b] == "" {
			g.Nodes[b] = nodes[i].ID
			ledger(nodes[i].ID).Take(g.Bundles[b])
		}
	}
	g.Reason = ""
	return true, true
}

// PlaceWaiting places every waiting group that fits now, oldest first,
// and returns those that changed. It runs before waiting actors are
// placed.
func (t *Groups) PlaceWaiting(nodes func() []Candidate, ledger func(id string) *Ledger) []*Group {
	var changed []*Group
	var cands []Candidate
	for _, g := range t.order {
		if g.Removed || g.Placed() {
			continue
		}
		if cands == nil {
			cands = nodes()
		} else {
			// Earlier groups took resources: read the ledgers again.
			for i := range cands {
				cands[i].Avail = ledger(cands[i].ID).Free()
			}
		}
		if ok, _ := t.Place(g, cands, ledger); ok {
			changed = append(changed, g)
		}
	}
	return changed
}

// Reserve takes the bundles placed on node id out of l, for a node that
// registers afresh or is recovered.
func (t *Groups) Reserve(id string, l *Ledger) {
	for _, g := range t.order {
		if g.Removed {
			continue
		}
		for b, n := range g.Nodes {
			if n == id {
				l.Take(g.Bundles[b])
			}
		}
	}
}

// NodeLost unplaces the bundles node id held: their groups wait to be
// placed again, their other bundles staying where they are. It returns
// the groups that changed.
func (t *Groups) NodeLost(id string) []*Group {
	var changed []*Group
	for _, g := range t.order {
		if g.Removed {
			continue
		}
		lost := false
		for b, n := range g.Nodes {
			if n == id {
				g.Nodes[b] = ""
				lost = true
			}
		}
		if lost {
			g.Reason = fmt.Sprintf("node %s holding some bundles was lost", id)
			changed = append(changed, g)
		}
	}
	return changed
}

// Remove marks g removed and gives back to each placed bundle's node
// (ledger returns nil for a node that is gone) what the bundle holds
// that its actors do not use (used). The actors placed in g are the
// caller's to kill; they give back their own resources as they die.
func (t *Groups) Remove(g *Group, ledger func(id string) *Ledger, used func(b int) resources.Set) {
	if g.Removed {
		return
	}
	for b, n := range g.Nodes {
		if n == "" {
			continue
		}
		if l := ledger(n); l != nil {
			free := g.Bundles[b].Clone()
			free.Sub(used(b))
			l.Give(free)
		}
		g.Nodes[b] = ""
	}
	g.Removed = true
	g.Reason = ""
}

// Bundle is the rule for placing an actor of class with spec in its
// group's bundle: the id of the bundle's node, or why not and whether it
// could ever fit. open reports whether a node is open to placement,
// hosts whether it hosts class, and used what the actors already placed
// in the bundle use.
func (t *Groups) Bundle(spec *node.Spec, class string, open, hosts func(id string) bool, used func() resources.Set) (nodeID, reason string, feasible bool) {
	var bundles []resources.Set
	g := t.Live(spec.PlacementGroup)
	if g != nil {
		bundles = g.Bundles
	}
	if why := NeverInBundle(spec, bundles); why != "" {
		return "", why, false
	}
	id := g.Nodes[spec.Bundle]
	if id == "" || !open(id) {
		return "", BundleNotPlaced(spec, g.Reason), true
	}
	if !hosts(id) {
		return "", BundleNodeLacksClass(spec, id, class), false
	}
	free := g.Bundles[spec.Bundle].Clone()
	free.Sub(used())
	if why := BundleFull(spec, free); why != "" {
		return "", why, true
	}
	return id, "", true
}
