package node

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
)

// attempt is one run of a call. The first lives inside the call; a retry
// gets a fresh one, because the goroutine of a dead incarnation may still
// hold the old one.
type attempt struct {
	ctx   methodCtx
	epoch uint64
	inst  any
}

func (at *attempt) cancel() { at.ctx.cancel(context.Canceled) }

// startLocked marks c running and returns its attempt, with the
// incarnation it runs on.
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

// invoke runs the method of at's call, recovering a panic as the cause
// of a crash.
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

// endLocked frees the slot running call c held.
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

// workerDoneLocked records that a worker goroutine stopped running the
// actor's calls, and wakes whoever waits for the actor to be idle.
func (a *Actor) workerDoneLocked() {
	a.workers--
	if a.workers == 0 && a.cold != nil && a.cold.idle != nil {
		close(a.cold.idle)
		a.cold.idle = nil
	}
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
