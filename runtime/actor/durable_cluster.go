package actor

import (
	"context"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/cluster/caller"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// In a cluster, a durable actor is activated on one node at a time: the
// head keeps the table of (class, id) to node. Drivers always call the
// owning node over the transport; a node runs a call itself when it has
// the activation, and otherwise sends it to the node the head names (which
// may be itself). A node activates an actor only when the head confirms it
// owns it, and refuses calls for actors it does not own, so a caller with
// a stale node asks the head again.

// local returns this node's activation of key, or nil.
func (h *durableHost) local(key durableKey) *activation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.acts[key]
}

// submitDurable runs c on this node's activation of ref's actor if it
// has one, and otherwise carries it to the node the head names.
func (p *clusterPlane) submitDurable(ref *DurableRef, c *node.Call) {
	h := p.s.durable
	key := durableKey{ref.class.Name, ref.id}
	for {
		act := h.local(key)
		if act == nil {
			p.callDurable(ref, c)
			return
		}
		if h.enter(act, c) {
			return
		}
	}
}

// reachDurable: a cluster activates a durable actor on a node that
// registered its class, which need not be this one.
func (p *clusterPlane) reachDurable(string) error { return nil }

// target returns the cached target of the durable actor ref names.
func (p *clusterPlane) target(ref *DurableRef) *caller.Target {
	h := p.s.durable
	key := durableKey{ref.class.Name, ref.id}
	h.mu.Lock()
	defer h.mu.Unlock()
	if t, ok := h.remote[key]; ok {
		return t
	}
	if h.remote == nil {
		h.remote = map[durableKey]*caller.Target{}
	}
	nodeID := ""
	if !p.driver {
		nodeID = p.s.node.ID
	}
	t := p.client.DurableTarget(ref.class.Name, ref.id, nodeID, ref.class.Defaults.MaxTaskRetries)
	h.remote[key] = t
	return t
}

// callDurable carries c to the node hosting the actor's activation. The
// init and the call's deduplication key travel in the call's metadata.
func (p *clusterPlane) callDurable(ref *DurableRef, c *node.Call) {
	init, err := proto.Marshal(ref.init)
	if err != nil {
		c.Fail(errs.New(errs.ErrInvalidOption, err))
		return
	}
	s := p.s
	md := map[string]string{cluster.DurableInitKey: cluster.EncodeDurableInit(init)}
	if s.tel.Tracing() {
		for k, v := range s.tel.Inject(c.Ctx) {
			md[k] = v
		}
	}
	if k, ok := callKeyFrom(c.Ctx); ok {
		md[cluster.DurableCallerKey] = k.caller
		md[cluster.DurableSeqKey] = strconv.FormatUint(k.seq, 10)
	}
	c.Remote = p.client.Invoke(c.Ctx, p.target(ref), c.Method, c.Req, md, c)
}

// SubmitDurable runs a durable call that arrived on this node's streams:
// on its activation here, activating the actor once the head confirms this
// node owns it; a call for an actor another node owns fails with the
// not-owner error, and its caller asks the head again. It does not wait
// for the head: calls that come while the actor is being activated queue,
// in order, behind the activation.
func (p *clusterPlane) SubmitDurable(ctx context.Context, class *node.Class, id string, init proto.Message, m *node.Method, req proto.Message, md map[string]string) *node.Call {
	if caller := md[cluster.DurableCallerKey]; caller != "" {
		if seq, err := strconv.ParseUint(md[cluster.DurableSeqKey], 10, 64); err == nil {
			ctx = WithCallKey(ctx, caller, seq)
		}
	}
	c := new(node.Call)
	c.Init(ctx, m, req)
	p.route(&DurableRef{sys: p.s, class: class, id: id, init: init}, c)
	return c
}

// activateTimeout bounds how long the calls that wait for an activation
// wait for the head's answer.
const activateTimeout = 30 * time.Second

// pendingActivation is an activation the head has been asked for: the
// calls that came meanwhile, in order.
type pendingActivation struct {
	calls []*node.Call
}

// route submits c to this node's activation of ref's actor, queues it
// behind the activation under way, or starts one.
func (p *clusterPlane) route(ref *DurableRef, c *node.Call) {
	h := p.s.durable
	key := durableKey{ref.class.Name, ref.id}
	for {
		h.mu.Lock()
		if q := h.activating[key]; q != nil {
			q.calls = append(q.calls, c)
			h.mu.Unlock()
			return
		}
		act := h.acts[key]
		if act == nil {
			q := &pendingActivation{calls: []*node.Call{c}}
			if h.activating == nil {
				h.activating = map[durableKey]*pendingActivation{}
			}
			h.activating[key] = q
			h.mu.Unlock()
			go p.activate(key, ref, q)
			return
		}
		h.mu.Unlock()
		if h.enter(act, c) {
			return
		}
	}
}

// activate asks the head whether this node owns the actor key names,
// activates it here if so, and hands it the calls q holds, in order; they
// fail with the not-owner error otherwise, and their callers ask the head.
func (p *clusterPlane) activate(key durableKey, ref *DurableRef, q *pendingActivation) {
	h := p.s.durable
	ctx, cancel := context.WithTimeout(context.Background(), activateTimeout)
	owner, epoch, err := p.client.ActivateDurable(ctx, key.class, key.id, h.sys.node.ID)
	cancel()
	if err == nil && owner != h.sys.node.ID {
		err = cluster.NotOwnerError(key.class, key.id, h.sys.node.ID)
	}
	var act *activation
	if err == nil {
		act, err = h.activation(key, ref, epoch)
	}
	// The queued calls enter before any call that comes later can: those
	// find the queue until it is gone, and it goes with h.mu held.
	h.mu.Lock()
	calls := q.calls
	entered := false
	if err == nil {
		act.mu.Lock()
		if !act.gone && act.actor.State() != node.Dead {
			act.calls += uint64(len(calls))
			for _, c := range calls {
				act.actor.Submit(c)
			}
			entered = true
		}
		act.mu.Unlock()
	}
	delete(h.activating, key)
	h.mu.Unlock()
	switch {
	case err != nil:
		for _, c := range calls {
			c.Fail(err)
		}
	case !entered:
		// The activation found was a failed one: drop it and start over.
		h.drop(act)
		for _, c := range calls {
			p.route(ref, c)
		}
	}
}

// releaseDurable tells the head that this node's activation ended, so
// that the next call may activate the actor on any node.
func (p *clusterPlane) releaseDurable(act *activation) {
	s := p.s
	if p.driver || act.epoch == 0 {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.client.ReleaseDurable(ctx, act.key.class, act.key.id, s.node.ID, act.epoch); err != nil {
			s.log.Debug("releasing a durable actor failed", "class", act.key.class, "id", act.key.id, "error", err)
		}
	}()
}
