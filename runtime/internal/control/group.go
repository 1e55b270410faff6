package control

import (
	"fmt"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

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
	g := NewGroup(c.newID(), strategy, bundles)
	c.mu.Lock()
	defer c.mu.Unlock()
	_, feasible := c.groups.Place(g, c.groupCandidatesLocked(), c.ledgerLocked)
	if !g.Placed() {
		if !feasible && c.embedded {
			return "", errs.Newf(errs.ErrInfeasible, "placement group can never be placed: %s", g.Reason)
		}
		c.log.Warn("placement group waits", "placement_group_id", g.ID, "reason", g.Reason)
	}
	c.groups.Add(g)
	return g.ID, nil
}

// groupCandidatesLocked describes the nodes for placing bundles.
func (c *Control) groupCandidatesLocked() []Candidate {
	cands := make([]Candidate, len(c.nodes))
	for i, n := range c.nodes {
		cands[i] = Candidate{ID: n.Node.ID, Labels: n.Labels, Total: n.Total, Avail: n.ledger.Free()}
	}
	return cands
}

// nodeLocked returns the node id, or nil.
func (c *Control) nodeLocked(id string) *Node {
	for _, n := range c.nodes {
		if n.Node.ID == id {
			return n
		}
	}
	return nil
}

// ledgerLocked returns the ledger of node id, or nil.
func (c *Control) ledgerLocked(id string) *Ledger {
	if n := c.nodeLocked(id); n != nil {
		return &n.ledger
	}
	return nil
}

// Group returns a placement group's state.
func (c *Control) Group(id string) (GroupInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groups.Live(id)
	if g == nil {
		return GroupInfo{}, errs.Newf(errs.ErrActorNotFound, "no placement group %s (it may have been removed)", id)
	}
	info := GroupInfo{ID: id, Created: g.Placed(), Reason: g.Reason}
	if g.Placed() {
		info.Nodes = append(info.Nodes, g.Nodes...)
	}
	return info, nil
}

// RemoveGroup frees a placement group's reservation and kills the actors
// placed in it.
func (c *Control) RemoveGroup(id string) error {
	c.mu.Lock()
	g := c.groups.Live(id)
	if g == nil {
		c.mu.Unlock()
		return errs.Newf(errs.ErrActorNotFound, "no placement group %s", id)
	}
	c.groups.Remove(g, c.ledgerLocked, func(b int) resources.Set { return c.bundleUsedLocked(id, b) })
	c.groups.Forget(g)
	var victims []*node.Actor
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

// bundleUsedLocked is what the actors placed in bundle b of group id use.
func (c *Control) bundleUsedLocked(id string, b int) resources.Set {
	used := resources.Set{}
	for a := range c.grouped {
		if a.Spec.PlacementGroup == id && a.Spec.Bundle == b {
			used.Add(a.Spec.Resources)
		}
	}
	return used
}

// inGroupLocked reports whether a draws on a live placement group's
// bundle rather than its node's free pool.
func (c *Control) inGroupLocked(spec *node.Spec) bool {
	return spec.PlacementGroup != "" && c.groups.Live(spec.PlacementGroup) != nil
}

// chooseInGroupLocked picks the node of the bundle spec names, if the
// bundle has room for the actor now (Groups.Bundle).
func (c *Control) chooseInGroupLocked(class string, spec *node.Spec) (host *Node, reason string, feasible bool) {
	id, reason, feasible := c.groups.Bundle(spec, class,
		func(id string) bool { return c.nodeLocked(id) != nil },
		func(id string) bool { return c.nodeLocked(id).Node.Hosts(class) },
		func() resources.Set { return c.bundleUsedLocked(spec.PlacementGroup, spec.Bundle) })
	if id == "" {
		return nil, reason, feasible
	}
	return c.nodeLocked(id), "", true
}

// placePendingLocked places the waiting groups, then the waiting actors,
// that fit now. The caller places the returned actors on their hosts
// after unlocking.
func (c *Control) placePendingLocked() (place []*node.Actor, hosts []*Node) {
	c.groups.PlaceWaiting(c.groupCandidatesLocked, c.ledgerLocked)
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
