package node

import (
	"context"

	"github.com/troupehq/troupe/runtime/internal/errs"
)

// exitCause is the cause of death of an actor that called ExitActor.
var exitCause = errs.Cause{Kind: errs.CauseExited, Message: "the actor called ExitActor"}

// ExitFrom ends the actor whose method or constructor ctx belongs to, as
// Exit does, and reports false if ctx belongs to neither. A ctx kept
// from an incarnation that has since died ends nothing.
//
// Called in a constructor, the actor ends once the constructor returns:
// it is not ALIVE in between, and calls queued meanwhile fail.
func ExitFrom(ctx context.Context) bool {
	if x, ok := ctx.Value(ctorKey{}).(*ctorCtx); ok {
		x.actor.exitIncarnation(x.epoch)
		return true
	}
	c := CallFrom(ctx)
	if c == nil || c.target == nil {
		return false
	}
	x, _ := ctx.Value(methodKey{}).(*methodCtx)
	a := c.target
	a.mu.Lock()
	var after aftermath
	if at := c.cur; at != nil && &at.ctx == x && at.epoch == a.epoch {
		after = a.exitLocked()
	}
	a.mu.Unlock()
	a.node.after(a, &after)
	return true
}

// exitIncarnation is Exit for incarnation epoch: nothing if it has died.
func (a *Actor) exitIncarnation(epoch uint64) {
	a.mu.Lock()
	var after aftermath
	if epoch == a.epoch {
		after = a.exitLocked()
	}
	a.mu.Unlock()
	a.node.after(a, &after)
}

// Exit ends the actor gracefully: it is not restarted, and its Stop hook
// runs. Queued calls fail at once with actor-died (cause: exited), and so
// do calls made from now on. Running calls finish; the actor is DEAD once
// none runs, which is at once when none does.
func (a *Actor) Exit() {
	a.mu.Lock()
	after := a.exitLocked()
	a.mu.Unlock()
	a.node.after(a, &after)
}

func (a *Actor) exitLocked() aftermath {
	if a.state == Dead || a.exiting {
		return aftermath{}
	}
	a.exiting = true
	if a.state == Alive && a.runningLen() == 0 {
		return a.dieLocked(exitCause, false, true)
	}
	// Still constructing (construct ends it), or calls run (the last
	// to finish ends it).
	return a.failQueuedLocked(a.exitedErrLocked())
}

// exitedErrLocked is the error of calls to an actor that is exiting.
func (a *Actor) exitedErrLocked() error {
	return errs.Died(&errs.ActorDiedError{ActorID: a.ID, Class: a.Class.Name, Name: a.Spec.Name,
		Cause: exitCause, Restarts: int(a.restarts)})
}

// failQueuedLocked takes every queued call out of its queue, to fail with
// err (or its ctx's error) outside the lock.
func (a *Actor) failQueuedLocked(err error) aftermath {
	var after aftermath
	for i := range a.groups() {
		g := a.group(i)
		for g.q.len() > 0 {
			c := g.q.pop()
			if c.state.Load() != callQueued {
				continue
			}
			c.state.Store(callDone)
			c.unwatch()
			after.fail = append(after.fail, c)
			if cerr := c.ctxErr(); cerr != nil {
				after.failErr = append(after.failErr, errs.FromContext(cerr))
			} else {
				after.failErr = append(after.failErr, err)
			}
		}
	}
	a.pending = 0
	return after
}
