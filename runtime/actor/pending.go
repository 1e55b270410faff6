package actor

import (
	"context"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/cluster/caller"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// WithPendingTimeout bounds how long a call waits for its actor to be
// placed: a call made while its actor waits for a node that can host it
// (for resources that are taken, or that no node of the cluster has yet)
// fails with ErrActorPending after d if the actor still waits then, and
// never runs; the error says why the actor waits. Spawn itself returns at
// once either way, and the runtime logs a warning with the reason when
// the actor starts waiting. A call made once the actor is placed is not
// bounded.
//
// Default 0: calls wait for as long as their ctx allows (on a cluster at
// most a minute, then they fail with ErrActorUnavailable), as Ray lets a
// ray.get on an actor that cannot be scheduled wait. A negative d is an
// ErrInvalidOption at Start, Connect or RunNode.
func WithPendingTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.pendingTimeout = d })
}

// pendingError is the error of a call whose actor waited longer than the
// pending timeout.
func pendingError(id, class string, d time.Duration, reason string) error {
	if reason == "" {
		reason = "it has no node yet"
	}
	return errs.Newf(errs.ErrActorPending, "actor %s (%s) still waits for a node after %v: %s", id, class, d, reason)
}

// watchPending fails c, just submitted to a, with ErrActorPending after
// the system's pending timeout if a is still waiting to be placed then.
func (s *System) watchPending(a *node.Actor, c *node.Call) {
	d := s.pendingTimeout
	if waiting, _ := a.Waiting(); !waiting {
		return
	}
	time.AfterFunc(d, func() {
		if c.Ready() {
			return
		}
		if waiting, reason := a.Waiting(); waiting {
			c.FailQueued(pendingError(a.ID, a.Class.Name, d, reason))
		}
	})
}

// pendingResolver resolves a call carried to another process, unless
// the pending timeout failed it first: then with that error.
type pendingResolver struct {
	c      *node.Call
	failed atomic.Pointer[error]
}

func (r *pendingResolver) Resolve(resp proto.Message, err error) {
	if e := r.failed.Load(); e != nil {
		resp, err = nil, *e
	}
	r.c.Resolve(resp, err)
}

// invokePending carries c to the actor t names, which has no node yet,
// and fails it with ErrActorPending after the pending timeout if the
// head still has no node for it then.
func (p *clusterPlane) invokePending(t *caller.Target, c *node.Call, md map[string]string) {
	d := p.s.pendingTimeout
	r := &pendingResolver{c: c}
	c.Remote = p.client.Invoke(c.Ctx, t, c.Method, c.Req, md, r)
	remote := c.Remote
	if remote == nil {
		return // failed already
	}
	time.AfterFunc(d, func() {
		if c.Ready() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := p.client.Head.GetActor(ctx, connect.NewRequest(&actorv1.GetActorRequest{ActorId: t.ID}))
		if err != nil || res.Msg.GetActor().GetNodeAddress() != "" ||
			res.Msg.GetActor().GetState() != actorv1.ActorState_ACTOR_STATE_PENDING_CREATION {
			return // placed meanwhile, or gone: the call goes on
		}
		e := pendingError(t.ID, t.Class, d, res.Msg.GetActor().GetPendingReason())
		r.failed.Store(&e)
		remote.Cancel()
	})
}
