package node

import (
	"fmt"
	"runtime/debug"
	"sort"

	"github.com/troupehq/troupe/runtime/internal/errs"
)

// crash ends the incarnation whose method panicked in at: the actor dies
// with cause, and restarts when it may.
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
