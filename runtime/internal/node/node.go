// Package node hosts actor instances: each actor's mailbox, the executor
// that runs its methods under its concurrency rules, and its life through
// construction, death, restart and the retry of its calls.
//
// An actor with an empty mailbox holds no goroutine: a worker goroutine
// runs an actor's calls from when one arrives at the idle actor until none
// can start, and then parks in the node's pool for the next actor, a few
// per processor at most (the rest end).
package node

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
)

// Stopper is implemented by actors that want to know of graceful ends:
// ExitActor and the shutdown of their node.
type Stopper interface {
	Stop(ctx context.Context) error
}

// Node hosts actors.
type Node struct {
	ID  string
	log *slog.Logger
	// Host is the value the embedding runtime attaches to its node, for
	// code inside actors to find it.
	Host any
	// OnDead is called once for every actor that reaches DEAD, outside
	// any actor's lock.
	OnDead func(*Actor)
	// OnAlive, if set, is called each time an actor's constructor returns
	// and the actor is ALIVE, outside any actor's lock.
	OnAlive func(*Actor)
	// Tel traces and measures the node's calls; nil records nothing.
	Tel *telemetry.Telemetry
	// Serve, when set before the first spawn, runs the calls of the
	// node's actors whose Spec has no Serve, in place of Method.Invoke.
	Serve ServeFunc

	mu      sync.RWMutex
	actors  map[string]*Actor
	classes map[string]registered
	closed  bool
	// The dead actors still in actors, oldest death first (retain.go).
	dead      list.List
	deadElems map[*Actor]*list.Element
	deadCap   int

	workers     workerPool
	stopTimeout time.Duration // see SetStopTimeout
}

type registered struct {
	class   *Class
	factory Factory
}

// New returns an empty node.
func New(id string, log *slog.Logger) *Node {
	return &Node{ID: id, log: log, actors: map[string]*Actor{}, classes: map[string]registered{},
		deadElems: map[*Actor]*list.Element{}, deadCap: DefaultDeadRetention,
		workers: workerPool{max: MaxParkedWorkers()}, stopTimeout: DefaultStopTimeout}
}

// Register makes a class hostable on this node.
func (n *Node) Register(c *Class, f Factory) error {
	if c.Err != nil {
		return c.Err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if r, ok := n.classes[c.Name]; ok && r.class != c {
		return fmt.Errorf("actor class %s registered twice", c.Name)
	}
	n.classes[c.Name] = registered{class: c, factory: f}
	return nil
}

// Class returns the registered class with the given name.
func (n *Node) Class(name string) (*Class, bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	r, ok := n.classes[name]
	return r.class, ok
}

// Hosts reports whether the node's binary registered the class.
func (n *Node) Hosts(class string) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	_, ok := n.classes[class]
	return ok
}

// Classes returns the names of the registered classes, sorted.
func (n *Node) Classes() []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	names := make([]string, 0, len(n.classes))
	for name := range n.classes {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// NewActor creates an actor in PENDING_CREATION. Calls submitted to it
// queue until it is placed and its constructor returns. ctx's values (not
// its cancellation) are given to the constructor. owner, if not nil, is
// the actor that spawned it: the new actor dies with it. A nil init gives
// each construction an empty one.
func (n *Node) NewActor(ctx context.Context, id string, class *Class, spec Spec, init proto.Message, job string, owner *Actor) (*Actor, error) {
	return n.NewActorShared(ctx, id, class, &spec, init, job, owner)
}

// NewActorShared is NewActor with a spec that the actor shares rather
// than copies, such as one that many actors are spawned with: neither the
// caller nor anyone else may modify *spec afterwards.
func (n *Node) NewActorShared(ctx context.Context, id string, class *Class, spec *Spec, init proto.Message, job string, owner *Actor) (*Actor, error) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil, errs.Newf(errs.ErrSystemClosed, "node %s is shut down", n.ID)
	}
	r, ok := n.classes[class.Name]
	if !ok {
		n.mu.Unlock()
		return nil, errs.Newf(errs.ErrUnknownClass, "actor class %s is not registered on node %s", class.Name, n.ID)
	}
	a := newActor(n, id, class, spec, init)
	a.factory, a.Job = r.factory, job
	if ctx.Done() != nil {
		ctx = context.WithoutCancel(ctx)
	}
	a.ctx = ctx
	if !spec.Detached {
		a.Owner = owner
	}
	if old, ok := n.actors[id]; ok {
		n.unretireLocked(old) // a dead actor recreated here under its id
	}
	n.actors[id] = a
	n.mu.Unlock()
	return a, nil
}

// Adopt binds a new actor's life to its owner actor, if it has one: it
// dies when the owner dies or restarts. If the owner is already dead the
// actor dies at once. Call it without holding other locks.
func (n *Node) Adopt(a *Actor) {
	if a.Owner != nil && !a.Owner.adopt(a) {
		a.Kill(errs.Cause{Kind: errs.CauseOwnerDied, Message: fmt.Sprintf("owner actor %s died", a.Owner.ID)}, false, false)
	}
}

// Place starts the actor's constructor: it has its resources.
func (n *Node) Place(a *Actor) { a.place() }

// Actor returns the actor with the given id: a live one, or a dead one
// the node still retains (see SetDeadRetention).
func (n *Node) Actor(id string) (*Actor, bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	a, ok := n.actors[id]
	return a, ok
}

// Actors returns every actor the node hosts or has hosted: the live ones
// and the dead ones it retains (see SetDeadRetention), oldest first.
func (n *Node) Actors() []*Actor {
	n.mu.RLock()
	list := make([]*Actor, 0, len(n.actors))
	for _, a := range n.actors {
		list = append(list, a)
	}
	n.mu.RUnlock()
	sort.Slice(list, func(i, j int) bool { return list[i].CreatedBefore(list[j]) })
	return list
}

// after does what a death left to do outside the actor's lock.
func (n *Node) after(a *Actor, after *aftermath) {
	if len(after.fail) == 0 && after.stop == nil && len(after.children) == 0 && !after.restart && !after.dead {
		return
	}
	n.afterDeath(a, after)
}

// afterDeath is after's body, kept out of the hot path: a worker goroutine
// that finishes a call should not grow its stack for a death it does not
// have.
//
//go:noinline
func (n *Node) afterDeath(a *Actor, after *aftermath) {
	for i, c := range after.fail {
		c.complete(nil, after.failErr[i])
	}
	if s, ok := after.stop.(Stopper); ok {
		n.runStop(a, s)
	}
	for _, child := range after.children {
		child.Kill(errs.Cause{Kind: errs.CauseOwnerDied, Message: fmt.Sprintf("owner actor %s died", a.ID)}, false, false)
	}
	if after.restart {
		info := a.Info()
		n.log.Warn("restarting actor", "actor_id", a.ID, "class", a.Class.Name, "cause", info.Cause.String())
		if n.Tel != nil {
			n.Tel.Restarted(a.ctx, a.telemetry(), info.Cause.String(), info.Restarts)
		}
		a.restart()
	}
	if after.dead {
		if n.OnDead != nil {
			n.OnDead(a)
		}
		n.retire(a)
	}
}

// Shutdown ends every actor gracefully and waits, until ctx ends, for
// their Stop hooks, which run at once, each for at most the stop timeout
// (see SetStopTimeout), and for their running methods to return. If ctx
// ends first it returns an error that wraps ctx.Err(); what still runs
// goes on without holding up the caller.
func (n *Node) Shutdown(ctx context.Context) error {
	defer n.workers.close()
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	actors := n.Actors()
	cause := errs.Cause{Kind: errs.CauseNodeLost, Message: fmt.Sprintf("node %s shut down", n.ID)}
	var stops sync.WaitGroup
	for _, a := range actors {
		a.mu.Lock()
		if a.state == Dead {
			a.mu.Unlock()
			continue
		}
		after := a.dieLocked(cause, false, true)
		a.mu.Unlock()
		if after.stop == nil {
			n.after(a, &after)
			continue
		}
		stops.Go(func() { n.after(a, &after) })
	}
	stopped := make(chan struct{})
	go func() {
		stops.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-ctx.Done():
		return errors.Join(errors.New("shutdown: actor Stop hooks still running"), ctx.Err())
	}
	for _, a := range actors {
		a.mu.Lock()
		if a.workers == 0 {
			a.mu.Unlock()
			continue
		}
		cold := a.coldLocked()
		if cold.idle == nil {
			cold.idle = make(chan struct{})
		}
		idle := cold.idle
		a.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return errors.Join(errors.New("shutdown: actor methods still running"), ctx.Err())
		}
	}
	return nil
}

// serveFunc is what runs a's calls in place of Method.Invoke, or nil.
func (a *Actor) serveFunc() ServeFunc {
	if a.Spec.Serve != nil {
		return a.Spec.Serve
	}
	return a.node.Serve
}

// Waiting reports whether a waits to be placed on a node, and why: it has
// not been placed since it was spawned, nor has its constructor started.
func (a *Actor) Waiting() (waiting bool, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state != PendingCreation || a.placed {
		return false, ""
	}
	if a.cold != nil {
		reason = a.cold.pendingReason
	}
	return true, reason
}
