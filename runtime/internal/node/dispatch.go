package node

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/troupehq/troupe/runtime/internal/errs"
)

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
