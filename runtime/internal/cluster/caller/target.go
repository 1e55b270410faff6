package caller

import (
	"context"
	"sync"
	"time"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/errs"
)

// Target is an actor in another process as a caller sees it, with the
// node it was last resolved to and the calls to it in flight.
type Target struct {
	ID, Class, Name, Namespace string
	// MaxTaskRetries is the actor's; a method may override it.
	MaxTaskRetries int
	// Resolve, when set, finds the actor's node instead of the head's
	// GetActor (durable actors are found by class and id).
	Resolve func(ctx context.Context) (*actorv1.ActorInfo, error)

	mu     sync.Mutex
	nodeID string
	addr   string
	// first and last end the list of calls not finished, in the order
	// they were made (linked through their prev and next). Those whose
	// last attempt failed, or is doomed to (it went to the same node
	// before an attempt there failed), are unsettled until sent again; a
	// call is sent again only once every earlier one is settled, so
	// retried calls reach the actor in the order they were made.
	first, last *invocation
	unsettled   int
	sends       uint64
	changed     chan struct{} // closed when a flight settles or ends
}

// orderWait bounds how long a call to be sent again waits for earlier
// calls to be sent again first: a call stuck on a node that neither
// answers nor fails must not hold the others forever.
const orderWait = 10 * time.Second

// NewTarget returns the target of the actor info describes.
func NewTarget(in *actorv1.ActorInfo) *Target {
	return &Target{ID: in.GetActorId(), Class: in.GetClass(), Name: in.GetName(), Namespace: in.GetNamespace(),
		MaxTaskRetries: int(in.GetSpec().GetMaxTaskRetries()), nodeID: in.GetNodeId(), addr: in.GetNodeAddress()}
}

// Node returns the id of the node the actor was last resolved to.
func (t *Target) Node() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.nodeID
}

func (t *Target) address() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addr
}

func (t *Target) set(in *actorv1.ActorInfo) {
	t.mu.Lock()
	t.nodeID, t.addr = in.GetNodeId(), in.GetNodeAddress()
	t.mu.Unlock()
}

func (t *Target) notifyLocked() {
	if t.changed != nil {
		close(t.changed)
		t.changed = nil
	}
}

// turnLocked reports whether every call made before inv is settled.
func (t *Target) turnLocked(inv *invocation) bool {
	for f := t.first; f != nil && f != inv; f = f.next {
		if !f.settled {
			return false
		}
	}
	return true
}

// pushLocked appends inv to the calls not finished.
func (t *Target) pushLocked(inv *invocation) {
	inv.prev = t.last
	if t.last != nil {
		t.last.next = inv
	} else {
		t.first = inv
	}
	t.last = inv
}

// removeLocked takes inv out of the calls not finished.
func (t *Target) removeLocked(inv *invocation) {
	if inv.prev != nil {
		inv.prev.next = inv.next
	} else {
		t.first = inv.next
	}
	if inv.next != nil {
		inv.next.prev = inv.prev
	} else {
		t.last = inv.prev
	}
	inv.prev, inv.next = nil, nil
}

// sendLocked sends inv's next attempt to addr and settles it. The
// attempt's outcome goes to inv.attempted.
func (t *Target) sendLocked(inv *invocation, addr string) {
	t.sends++
	inv.sendNo, inv.sentTo = t.sends, addr
	if !inv.settled {
		inv.settled = true
		t.unsettled--
		t.notifyLocked()
	}
	// The first attempt uses the envelope and Pending allocated with the
	// call; one sent again gets new ones, as the stream that failed under
	// the last may still hold them.
	env, p := &inv.env, &inv.first
	if inv.attempts > 0 {
		env, p = new(actorv1.CallEnvelope), nil
	}
	inv.attempts++
	env.ActorId, env.Procedure, env.Request, env.Metadata = t.ID, inv.m.Procedure, inv.body, inv.md
	inv.pending = inv.c.conn(addr).CallFunc(inv.ctx, env, inv, p)
}

// failed records that inv's attempt did not reach the actor: the cached
// address is dropped, and inv and every call sent to the same node before
// it must be sent again, in order.
func (t *Target) failed(inv *invocation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.addr == inv.sentTo {
		t.addr = ""
	}
	if !inv.settled {
		return
	}
	for f := t.first; f != nil; f = f.next {
		if f.settled && f.sentTo == inv.sentTo && f.sendNo <= inv.sendNo {
			f.settled = false
			t.unsettled++
		}
	}
}

// finish removes inv from the flights and returns what ends its own ctx,
// if it has one.
func (t *Target) finish(inv *invocation) context.CancelFunc {
	t.mu.Lock()
	t.removeLocked(inv)
	if !inv.settled {
		t.unsettled--
	}
	t.notifyLocked()
	stop := inv.stopLocked()
	t.mu.Unlock()
	return stop
}

// awaitTurn waits until every call made before inv is settled, for at
// most orderWait; it reports whether the order still binds.
func (t *Target) awaitTurn(inv *invocation) (ordered bool, err error) {
	var timeout <-chan time.Time
	for {
		t.mu.Lock()
		if t.turnLocked(inv) {
			t.mu.Unlock()
			return true, nil
		}
		if t.changed == nil {
			t.changed = make(chan struct{})
		}
		ch := t.changed
		t.mu.Unlock()
		if timeout == nil {
			timer := time.NewTimer(orderWait)
			defer timer.Stop()
			timeout = timer.C
		}
		select {
		case <-ch:
		case <-timeout:
			return false, nil
		case <-inv.ctx.Done():
			return false, errs.FromContext(inv.ctx.Err())
		}
	}
}
