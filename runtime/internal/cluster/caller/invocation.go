package caller

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// invocation is one remote call with what its retries need.
type invocation struct {
	c *Client
	// ctx is the caller's, or, once the call is sent again, a child of it
	// that Cancel ends.
	ctx     context.Context
	t       *Target
	m       *node.Method
	body    []byte
	md      map[string]string
	done    Resolver
	retries int
	again   *resending // nil until the call is sent again

	// Guarded by t.mu.
	prev, next *invocation // in t's calls not finished
	sentTo     string
	sendNo     uint64
	pending    *transport.Pending // the last attempt
	attempts   uint32
	settled    bool
	cancelled  bool

	env   actorv1.CallEnvelope // the first attempt's
	first transport.Pending    // the first attempt's
}

// resending is what a call sent again needs, made the first time: most
// calls never are.
type resending struct {
	caller   context.Context // the caller's
	deadline time.Time       // when waiting for a node gives up; set by the first pause
	delay    time.Duration
	stop     context.CancelFunc // ends the invocation's ctx; guarded by t.mu
}

// Cancel ends the call with canceled and tells its node to cancel it.
func (inv *invocation) Cancel() {
	t := inv.t
	t.mu.Lock()
	if inv.cancelled {
		t.mu.Unlock()
		return
	}
	inv.cancelled = true
	p, stop := inv.pending, inv.stopLocked()
	t.mu.Unlock()
	if p != nil {
		p.Cancel() // nothing once the attempt has its result
	}
	if stop != nil {
		stop()
	}
}

// pause waits before the next attempt, longer each time.
func (inv *invocation) pause(why error) error {
	r := inv.again // set by retry, which calls pause
	if r.deadline.IsZero() {
		r.deadline = time.Now().Add(giveUp)
	}
	if time.Now().After(r.deadline) {
		return errs.Unavailable(&errs.ActorUnavailableError{ActorID: inv.t.ID, Class: inv.t.Class,
			Reason: fmt.Sprintf("no reachable node for %v: %v", giveUp, why)})
	}
	timer := time.NewTimer(r.delay)
	defer timer.Stop()
	r.delay = min(r.delay*2, 100*time.Millisecond)
	select {
	case <-timer.C:
		return nil
	case <-inv.ctx.Done():
		return errs.FromContext(inv.ctx.Err())
	}
}

// resolve asks the head where the actor lives; "" means it has no node
// yet and the caller should pause.
func (inv *invocation) resolve() (string, error) {
	t := inv.t
	in, err := inv.lookup()
	if err != nil {
		if inv.ctx.Err() != nil {
			return "", errs.FromContext(inv.ctx.Err())
		}
		if connect.CodeOf(err) != connect.CodeUnavailable {
			return "", err
		}
		return "", inv.pause(err)
	}
	if in.GetState() == actorv1.ActorState_ACTOR_STATE_DEAD {
		return "", errs.Died(&errs.ActorDiedError{ActorID: t.ID, Class: t.Class, Name: t.Name,
			Cause: cluster.CauseFromProto(in.GetDeathCause()), Restarts: int(in.GetRestarts())})
	}
	if in.GetNodeAddress() == "" {
		return "", inv.pause(errors.New(in.GetPendingReason()))
	}
	t.set(in)
	return in.GetNodeAddress(), nil
}

// lookup asks the head for the actor's info.
func (inv *invocation) lookup() (*actorv1.ActorInfo, error) {
	if inv.t.Resolve != nil {
		return inv.t.Resolve(inv.ctx)
	}
	res, err := inv.c.head.GetActor(inv.ctx, connect.NewRequest(&actorv1.GetActorRequest{ActorId: inv.t.ID}))
	if err != nil {
		return nil, err
	}
	return res.Msg.GetActor(), nil
}

// resend sends inv again once the calls made before it have been: to the
// cached node, or to the one the head names.
func (inv *invocation) resend() error {
	t := inv.t
	for {
		ordered, err := t.awaitTurn(inv)
		if err != nil {
			return err
		}
		addr := t.address()
		if addr == "" {
			if addr, err = inv.resolve(); err != nil {
				return err
			}
			if addr == "" {
				continue
			}
		}
		t.mu.Lock()
		if !ordered || t.turnLocked(inv) {
			t.sendLocked(inv, addr)
			t.mu.Unlock()
			return nil
		}
		t.mu.Unlock() // an earlier call failed meanwhile: it goes first
	}
}

// Receive takes the outcome of inv's last attempt, on the goroutine that
// reads its node's results: the call ends there, or is sent again from a
// goroutine of its own, as that may wait.
func (inv *invocation) Receive(res *actorv1.ResultEnvelope, err error) {
	out, err, again := inv.settle(res, err)
	if again != nil {
		go inv.retry(again)
		return
	}
	inv.end(out, err)
}

// end removes inv from its target's flights and reports its outcome.
func (inv *invocation) end(out proto.Message, err error) {
	if stop := inv.t.finish(inv); stop != nil {
		stop()
	}
	inv.done.Resolve(out, err)
}

// stopLocked returns what ends the invocation's own ctx, nil if it has
// none. The caller holds t.mu.
func (inv *invocation) stopLocked() context.CancelFunc {
	if inv.again == nil {
		return nil
	}
	return inv.again.stop
}

// retry sends inv again, after a pause when why (the last attempt's
// failure) is set, and ends it when that fails. From here on the call
// has a context of its own, which Cancel ends.
func (inv *invocation) retry(why error) {
	inv.t.mu.Lock()
	if inv.cancelled {
		inv.t.mu.Unlock()
		inv.end(nil, errs.FromContext(context.Canceled))
		return
	}
	if inv.again == nil {
		inv.again = &resending{caller: inv.ctx, delay: time.Millisecond}
	}
	r := inv.again
	last := r.stop
	inv.ctx, r.stop = context.WithCancel(r.caller)
	inv.t.mu.Unlock()
	if last != nil {
		last()
	}
	if why != nil {
		if err := inv.pause(why); err != nil {
			inv.end(nil, err)
			return
		}
	}
	if err := inv.resend(); err != nil {
		inv.end(nil, err)
	}
}

// settle judges an attempt's outcome: the call's response or error, or,
// when again is set, the failure after which it is to be sent again.
func (inv *invocation) settle(res *actorv1.ResultEnvelope, err error) (out proto.Message, _ error, again error) {
	t := inv.t
	if err == nil {
		if res.GetCode() == 0 {
			out := inv.m.NewResponse()
			if err := proto.Unmarshal(res.GetResponse(), out); err != nil {
				return nil, connect.NewError(connect.CodeInternal, err), nil
			}
			return out, nil, nil
		}
		werr := transport.EnvelopeToError(res)
		if !cluster.IsNotOnNode(werr) {
			err := cluster.FromWire(werr)
			var died *errs.ActorDiedError
			if !errors.As(err, &died) || died.Cause.Kind != errs.CauseNodeLost || inv.retries == 0 {
				return nil, err, nil
			}
			// Caught by its node's shutdown: it may restart elsewhere.
			if inv.retries > 0 {
				inv.retries--
			}
		}
		t.failed(inv)
		return nil, nil, werr
	}
	if inv.ctx.Err() != nil || connect.CodeOf(err) != connect.CodeUnavailable {
		return nil, err, nil
	}
	t.failed(inv)
	if delivered(err) {
		if inv.retries == 0 {
			return nil, errs.Unavailable(&errs.ActorUnavailableError{ActorID: t.ID, Class: t.Class,
				Reason: fmt.Sprintf("its node %s was lost while the call was in flight and the call has no task retries: %v", inv.sentTo, err)}), nil
		}
		if inv.retries > 0 {
			inv.retries--
		}
	}
	return nil, nil, err
}

// delivered reports whether a failed call may have reached its node: it
// did not if the connection was refused.
func delivered(err error) bool {
	return !errors.Is(err, syscall.ECONNREFUSED)
}
