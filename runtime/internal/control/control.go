// Package control is the control plane: the name registry of each
// namespace, the nodes with their resource ledgers, and the scheduler that
// places actors on nodes, keeping those that fit nowhere yet pending with
// the reason why.
package control

import (
	"context"
	"log/slog"
	"sort"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// Node is a node as the control plane sees it.
type Node struct {
	Node   *node.Node
	Total  resources.Set
	Labels map[string]string

	ledger Ledger
}

// Control places actors and keeps their names. Embedded is a single node
// that nothing can ever join: an actor that fits no node fails at once.
type Control struct {
	log      *slog.Logger
	embedded bool
	newID    func() string

	mu    sync.Mutex
	nodes []*Node
	names *Names[*node.Actor]
	// The placed actors are those whose PlacedOn is set; those of them
	// spawned into a placement group are also in grouped.
	grouped map[*node.Actor]struct{}
	pending []*node.Actor
	next    int // round-robin start for SPREAD

	groups *Groups // placement groups (groups.go)
}

// New returns a control plane for the given nodes.
func New(log *slog.Logger, embedded bool, newID func() string, nodes ...*Node) *Control {
	c := &Control{log: log, embedded: embedded, newID: newID, names: NewNames(func(a *node.Actor) bool { return a.State() == node.Dead }), grouped: map[*node.Actor]struct{}{}, groups: NewGroups()}
	for _, n := range nodes {
		n.ledger = NewLedger(n.Total)
		n.Node.OnDead = c.onDead
		c.nodes = append(c.nodes, n)
	}
	return c
}

// SpawnRequest is everything Spawn needs.
type SpawnRequest struct {
	Class *node.Class
	// Spec is shared with the actor and must not be modified afterwards.
	Spec *node.Spec
	// Init is the constructor's argument; nil is an empty one.
	Init  proto.Message
	Job   string
	Owner *node.Actor
}

// Spawn creates an actor, or with GetIfExists returns the one already bound
// to the name. Names are taken under one lock, so racing creators of one
// name all get the same actor.
func (c *Control) Spawn(ctx context.Context, req SpawnRequest) (a *node.Actor, existed bool, err error) {
	spec := req.Spec
	if spec == nil {
		return nil, false, errs.Newf(errs.ErrInvalidOption, "spawn without a spec")
	}
	c.mu.Lock()
	if spec.Name != "" {
		if old, ok := c.names.Live(spec.Namespace, spec.Name); ok {
			c.mu.Unlock()
			if err := Taken(spec, req.Class.Name, old.ID, old.Class.Name); err != nil {
				return nil, false, err
			}
			return old, true, nil
		}
	}
	host, reason, feasible := c.chooseLocked(req.Class.Name, spec)
	if spec.NodeAffinity != "" && !spec.AffinitySoft && !feasible {
		// As on a cluster: hard affinity to a node that is not there, or
		// can never fit the actor, is unschedulable.
		c.mu.Unlock()
		return nil, false, errs.Newf(errs.ErrUnschedulable, "actor %s: %s", req.Class.Name, reason)
	}
	if !feasible && (c.embedded || len(c.nodes) == 0) {
		c.mu.Unlock()
		return nil, false, errs.Newf(errs.ErrInfeasible, "actor %s can never be placed: %s", req.Class.Name, reason)
	}
	target := host
	if target == nil {
		// Embedded: the one node holds the queue while the actor waits.
		target = c.nodes[0]
	}
	a, err = target.Node.NewActorShared(ctx, c.newID(), req.Class, spec, req.Init, req.Job, req.Owner)
	if err != nil {
		c.mu.Unlock()
		return nil, false, err
	}
	c.names.Bind(spec, a)
	if host != nil {
		c.takeLocked(host, a)
	} else {
		a.SetPendingReason(reason)
		c.pending = append(c.pending, a)
		c.log.Warn("actor waits for resources", "actor_id", a.ID, "class", req.Class.Name, "reason", reason)
	}
	c.mu.Unlock()
	target.Node.Adopt(a)
	if host != nil {
		host.Node.Place(a)
	}
	return a, false, nil
}

// chooseLocked picks a node with room for spec. With none, it says why and
// whether any node could ever fit (feasible).
func (c *Control) chooseLocked(class string, spec *node.Spec) (host *Node, reason string, feasible bool) {
	if spec.PlacementGroup != "" {
		return c.chooseInGroupLocked(class, spec)
	}
	var buf [4]Candidate // no allocation for a few nodes
	cands := buf[:0]
	for _, n := range c.nodes {
		cands = append(cands, Candidate{ID: n.Node.ID, Hosts: n.Node.Hosts(class), Labels: n.Labels, Total: n.Total, Avail: n.ledger.Free()})
	}
	i, reason, feasible := Choose(cands, class, spec, &c.next)
	if i < 0 {
		return nil, reason, feasible
	}
	return c.nodes[i], "", true
}

// onDead frees a dead actor's name and resources and places whatever now
// fits.
func (c *Control) onDead(a *node.Actor) {
	c.mu.Lock()
	c.names.Free(a.Spec, a)
	if n := c.placedLocked(a); n != nil {
		n.ledger.Give(Cost(a.Spec, c.inGroupLocked(a.Spec)))
		a.PlacedOn = nil
		delete(c.grouped, a)
	}
	for i, p := range c.pending {
		if p == a {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			break
		}
	}
	place, hosts := c.placePendingLocked()
	c.mu.Unlock()
	for i, p := range place {
		hosts[i].Node.Place(p)
	}
}

// Lookup returns the live actor bound to name in namespace.
func (c *Control) Lookup(namespace, name string) (*node.Actor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.names.Live(namespace, name)
}

// Actor finds an actor by id on any node.
func (c *Control) Actor(id string) (*node.Actor, bool) {
	c.mu.Lock()
	nodes := c.nodes
	c.mu.Unlock()
	for _, n := range nodes {
		if a, ok := n.Node.Actor(id); ok {
			return a, true
		}
	}
	return nil, false
}

// NodeOf returns the node an actor was placed on, or nil while pending.
func (c *Control) NodeOf(a *node.Actor) *node.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return a.PlacedOn
}

// placedLocked returns the node whose resources a holds, nil while it
// waits for placement or once its resources are freed.
func (c *Control) placedLocked(a *node.Actor) *Node {
	if a.PlacedOn == nil {
		return nil
	}
	for _, n := range c.nodes {
		if n.Node == a.PlacedOn {
			return n
		}
	}
	return nil
}

// NodeInfo is a node's resources for status listings.
type NodeInfo struct {
	ID      string
	Total   map[string]float64
	Free    map[string]float64
	Labels  map[string]string
	Classes []string
}

// Nodes lists the nodes with their resources.
func (c *Control) Nodes() []NodeInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]NodeInfo, 0, len(c.nodes))
	for _, n := range c.nodes {
		out = append(out, NodeInfo{ID: n.Node.ID, Total: n.Total.Float(), Free: n.ledger.Free().Float(), Labels: n.Labels, Classes: n.Node.Classes()})
	}
	return out
}

// AllActors lists the actors of every node, oldest first.
func (c *Control) AllActors() []*node.Actor {
	c.mu.Lock()
	nodes := c.nodes
	c.mu.Unlock()
	var all []*node.Actor
	for _, n := range nodes {
		all = append(all, n.Node.Actors()...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].CreatedBefore(all[j]) })
	return all
}
