package node

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/troupehq/troupe/runtime/internal/errs"
)

// DefaultStopTimeout is how long an actor's Stop hook may run unless
// SetStopTimeout says otherwise.
const DefaultStopTimeout = 10 * time.Second

// SetStopTimeout sets how long each Stop hook may run before the node
// goes on without it; d must be positive. Call it before the node hosts
// actors.
func (n *Node) SetStopTimeout(d time.Duration) { n.stopTimeout = d }

// stopOutcome is how a Stop hook ended.
type stopOutcome struct {
	err   error
	panic *errs.Cause // set if it panicked
}

// runStop runs s.Stop, the hook of a's incarnation that ended with cause,
// on a goroutine of its own, and waits for it at most the node's stop
// timeout; its ctx ends then. A panic is recovered. A panic or a hook
// left running is logged and added to the actor's cause of death; an
// error is logged.
func (n *Node) runStop(a *Actor, s Stopper) {
	timeout := n.stopTimeout
	if timeout <= 0 {
		timeout = DefaultStopTimeout
	}
	ctx, cancel := context.WithTimeout(a.ctx, timeout)
	defer cancel()
	done := make(chan stopOutcome, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- stopOutcome{panic: &errs.Cause{Message: fmt.Sprint(r), Stack: string(debug.Stack())}}
			}
		}()
		done <- stopOutcome{err: s.Stop(ctx)}
	}()
	var out stopOutcome
	select {
	case out = <-done:
	case <-ctx.Done():
		select {
		case out = <-done: // it returned as its ctx ended
		default:
			n.log.Error("actor Stop hook did not return within the stop timeout; going on without it",
				"actor_id", a.ID, "class", a.Class.Name, "timeout", timeout)
			a.noteStop(fmt.Sprintf("its Stop hook did not return within %v", timeout), "")
			return
		}
	}
	switch {
	case out.panic != nil:
		n.log.Error("actor Stop hook panicked", "actor_id", a.ID, "class", a.Class.Name,
			"panic", out.panic.Message, "stack", out.panic.Stack)
		a.noteStop("its Stop hook panicked: "+out.panic.Message, out.panic.Stack)
	case out.err != nil:
		n.log.Warn("actor Stop hook failed", "actor_id", a.ID, "class", a.Class.Name, "error", out.err)
	}
}

// noteStop adds what went wrong in the Stop hook to the cause of the
// actor's death, and the hook's stack if the cause has none.
func (a *Actor) noteStop(what, stack string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cold := a.coldLocked()
	cold.cause.Message += "; " + what
	if cold.cause.Stack == "" {
		cold.cause.Stack = stack
	}
}
