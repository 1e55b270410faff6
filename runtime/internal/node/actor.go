package node

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"sort"
	"sync"
	"time"

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
	name    string
	limit   int
	running int   // writers running in this group
	last    *Call // the running writer, when limit is 1
	q       queue
}

// Actor is one actor instance hosted on a node: its mailbox, its executor
// and its life. Its identity never changes; restarts replace the instance
// inside it and bump the epoch.
type Actor struct {
	ID      string
	Class   *Class
	Spec    Spec
	Init    proto.Message
	Job     string
	Owner   *Actor // nil when owned by the job or detached
	Created time.Time
	node    *Node
	factory Factory
	baseCtx context.Context

	mu            sync.Mutex
	state         State
	placed        bool
	inst          any
	epoch         uint64
	restarts      int
	cause         errs.Cause
	pendingReason string
	groups        []group // the default group first
	readers       int
	writers       int
	pending       int
	seq           uint64
	running       []*Call
	exiting       bool
	ctorCancel    context.CancelFunc
	children      []*Actor
	workers       int // goroutines running calls or the constructor
	idle          chan struct{}
}

func newActor(n *Node, id string, class *Class, spec Spec, init proto.Message) *Actor {
	a := &Actor{ID: id, Class: class, Spec: spec, Init: init, node: n, Created: time.Now()}
	a.groups = make([]group, 1, 1+len(spec.ConcurrencyGroups))
	a.groups[0].limit = spec.MaxConcurrency
	for g, limit := range spec.ConcurrencyGroups {
		a.groups = append(a.groups, group{name: g, limit: limit})
	}
	sort.Slice(a.groups[1:], func(i, j int) bool { return a.groups[1+i].name < a.groups[1+j].name })
	return a
}

// Node returns the node hosting the actor.
func (a *Actor) Node() *Node { return a.node }

// groupOf returns the concurrency group a method runs in. Unknown groups
// were refused at spawn.
func (a *Actor) groupOf(m *Method) *group {
	if m.Group != "" {
		for i := 1; i < len(a.groups); i++ {
			if a.groups[i].name == m.Group {
				return &a.groups[i]
			}
		}
	}
	return &a.groups[0]
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
		c.queuedAt = time.Now()
	}
	c.retries = a.Spec.MaxTaskRetries
	if c.Method.HasRetries {
		c.retries = int(c.Method.MaxTaskRetries)
	}
	a.mu.Lock()
	switch a.state {
	case Dead:
		err := a.diedErrLocked()
		a.mu.Unlock()
		c.Fail(err)
		return
	case Restarting:
		if c.retries == 0 {
			err := errs.Unavailable(&errs.ActorUnavailableError{ActorID: a.ID, Class: a.Class.Name,
				Reason: fmt.Sprintf("restarting after %s (restart %d); the call has no task retries", a.cause, a.restarts)})
			a.mu.Unlock()
			c.Fail(err)
			return
		}
	}
	if n := a.pending + len(a.running); a.Spec.MaxPendingCalls > 0 && n >= a.Spec.MaxPendingCalls {
		a.mu.Unlock()
		c.Fail(errs.Newf(errs.ErrPendingCallsLimit, "actor %s (%s): %d calls pending, the limit is %d",
			a.ID, a.Class.Name, n, a.Spec.MaxPendingCalls))
		return
	}
	a.seq++
	c.seq = a.seq
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
	if c.Ctx.Done() != nil {
		c.stopWatch = context.AfterFunc(c.Ctx, func() { a.cancelCall(c, c.Ctx.Err()) })
	}
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
	a.mu.Unlock()
	if c.stopWatch != nil {
		c.stopWatch()
	}
	c.complete(nil, errs.FromContext(cause))
}

// dispatchLocked starts every call that may start now. When self is true
// the caller is a worker that just finished a call: the first startable
// call is returned for it to run, the others get goroutines of their own.
func (a *Actor) dispatchLocked(self bool) *attempt {
	if a.state != Alive || a.exiting {
		return nil
	}
	var mine *attempt
	for i := range a.groups {
		g := &a.groups[i]
		for g.q.len() > 0 {
			c := g.q.peek()
			if c.state.Load() != callQueued {
				g.q.pop() // cancelled while queued
				continue
			}
			if c.Method.Readonly {
				if a.writers > 0 || a.writerWaitingLocked() {
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
				go a.work(at)
			}
		}
	}
	return mine
}

// writerWaitingLocked reports whether a mutating call waits at the head of
// a group only because readers run: new readers then wait behind it, so
// writers are not starved.
func (a *Actor) writerWaitingLocked() bool {
	if a.readers == 0 {
		return false
	}
	for i := range a.groups {
		g := &a.groups[i]
		for i := 0; i < g.q.len(); i++ {
			c := g.q.buf[(g.q.head+i)%len(g.q.buf)]
			if c.state.Load() != callQueued {
				continue
			}
			if !c.Method.Readonly && g.running < g.limit {
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
	a.running = append(a.running, c)
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
			for _, r := range a.running {
				if !r.Method.Readonly {
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
		for _, r := range a.running {
			if r.Method.Readonly {
				return r
			}
		}
	}
	return nil
}

// work runs calls on one goroutine until none can start.
func (a *Actor) work(at *attempt) {
	for at != nil {
		resp, err, panicked := invoke(at)
		if panicked != nil {
			a.crash(at, *panicked)
			return
		}
		at = a.finish(at, resp, err)
	}
}

func invoke(at *attempt) (resp proto.Message, err error, panicked *errs.Cause) {
	c := at.ctx.call
	var ctx context.Context = &at.ctx
	var span telemetry.Server
	if !c.queuedAt.IsZero() {
		a := c.target
		ctx, span = a.node.Tel.StartServer(ctx, c.Method.Procedure, a.telemetry(), c.queuedAt)
	}
	defer func() {
		if r := recover(); r != nil {
			panicked = &errs.Cause{Kind: errs.CausePanic, Message: fmt.Sprint(r), Stack: string(debug.Stack())}
			span.Panicked(panicked.Message, panicked.Stack)
		}
	}()
	resp, err = c.Method.Invoke(at.inst, ctx, c.Req)
	span.End(err)
	return resp, err, nil
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
		if len(a.running) == 0 {
			after = a.dieLocked(errs.Cause{Kind: errs.CauseExited, Message: "the actor called ExitActor"}, false, true)
		}
	} else {
		next = a.dispatchLocked(true)
	}
	if next == nil {
		a.workerDoneLocked()
	}
	a.mu.Unlock()
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
	if i := slices.Index(a.running, c); i >= 0 {
		last := len(a.running) - 1
		a.running[i] = a.running[last]
		a.running[last] = nil
		a.running = a.running[:last]
	}
}

func (a *Actor) workerDoneLocked() {
	a.workers--
	if a.workers == 0 && a.idle != nil {
		close(a.idle)
		a.idle = nil
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

// Exit ends the actor gracefully once its running calls return; queued and
// later calls fail with actor-died (cause: exited).
func (a *Actor) Exit() {
	a.mu.Lock()
	a.exiting = true
	a.mu.Unlock()
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
		// Not placed yet: it stays in the queue for placement.
		a.mu.Unlock()
		return
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
	if a.ctorCancel != nil {
		a.ctorCancel()
		a.ctorCancel = nil
	}
	calls := make([]*Call, 0, len(a.running)+a.pending)
	for _, c := range a.running {
		c.cur.cancel()
		calls = append(calls, c)
	}
	a.running = a.running[:0]
	for i := range a.groups {
		g := &a.groups[i]
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
	a.cause = cause
	after.children, a.children = a.children, nil

	died := a.diedErrLocked() // with the restarts before this death
	restart := allowRestart && wasPlaced && !graceful &&
		(a.Spec.MaxRestarts == -1 || a.restarts < a.Spec.MaxRestarts)
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
		if c.stopWatch != nil {
			c.stopWatch()
			c.stopWatch = nil
		}
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
		Cause: a.cause, Restarts: a.restarts})
}

// place starts the constructor once the actor has a node and resources.
func (a *Actor) place() {
	a.mu.Lock()
	if a.state != PendingCreation || a.placed {
		a.mu.Unlock()
		return
	}
	a.placed = true
	a.pendingReason = ""
	a.startCtorLocked()
	a.mu.Unlock()
}

func (a *Actor) startCtorLocked() {
	ctx, cancel := context.WithCancel(a.baseCtx)
	a.ctorCancel = cancel
	a.workers++
	go a.construct(&ctorCtx{Context: ctx, actor: a}, cancel, a.epoch)
}

func (a *Actor) construct(ctx context.Context, cancel context.CancelFunc, epoch uint64) {
	inst, cause := a.runFactory(ctx)
	cancel()
	a.mu.Lock()
	var after aftermath
	alive := false
	switch {
	case epoch != a.epoch:
		// Killed while constructing.
	case cause != nil:
		a.node.log.Error("actor constructor failed", "actor_id", a.ID, "class", a.Class.Name, "cause", cause.String())
		after = a.dieLocked(*cause, false, false)
	default:
		a.inst = inst
		a.state = Alive
		a.ctorCancel = nil
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

func (a *Actor) runFactory(ctx context.Context) (inst any, cause *errs.Cause) {
	defer func() {
		if r := recover(); r != nil {
			inst, cause = nil, &errs.Cause{Kind: errs.CausePanic, Message: fmt.Sprint(r), Stack: string(debug.Stack())}
		}
	}()
	inst, err := a.factory(ctx, a.Init)
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
	if a.state == Restarting && a.ctorCancel == nil {
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
	a.children = append(a.children, child)
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
	return Info{
		ID: a.ID, Class: a.Class.Name, State: a.state, Job: a.Job, Name: a.Spec.Name,
		Namespace: a.Spec.Namespace, Restarts: a.restarts, Cause: a.cause,
		Detached: a.Spec.Detached, PendingReason: a.pendingReason,
		Resources: a.Spec.Resources.Float(), Pending: a.pending, Running: len(a.running),
	}
}

// SetRestarts sets the restarts an actor has had before it is placed: an
// actor recreated on another node after its node was lost keeps its count.
func (a *Actor) SetRestarts(n int) {
	a.mu.Lock()
	a.restarts = n
	a.mu.Unlock()
}

// SetPendingReason records why the actor waits for placement.
func (a *Actor) SetPendingReason(reason string) {
	a.mu.Lock()
	a.pendingReason = reason
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

// ctorCtx is the context a constructor runs with.
type ctorCtx struct {
	context.Context
	actor *Actor
}

func (x *ctorCtx) Value(key any) any {
	if key == (actorKey{}) {
		return x.actor
	}
	return x.Context.Value(key)
}

// ActorFrom returns the actor whose method or constructor ctx belongs to.
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}
