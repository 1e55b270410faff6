package node

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/runtime/internal/errs"
)

// State is an actor's place in its life:
// PENDING_CREATION → ALIVE ⇄ RESTARTING → DEAD.
type State int32

// The states of an actor.
const (
	PendingCreation State = iota
	Alive
	Restarting
	Dead
)

func (s State) String() string {
	switch s {
	case PendingCreation:
		return "PENDING_CREATION"
	case Alive:
		return "ALIVE"
	case Restarting:
		return "RESTARTING"
	case Dead:
		return "DEAD"
	}
	return fmt.Sprintf("State(%d)", int32(s))
}

// actorSeq numbers actors in the order they are created, in the process.
var actorSeq atomic.Uint64

// Actor is one actor instance hosted on a node: its mailbox, its executor
// and its life. Its identity never changes; restarts replace the instance
// inside it and bump the epoch.
//
// An idle actor costs what this struct holds, so what most actors never
// use (named concurrency groups, more than one running call, children,
// the cause of a death, a pending reason) lives in a cold part made on
// first use.
type Actor struct {
	ID    string
	Class *Class
	// Spec is shared by the actors spawned with the same options and must
	// not be modified.
	Spec *Spec
	// Init is the constructor's argument; nil gives each construction an
	// empty one.
	Init  proto.Message
	Job   string
	Owner *Actor // nil when owned by the job or detached
	// PlacedOn is the node whose resources the actor holds, recorded by
	// the control plane that placed it and guarded by that control
	// plane's lock: nil while it waits and once its resources are freed.
	PlacedOn *Node
	node     *Node
	factory  Factory
	ctx      context.Context // the spawn's, for its values; never cancelled
	seq      uint64          // creation order, see actorSeq

	mu       sync.Mutex
	state    State
	placed   bool
	exiting  bool
	restarts int32
	readers  int32
	writers  int32
	pending  int32
	dropped  int32 // calls cancelled in the queues since they were last compacted
	workers  int32 // goroutines running calls or the constructor
	inst     any
	epoch    uint64
	calls    uint64   // calls submitted, for their arrival order
	run0     *Call    // a running call; the others are in cold.running
	ctor     *ctorCtx // the running constructor's context
	def      group    // the default concurrency group
	cold     *actorCold
}

// actorCold is the part of an actor that most actors never need.
type actorCold struct {
	cause         errs.Cause
	pendingReason string
	groups        []namedGroup // the named groups, sorted by name, once a call uses one
	running       []*Call      // running calls beyond run0
	children      []*Actor
	idle          chan struct{}
}

func newActor(n *Node, id string, class *Class, spec *Spec, init proto.Message) *Actor {
	a := &Actor{ID: id, Class: class, Spec: spec, Init: init, node: n, seq: actorSeq.Add(1)}
	a.def.limit = limit32(spec.MaxConcurrency)
	return a
}

// limit32 is a validated concurrency limit (≥ 1) as stored in a group.
func limit32(n int) int32 { return int32(min(n, math.MaxInt32)) }

// coldLocked returns the actor's cold part, making it if need be.
func (a *Actor) coldLocked() *actorCold {
	if a.cold == nil {
		a.cold = new(actorCold)
	}
	return a.cold
}

// CreatedBefore reports whether a was created before b.
func (a *Actor) CreatedBefore(b *Actor) bool { return a.seq < b.seq }

// Node returns the node hosting the actor.
func (a *Actor) Node() *Node { return a.node }

// State returns the actor's current state.
func (a *Actor) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

type actorKey struct{}

// ActorFrom returns the actor whose method or constructor ctx belongs to.
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}
