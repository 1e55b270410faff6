package control

import (
	"fmt"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// group is a placement group: bundles of resources reserved on nodes for
// the actors placed in them. A placed bundle's resources are taken out of
// its node's free pool; its actors draw on the bundle instead.
type group struct {
	id       string
	strategy actorv1.PlacementStrategy
	bundles  []resources.Set
	nodes    []*Node // per bundle, nil while the group waits
	reason   string
}

func (g *group) created() bool { return len(g.nodes) > 0 && g.nodes[0] != nil }

// GroupInfo is a placement group's state.
type GroupInfo struct {
	ID      string
	Created bool
	Reason  string   // why it waits, while not created
	Nodes   []string // per bundle, once created
}

// CreateGroup reserves bundles on the nodes by strategy. A group that
// cannot be placed now waits; one no node could ever hold fails on an
// embedded control plane.
func (c *Control) CreateGroup(bundles []resources.Set, strategy actorv1.PlacementStrategy) (string, error) {
	if err := CheckGroup(strategy, len(bundles)); err != nil {
		return "", err
	}
	g := &group{id: c.newID(), strategy: strategy, bundles: bundles}
	c.mu.Lock()
	defer c.mu.Unlock()
	reason, feasible := c.placeGroupLocked(g)
	if !g.created() {
		if !feasible && c.embedded {
			return "", errs.Newf(errs.ErrInfeasible, "placement group can never be placed: %s", reason)
		}
		c.log.Warn("placement group waits", "placement_group_id", g.id, "reason", reason)
	}
	if c.groups == nil {
		c.groups = map[string]*group{}
	}
	c.groups[g.id] = g
	c.groupOrder = append(c.groupOrder, g)
	return g.id, nil
}

// placeGroupLocked reserves g's bundles if they fit now.
func (c *Control) placeGroupLocked(g *group) (reason string, feasible bool) {
	cands := make([]Candidate, len(c.nodes))
	for i, n := range c.nodes {
		cands[i] = Candidate{ID: n.Node.ID, Labels: n.Labels, Total: n.Total, Avail: n.ledger.Free()}
	}
	assign, reason, feasible := PlaceBundles(cands, g.bundles, nil, g.strategy)
	if assign == nil {
		g.reason = reason
		return reason, feasible
	}
	g.nodes = make([]*Node, len(assign))
	for b, i := range assign {
		g.nodes[b] = c.nodes[i]
		c.nodes[i].ledger.Take(g.bundles[b])
	}
	g.reason = ""
	return "", true
}

// Group returns a placement group's state.
func (c *Control) Group(id string) (GroupInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.groups[id]
	if !ok {
		return GroupInfo{}, errs.Newf(errs.ErrActorNotFound, "no placement group %s (it may have been removed)", id)
	}
	info := GroupInfo{ID: id, Created: g.created(), Reason: g.reason}
	if g.created() {
		for _, n := range g.nodes {
			info.Nodes = append(info.Nodes, n.Node.ID)
		}
	}
	return info, nil
}

// RemoveGroup frees a placement group's reservation and kills the actors
// placed in it.
func (c *Control) RemoveGroup(id string) error {
	c.mu.Lock()
	g, ok := c.groups[id]
	if !ok {
		c.mu.Unlock()
		return errs.Newf(errs.ErrActorNotFound, "no placement group %s", id)
	}
	var victims []*node.Actor
	if g.created() {
		for b, n := range g.nodes {
			n.ledger.Give(c.bundleFreeLocked(g, b))
		}
	}
	for a := range c.grouped {
		if a.Spec.PlacementGroup == id {
			victims = append(victims, a)
		}
	}
	for _, a := range c.pending {
		if a.Spec.PlacementGroup == id {
			victims = append(victims, a)
		}
	}
	delete(c.groups, id)
	for i, o := range c.groupOrder {
		if o == g {
			c.groupOrder = append(c.groupOrder[:i], c.groupOrder[i+1:]...)
			break
		}
	}
	place, hosts := c.placePendingLocked()
	c.mu.Unlock()
	for i, p := range place {
		hosts[i].Node.Place(p)
	}
	cause := errs.Cause{Kind: errs.CauseKilled, Message: fmt.Sprintf("placement group %s was removed", id)}
	for _, a := range victims {
		a.Kill(cause, false, false)
	}
	return nil
}

// bundleFreeLocked is what bundle b of g holds that no actor placed in it
// uses.
func (c *Control) bundleFreeLocked(g *group, b int) resources.Set {
	free := g.bundles[b].Clone()
	for a := range c.grouped {
		if a.Spec.PlacementGroup == g.id && a.Spec.Bundle == b {
			free.Sub(a.Spec.Resources)
		}
	}
	return free
}

// inGroupLocked reports whether a draws on a live placement group's
// bundle rather than its node's free pool.
func (c *Control) inGroupLocked(spec *node.Spec) bool {
	if spec.PlacementGroup == "" {
		return false
	}
	_, ok := c.groups[spec.PlacementGroup]
	return ok
}

// chooseInGroupLocked picks the node of the bundle spec names, if the
// bundle has room for the actor now.
func (c *Control) chooseInGroupLocked(class string, spec *node.Spec) (host *Node, reason string, feasible bool) {
	var bundles []resources.Set
	g, ok := c.groups[spec.PlacementGroup]
	if ok {
		bundles = g.bundles
	}
	if why := NeverInBundle(spec, bundles); why != "" {
		return nil, why, false
	}
	if !g.created() {
		return nil, BundleNotPlaced(spec, g.reason), true
	}
	n := g.nodes[spec.Bundle]
	if !n.Node.Hosts(class) {
		return nil, BundleNodeLacksClass(spec, n.Node.ID, class), false
	}
	if why := BundleFull(spec, c.bundleFreeLocked(g, spec.Bundle)); why != "" {
		return nil, why, true
	}
	return n, "", true
}

// placePendingLocked places the waiting groups, then the waiting actors,
// that fit now. The caller places the returned actors on their hosts
// after unlocking.
func (c *Control) placePendingLocked() (place []*node.Actor, hosts []*Node) {
	for _, g := range c.groupOrder {
		if !g.created() {
			c.placeGroupLocked(g)
		}
	}
	rest := c.pending[:0]
	for _, p := range c.pending {
		host, reason, _ := c.chooseLocked(p.Class.Name, p.Spec)
		if host == nil {
			p.SetPendingReason(reason)
			rest = append(rest, p)
			continue
		}
		c.takeLocked(host, p)
		place = append(place, p)
		hosts = append(hosts, host)
	}
	clear(c.pending[len(rest):])
	c.pending = rest
	return place, hosts
}

// takeLocked records a placed on host, taking its resources from its
// bundle or from host's free pool.
func (c *Control) takeLocked(host *Node, a *node.Actor) {
	host.ledger.Take(Cost(a.Spec, c.inGroupLocked(a.Spec)))
	a.PlacedOn = host.Node
	if a.Spec.PlacementGroup != "" {
		c.grouped[a] = struct{}{}
	}
}
