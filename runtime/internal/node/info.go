package node

import (
	"math"

	"github.com/troupehq/troupe/runtime/internal/errs"
)

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
