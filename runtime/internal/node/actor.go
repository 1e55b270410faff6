package node

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
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

// group is one concurrency group of an actor: its own FIFO queue and slot
// limit. Readonly calls do not take slots; they are bounded by the
// reader/writer rule instead.
type group struct {
	limit   int32
	running int32 // writers running in this group
	last    *Call // the running writer, when limit is 1
	q       queue
}

// namedGroup is a concurrency group an actor's options declare.
type namedGroup struct {
	name string
	group
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

// groupOf returns the concurrency group a method runs in, making the
// actor's named groups when a method first uses one. Unknown groups were
// refused at spawn; they run in the default group.
func (a *Actor) groupOf(m *Method) *group {
	if m.Group == "" {
		return &a.def
	}
	c := a.coldLocked()
	if c.groups == nil && len(a.Spec.ConcurrencyGroups) > 0 {
		c.groups = make([]namedGroup, 0, len(a.Spec.ConcurrencyGroups))
		for name, limit := range a.Spec.ConcurrencyGroups {
			c.groups = append(c.groups, namedGroup{name: name, group: group{limit: limit32(limit)}})
		}
		slices.SortFunc(c.groups, func(x, y namedGroup) int { return strings.Compare(x.name, y.name) })
	}
	for i := range c.groups {
		if c.groups[i].name == m.Group {
			return &c.groups[i].group
		}
	}
	return &a.def
}

// groups returns how many concurrency groups the actor has made: the
// default one and, once used, the named ones.
func (a *Actor) groups() int {
	if a.cold == nil {
		return 1
	}
	return 1 + len(a.cold.groups)
}

// group returns group i of groups(): the default one first, then the
// named ones by name.
func (a *Actor) group(i int) *group {
	if i == 0 {
		return &a.def
	}
	return &a.cold.groups[i-1].group
}

// runningLen returns how many calls run.
func (a *Actor) runningLen() int {
	n := 0
	if a.run0 != nil {
		n = 1
	}
	if a.cold != nil {
		n += len(a.cold.running)
	}
	return n
}

// runningAt returns running call i of runningLen().
func (a *Actor) runningAt(i int) *Call {
	if a.run0 != nil {
		if i == 0 {
			return a.run0
		}
		i--
	}
	return a.cold.running[i]
}

// addRunningLocked records c as running.
func (a *Actor) addRunningLocked(c *Call) {
	if a.run0 == nil {
		a.run0 = c
		return
	}
	cold := a.coldLocked()
	cold.running = append(cold.running, c)
}

// removeRunningLocked forgets running call c.
func (a *Actor) removeRunningLocked(c *Call) {
	var more []*Call
	if a.cold != nil {
		more = a.cold.running
	}
	if a.run0 == c {
		a.run0 = nil
		if len(more) == 0 {
			return
		}
		c = more[len(more)-1]
		a.run0 = c
	}
	if i := slices.Index(more, c); i >= 0 {
		last := len(more) - 1
		more[i] = more[last]
		more[last] = nil
		a.cold.running = more[:last]
	}
}

// State returns the actor's current state.
func (a *Actor) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// Submit queues a call. It never blocks on the method: the result arrives
// on the call's Done channel.
func (a *Actor) Submit(c *Call) {
	c.target = a
	if a.node.Tel.Measure(c.Ctx) {
		c.queuedAt = stamp()
	}
	c.retries = a.Spec.MaxTaskRetries
	if c.Method.HasRetries {
		c.retries = int(c.Method.MaxTaskRetries)
	}
	a.mu.Lock()
	switch {
	case a.state == Dead:
		err := a.diedErrLocked()
		a.mu.Unlock()
		c.Fail(err)
		return
	case a.exiting:
		err := a.exitedErrLocked()
		a.mu.Unlock()
		c.Fail(err)
		return
	case a.state == Restarting && c.retries == 0:
		err := errs.Unavailable(&errs.ActorUnavailableError{ActorID: a.ID, Class: a.Class.Name,
			Reason: fmt.Sprintf("restarting after %s (restart %d); the call has no task retries", a.causeLocked(), a.restarts)})
		a.mu.Unlock()
		c.Fail(err)
		return
	}
	if n := int(a.pending) + a.runningLen(); a.Spec.MaxPendingCalls > 0 && n >= a.Spec.MaxPendingCalls {
		a.mu.Unlock()
		c.Fail(errs.Newf(errs.ErrPendingCallsLimit, "actor %s (%s): %d calls pending, the limit is %d",
			a.ID, a.Class.Name, n, a.Spec.MaxPendingCalls))
		return
	}
	a.calls++
	c.seq = a.calls
	a.enqueueLocked(c)
	if a.state == Alive {
		a.dispatchLocked(false)
	}
	a.mu.Unlock()
}

func (a *Actor) enqueueLocked(c *Call) {
	c.state.Store(callQueued)
	a.groupOf(c.Method).q.push(c)
	a.pending++
	c.watchCtx(c.Ctx)
}

// cancelCall takes a queued call out of the queue and fails it with cause.
// A running call is left to its context, which the caller's cancellation
// already reaches.
func (a *Actor) cancelCall(c *Call, cause error) {
	a.mu.Lock()
	if !c.state.CompareAndSwap(callQueued, callDone) {
		a.mu.Unlock()
		return
	}
	a.pending--
	// A cancelled call leaves the queue when it reaches the head; under a
	// flood of calls that time out before that, the queues are compacted
	// once they hold more cancelled calls than live ones, so that they
	// stay in proportion to the calls pending.
	if a.dropped++; a.dropped > 64 && a.dropped > a.pending {
		for i := range a.groups() {
			a.group(i).q.compact(func(c *Call) bool { return c.state.Load() == callQueued })
		}
		a.dropped = 0
	}
	a.mu.Unlock()
	c.unwatch()
	c.complete(nil, errs.FromContext(cause))
}

// abortCall ends c, which is aborted: out of its queue if it waits, with
// its method's context cancelled if it runs. One look under the lock
// decides, so a call that a death puts back in its queue meanwhile is
// found there (a death never retries an aborted call).
func (a *Actor) abortCall(c *Call) {
	a.mu.Lock()
	switch c.state.Load() {
	case callQueued:
		c.state.Store(callDone)
		a.pending--
		a.mu.Unlock()
		c.unwatch()
		c.complete(nil, errs.FromContext(context.Canceled))
	case callRunning:
		at := c.cur
		a.mu.Unlock()
		at.ctx.cancel(context.Canceled)
	default:
		a.mu.Unlock()
	}
}

// dispatchLocked starts every call that may start now. When self is true
// the caller is a worker that just finished a call: the first startable
// call is returned for it to run, the others get goroutines of their own.
func (a *Actor) dispatchLocked(self bool) *attempt {
	if a.state != Alive || a.exiting {
		return nil
	}
	var mine *attempt
	for i := range a.groups() {
		g := a.group(i)
		for g.q.len() > 0 {
			c := g.q.peek()
			if c.state.Load() != callQueued {
				g.q.pop() // cancelled while queued
				continue
			}
			if c.Method.Readonly {
				if a.writers > 0 || a.writerAheadLocked(c.seq) {
					break
				}
				a.readers++
			} else {
				if a.readers > 0 || g.running >= g.limit {
					break
				}
				g.running++
				a.writers++
				if g.limit == 1 {
					g.last = c
				}
			}
			g.q.pop()
			a.pending--
			at := a.startLocked(c)
			if self && mine == nil {
				mine = at
			} else {
				a.workers++
				a.node.workers.run(a, at)
			}
		}
	}
	return mine
}

// writerAheadLocked reports whether a mutating call that came before the
// call numbered seq waits at the head of a group with room, that is, only
// for readers to finish: a reader that came later waits behind it, so a
// stream of readers, in whatever group, cannot starve a writer. (When the
// running readers finish, dispatch starts that writer first.)
func (a *Actor) writerAheadLocked(seq uint64) bool {
	for i := range a.groups() {
		g := a.group(i)
		for i := range g.q.len() {
			c := g.q.at(i)
			if c.state.Load() != callQueued {
				continue
			}
			if !c.Method.Readonly && g.running < g.limit && c.seq < seq {
				return true
			}
			break
		}
	}
	return false
}

// attempt is one run of a call. The first lives inside the call; a retry
// gets a fresh one, because the goroutine of a dead incarnation may still
// hold the old one.
type attempt struct {
	ctx   methodCtx
	epoch uint64
	inst  any
}

func (at *attempt) cancel() { at.ctx.cancel(context.Canceled) }

func (a *Actor) startLocked(c *Call) *attempt {
	c.state.Store(callRunning)
	if c.stopWatch != nil {
		// A context.AfterFunc watch: the method's context watches Ctx
		// from here on. A hook in a calling actor's context stays: it
		// reaches the running call too (see Call.fire).
		c.stopWatch()
		c.stopWatch = nil
	}
	at := &c.first
	if c.cur != nil {
		at = new(attempt)
	}
	at.ctx.init(c.Ctx, c)
	at.epoch, at.inst = a.epoch, a.inst
	c.cur = at
	a.addRunningLocked(c)
	return at
}

// blockerOf returns the running call that keeps queued call c from
// starting, if exactly one does.
func (a *Actor) blockerOf(c *Call) *Call {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state != Alive || c.state.Load() != callQueued {
		return nil
	}
	g := a.groupOf(c.Method)
	if c.Method.Readonly {
		if a.writers == 1 {
			for i := range a.runningLen() {
				if r := a.runningAt(i); !r.Method.Readonly {
					return r
				}
			}
		}
		return nil
	}
	if g.limit == 1 && g.running == 1 {
		return g.last
	}
	if a.readers == 1 && a.writers == 0 {
		for i := range a.runningLen() {
			if r := a.runningAt(i); r.Method.Readonly {
				return r
			}
		}
	}
	return nil
}

// work runs calls on one goroutine until none can start.
func (a *Actor) work(at *attempt) {
	for at != nil {
		resp, panicked, err := invoke(at)
		if panicked != nil {
			a.crash(at, *panicked)
			return
		}
		at = a.finish(at, resp, err)
	}
}

func invoke(at *attempt) (resp proto.Message, panicked *errs.Cause, err error) {
	c := at.ctx.call
	var ctx context.Context = &at.ctx
	var span telemetry.Server
	if c.queuedAt != 0 {
		a := c.target
		ctx, span = a.node.Tel.StartServer(ctx, c.Method.Procedure, a.telemetry(), c.queued())
	}
	defer func() {
		if r := recover(); r != nil {
			panicked = &errs.Cause{Kind: errs.CausePanic, Message: fmt.Sprint(r), Stack: string(debug.Stack())}
			span.Panicked(panicked.Message, panicked.Stack)
		}
	}()
	if serve := c.target.serveFunc(); serve != nil {
		resp, err = serve(ctx, c.target, at.inst, c.Method, c.Req)
	} else {
		resp, err = c.Method.Invoke(at.inst, ctx, c.Req)
	}
	span.End(err)
	return resp, nil, err
}

// telemetry describes the actor for spans.
func (a *Actor) telemetry() *telemetry.Actor {
	return &telemetry.Actor{ID: a.ID, Class: a.Class.Name, Name: a.Spec.Name, Job: a.Job, Node: a.node.ID}
}

// finish records the end of an attempt and returns the next one for this
// worker.
func (a *Actor) finish(at *attempt, resp proto.Message, err error) *attempt {
	at.cancel()
	c := at.ctx.call
	a.mu.Lock()
	if at.epoch != a.epoch {
		// The actor died while c ran; c was retried or failed then.
		a.workerDoneLocked()
		a.mu.Unlock()
		return nil
	}
	a.endLocked(c)
	c.state.Store(callDone)
	var next *attempt
	var after aftermath
	if a.exiting {
		if a.runningLen() == 0 {
			after = a.dieLocked(exitCause, false, true)
		}
	} else {
		next = a.dispatchLocked(true)
	}
	if next == nil {
		a.workerDoneLocked()
	}
	a.mu.Unlock()
	c.unwatch()
	if after.dead {
		// The last call of an exiting actor: its caller hears back once
		// the actor has ended, Stop hook and all.
		a.node.after(a, &after)
		c.complete(resp, err)
		return nil
	}
	c.complete(resp, err)
	a.node.after(a, &after)
	return next
}

func (a *Actor) endLocked(c *Call) {
	g := a.groupOf(c.Method)
	if c.Method.Readonly {
		a.readers--
	} else {
		g.running--
		a.writers--
		if g.last == c {
			g.last = nil
		}
	}
	a.removeRunningLocked(c)
}

func (a *Actor) workerDoneLocked() {
	a.workers--
	if a.workers == 0 && a.cold != nil && a.cold.idle != nil {
		close(a.cold.idle)
		a.cold.idle = nil
	}
}

func (a *Actor) crash(at *attempt, cause errs.Cause) {
	at.cancel()
	a.mu.Lock()
	var after aftermath
	if at.epoch == a.epoch {
		a.node.log.Error("actor method panicked", "actor_id", a.ID, "class", a.Class.Name,
			"method", at.ctx.call.Method.Procedure, "panic", cause.Message)
		after = a.dieLocked(cause, true, false)
	}
	a.workerDoneLocked()
	a.mu.Unlock()
	a.node.after(a, &after)
}

// Kill ends the actor at once: queued calls fail or, with restart allowed
// and restarts left, wait for the restarted actor; running calls' contexts
// are cancelled. A graceful end also calls the instance's Stop hook.
func (a *Actor) Kill(cause errs.Cause, restart, graceful bool) {
	a.mu.Lock()
	if a.state == Dead {
		a.mu.Unlock()
		return
	}
	if a.state == PendingCreation && !a.placed && restart {
		// Not placed yet: it spends a restart and stays in the queue for
		// placement, or dies when it has none left.
		if a.Spec.MaxRestarts == -1 || int(a.restarts) < a.Spec.MaxRestarts {
			a.restarts++
			a.mu.Unlock()
			return
		}
		restart = false
	}
	after := a.dieLocked(cause, restart, graceful)
	a.mu.Unlock()
	a.node.after(a, &after)
}

// aftermath is what a death leaves to do outside the actor's lock.
type aftermath struct {
	fail      []*Call
	failErr   []error
	restart   bool
	dead      bool
	children  []*Actor
	stop      any // an instance whose Stop hook runs (graceful ends)
	stopCause errs.Cause
}

// dieLocked ends the current incarnation. Calls that were running or
// queued are retried on the restarted actor when both the actor has
// restarts left and the call has retries left, in their arrival order;
// the others fail with actor-died.
func (a *Actor) dieLocked(cause errs.Cause, allowRestart, graceful bool) aftermath {
	var after aftermath
	if graceful && a.inst != nil {
		after.stop, after.stopCause = a.inst, cause
	}
	wasPlaced := a.placed
	a.epoch++
	if a.ctor != nil {
		a.ctor.cancel()
		a.ctor = nil
	}
	calls := make([]*Call, 0, a.runningLen()+int(a.pending))
	for i := range a.runningLen() {
		c := a.runningAt(i)
		c.cur.cancel()
		calls = append(calls, c)
	}
	a.run0 = nil
	cold := a.coldLocked()
	clear(cold.running)
	cold.running = cold.running[:0]
	for i := range a.groups() {
		g := a.group(i)
		g.running, g.last = 0, nil
		for g.q.len() > 0 {
			if c := g.q.pop(); c.state.Load() == callQueued {
				calls = append(calls, c)
			}
		}
	}
	sort.Slice(calls, func(i, j int) bool { return calls[i].seq < calls[j].seq })
	a.readers, a.writers, a.pending = 0, 0, 0
	a.inst = nil
	cold.cause = cause
	after.children, cold.children = cold.children, nil

	died := a.diedErrLocked() // with the restarts before this death
	restart := allowRestart && wasPlaced && !graceful && !a.exiting &&
		(a.Spec.MaxRestarts == -1 || int(a.restarts) < a.Spec.MaxRestarts)
	if restart {
		a.restarts++
		a.state = Restarting
		after.restart = true
	} else {
		a.state = Dead
		a.exiting = false
		after.dead = true
	}
	for _, c := range calls {
		c.unwatch()
		if restart && c.retries != 0 && c.ctxErr() == nil {
			if c.retries > 0 {
				c.retries--
			}
			a.enqueueLocked(c)
			continue
		}
		c.state.Store(callDone)
		after.fail = append(after.fail, c)
		if err := c.ctxErr(); err != nil {
			after.failErr = append(after.failErr, errs.FromContext(err))
		} else {
			after.failErr = append(after.failErr, died)
		}
	}
	return after
}

func (a *Actor) diedErrLocked() error {
	return errs.Died(&errs.ActorDiedError{ActorID: a.ID, Class: a.Class.Name, Name: a.Spec.Name,
		Cause: a.causeLocked(), Restarts: int(a.restarts)})
}

// causeLocked returns the cause of the actor's last death.
func (a *Actor) causeLocked() errs.Cause {
	if a.cold == nil {
		return errs.Cause{}
	}
	return a.cold.cause
}

// place starts the constructor once the actor has a node and resources.
func (a *Actor) place() {
	a.mu.Lock()
	if a.state != PendingCreation || a.placed {
		a.mu.Unlock()
		return
	}
	a.placed = true
	if a.cold != nil {
		a.cold.pendingReason = ""
	}
	a.startCtorLocked()
	a.mu.Unlock()
}

func (a *Actor) startCtorLocked() {
	x := &ctorCtx{values: a.ctx, actor: a, epoch: a.epoch, init: a.Init}
	if x.init == nil && a.Class.NewInit != nil {
		// Made here rather than on the constructor's goroutine, whose
		// stack is small.
		x.init = a.Class.NewInit()
	}
	a.ctor = x
	a.workers++
	go x.run()
}

// construct runs the constructor with x, on a goroutine of its own.
func (a *Actor) construct(x *ctorCtx) {
	inst, cause := a.runFactory(x)
	x.cancel()
	a.mu.Lock()
	var after aftermath
	alive := false
	switch {
	case x.epoch != a.epoch:
		// Killed while constructing.
	case cause != nil:
		a.node.log.Error("actor constructor failed", "actor_id", a.ID, "class", a.Class.Name, "cause", cause.String())
		after = a.dieLocked(*cause, false, false)
	case a.exiting:
		// ExitActor in the constructor: the actor ends now, gracefully.
		a.inst, a.ctor = inst, nil
		after = a.dieLocked(exitCause, false, true)
	default:
		a.inst = inst
		a.state = Alive
		a.ctor = nil
		a.dispatchLocked(false)
		alive = true
	}
	a.workerDoneLocked()
	a.mu.Unlock()
	if alive && a.node.OnAlive != nil {
		a.node.OnAlive(a)
	}
	a.node.after(a, &after)
}

func (a *Actor) runFactory(ctx *ctorCtx) (inst any, cause *errs.Cause) {
	defer func() {
		if r := recover(); r != nil {
			inst, cause = nil, &errs.Cause{Kind: errs.CausePanic, Message: fmt.Sprint(r), Stack: string(debug.Stack())}
		}
	}()
	inst, err := a.factory(ctx, ctx.init)
	if err != nil {
		return nil, &errs.Cause{Kind: errs.CauseConstructor, Message: err.Error()}
	}
	if inst == nil {
		return nil, &errs.Cause{Kind: errs.CauseConstructor, Message: "the constructor returned a nil actor"}
	}
	return inst, nil
}

// restart re-runs the constructor after a death that allows it.
func (a *Actor) restart() {
	a.mu.Lock()
	if a.state == Restarting && a.ctor == nil {
		a.startCtorLocked()
	}
	a.mu.Unlock()
}

// adopt records child as owned by a: it dies when a dies or restarts.
// It reports false when a has already died.
func (a *Actor) adopt(child *Actor) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state == Dead {
		return false
	}
	cold := a.coldLocked()
	cold.children = append(cold.children, child)
	return true
}

// Info is a snapshot of an actor for listings.
type Info struct {
	ID            string
	Class         string
	State         State
	Job           string
	Name          string
	Namespace     string
	Restarts      int
	Cause         errs.Cause
	Detached      bool
	PendingReason string
	Resources     map[string]float64
	Pending       int
	Running       int
}

// Info returns a snapshot of the actor.
func (a *Actor) Info() Info {
	a.mu.Lock()
	defer a.mu.Unlock()
	info := Info{
		ID: a.ID, Class: a.Class.Name, State: a.state, Job: a.Job, Name: a.Spec.Name,
		Namespace: a.Spec.Namespace, Restarts: int(a.restarts),
		Detached: a.Spec.Detached, Resources: a.Spec.Resources.Float(),
		Pending: int(a.pending), Running: a.runningLen(),
	}
	if a.cold != nil {
		info.Cause, info.PendingReason = a.cold.cause, a.cold.pendingReason
	}
	return info
}

// SetRestarts sets the restarts an actor has had before it is placed: an
// actor recreated on another node after its node was lost keeps its count.
func (a *Actor) SetRestarts(n int) {
	a.mu.Lock()
	a.restarts = int32(max(min(n, math.MaxInt32), math.MinInt32))
	a.mu.Unlock()
}

// SetPendingReason records why the actor waits for placement.
func (a *Actor) SetPendingReason(reason string) {
	a.mu.Lock()
	if reason != "" || a.cold != nil {
		a.coldLocked().pendingReason = reason
	}
	a.mu.Unlock()
}

// DiedError returns the actor-died error for a dead actor, else nil.
func (a *Actor) DiedError() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state != Dead {
		return nil
	}
	return a.diedErrLocked()
}

type actorKey struct{}

// ActorFrom returns the actor whose method or constructor ctx belongs to.
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}
