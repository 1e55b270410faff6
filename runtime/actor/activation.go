package actor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/runtime/internal/cluster/caller"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// maxCreateAttempts bounds how often an activation tries to create its
// actor: a creation loses at most once in practice, to the activation
// whose row the next load then finds.
const maxCreateAttempts = 8

// A mutating call that loses a commit race to another activation of its
// actor waits before it runs again: up to commitBackoffMin the first time,
// twice as long each next time up to commitBackoffMax, the wait drawn at
// random below that bound so that racing activations fall out of step.
const (
	commitBackoffMin = time.Millisecond
	commitBackoffMax = 50 * time.Millisecond
)

// durableHost activates this system's durable actors: at most one
// activation per (class, id) in the process, each a node actor whose
// executor keeps mutating calls serial and lets readonly calls share the
// committed state.
type durableHost struct {
	sys *System
	cfg durableConfig

	mu   sync.Mutex
	acts map[durableKey]*activation
	// remote are the targets of durable actors called on other nodes, in
	// cluster mode (durable_cluster.go).
	remote map[durableKey]*caller.Target
	// activating are the activations asked of the head and not yet
	// answered, with the calls waiting for them (durable_cluster.go).
	activating map[durableKey]*pendingActivation
}

type durableKey struct{ class, id string }

// durableClass is a durable class as one system registered it.
type durableClass struct {
	name     string
	impl     any
	newState func() proto.Message
	create   func(ctx context.Context, id string, init proto.Message) (proto.Message, error)
}

func newDurableHost(s *System, cfg durableConfig) *durableHost {
	if cfg.idle <= 0 {
		cfg.idle = DefaultIdleTimeout
	}
	if cfg.records <= 0 {
		cfg.records = DefaultCallRecords
	}
	return &durableHost{sys: s, cfg: cfg, acts: map[durableKey]*activation{}}
}

// openLocked returns the state store. Start refuses a durable class
// without one, so none here is a bug reported as an error.
func (h *durableHost) openLocked() (StateStore, error) {
	if h.cfg.store == nil {
		return nil, errs.Newf(errs.ErrInvalidOption, "durable actors need a state store: WithStateStore")
	}
	return h.cfg.store, nil
}

// close forgets the activations; the store is its opener's to close. The
// node's shutdown has ended the activations by then.
func (h *durableHost) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, act := range h.acts {
		act.timer.Stop()
	}
	clear(h.acts)
	return nil
}

// submit hands c to the actor's activation, activating it if needed, on
// this node or, in a cluster, on the node the head names.
func (h *durableHost) submit(ref *DurableRef, c *node.Call) {
	h.sys.plane.submitDurable(ref, c)
}

// submitLocal hands c to this node's activation of ref's actor, activating
// it here if needed: where every activation is local.
func (h *durableHost) submitLocal(ref *DurableRef, c *node.Call) {
	key := durableKey{ref.class.Name, ref.id}
	for {
		act, err := h.activation(key, ref, 0)
		if err != nil {
			c.Fail(err)
			return
		}
		if h.enter(act, c) {
			return
		}
	}
}

// enter submits c to act, reporting false when act ended and another
// activation must be found.
func (h *durableHost) enter(act *activation, c *node.Call) bool {
	act.mu.Lock()
	if act.gone {
		act.mu.Unlock()
		return false
	}
	if act.actor.State() == node.Dead {
		// Its activation failed (the store was unreachable): the next
		// call tries again with a new one.
		act.mu.Unlock()
		h.drop(act)
		return false
	}
	act.calls++
	act.actor.Submit(c)
	act.mu.Unlock()
	return true
}

// activation returns the actor's activation, creating it if there is none.
// epoch is the head's number of this node's activation, in a cluster.
func (h *durableHost) activation(key durableKey, ref *DurableRef, epoch uint64) (*activation, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if act, ok := h.acts[key]; ok {
		act.epoch = max(act.epoch, epoch)
		return act, nil
	}
	if err := h.sys.checkOpen(); err != nil {
		return nil, err
	}
	store, err := h.openLocked()
	if err != nil {
		return nil, err
	}
	act := &activation{host: h, key: key, store: store, init: ref.init, epoch: epoch}
	spec := ref.class.Defaults.Clone()
	spec.Namespace = h.sys.namespace
	if h.sys.icpt != nil {
		// Interceptors see the durable actor's id, not its activation's.
		spec.Serve = serveFunc(h.sys.icpt.list, key.id)
	}
	ctx := context.WithValue(context.Background(), activationKey{}, act)
	a, err := h.sys.node.NewActor(ctx, newID(12), ref.class, spec, ref.init, h.sys.job, nil)
	if err != nil {
		return nil, err
	}
	act.actor = a
	act.timer = time.AfterFunc(h.cfg.idle, act.checkIdle)
	h.acts[key] = act
	h.sys.node.Place(a)
	return act, nil
}

// drop forgets a failed activation.
func (h *durableHost) drop(act *activation) {
	h.mu.Lock()
	act.mu.Lock()
	act.gone = true
	if h.acts[act.key] == act {
		delete(h.acts, act.key)
	}
	act.mu.Unlock()
	h.mu.Unlock()
	act.timer.Stop()
	h.sys.node.Forget(act.actor)
	h.sys.plane.releaseDurable(act)
}

type activationKey struct{}

// activation is one durable actor made active on this node: the node actor
// running its calls and the committed state they share.
type activation struct {
	host  *durableHost
	key   durableKey
	store StateStore
	init  proto.Message
	epoch uint64        // the head's number of this activation, in a cluster
	cls   *durableClass // set when the node actor is constructed
	actor *node.Actor
	timer *time.Timer

	// snap is the committed state, nil when it must be reloaded. Mutating
	// calls replace it, never change it: readonly calls may keep theirs.
	snap     atomic.Pointer[snapshot]
	reloadMu sync.Mutex

	mu    sync.Mutex
	gone  bool
	calls uint64 // calls submitted, for idleness
	seen  uint64 // calls at the last idleness check
}

type snapshot struct {
	state   proto.Message
	version int64
}

// checkIdle deactivates the actor if no call came since the last check
// and none is queued or running; else it checks again later.
func (act *activation) checkIdle() {
	h := act.host
	h.mu.Lock()
	act.mu.Lock()
	info := act.actor.Info()
	idle := act.calls == act.seen && info.Pending == 0 && info.Running == 0
	if idle || info.State == node.Dead {
		act.gone = true
		if h.acts[act.key] == act {
			delete(h.acts, act.key)
		}
	} else {
		act.seen = act.calls
		act.timer.Reset(h.cfg.idle)
	}
	gone := act.gone
	act.mu.Unlock()
	h.mu.Unlock()
	if gone {
		act.actor.Kill(errs.Cause{Kind: errs.CauseExited, Message: "durable actor deactivated after being idle"}, false, true)
		h.sys.node.Forget(act.actor)
		h.sys.plane.releaseDurable(act)
	}
}

// load reads the actor's state, creating the actor from its init when the
// store does not have it. It runs as the node actor's constructor.
func (act *activation) load(ctx context.Context) error {
	for range maxCreateAttempts {
		snap, err := act.fetch(ctx)
		if err != nil {
			return err
		}
		if snap != nil {
			act.snap.Store(snap)
			return nil
		}
		st, err := act.cls.create(ctx, act.key.id, act.init)
		if err != nil {
			return err
		}
		b, err := marshal(st)
		if err != nil {
			return err
		}
		err = act.store.Commit(context.WithoutCancel(ctx), StateCommit{Class: act.key.class, ID: act.key.id, Expected: 0, State: b})
		if err == nil {
			act.snap.Store(&snapshot{state: st, version: 1})
			return nil
		}
		if !errors.Is(err, ErrStateConflict) {
			return err
		}
		// Created meanwhile by another activation: read it.
	}
	return fmt.Errorf("durable actor %s/%s: creation kept conflicting", act.key.class, act.key.id)
}

// fetch reads the committed state; nil when the store has none.
func (act *activation) fetch(ctx context.Context) (*snapshot, error) {
	b, version, err := act.store.Load(ctx, act.key.class, act.key.id)
	if err != nil || version == 0 {
		return nil, err
	}
	st := act.cls.newState()
	if err := proto.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("durable actor %s/%s: stored state: %w", act.key.class, act.key.id, err)
	}
	return &snapshot{state: st, version: version}, nil
}

// current returns the committed state, reloading it after a failed commit
// left it unknown.
func (act *activation) current(ctx context.Context) (*snapshot, error) {
	if s := act.snap.Load(); s != nil {
		return s, nil
	}
	act.reloadMu.Lock()
	defer act.reloadMu.Unlock()
	if s := act.snap.Load(); s != nil {
		return s, nil
	}
	s, err := act.fetch(ctx)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("durable actor %s/%s: state vanished from the store", act.key.class, act.key.id)
	}
	act.snap.Store(s)
	return s, nil
}

// read runs a readonly method on the committed state.
func (act *activation) read(ctx context.Context, procedure string, run func(proto.Message) (proto.Message, error)) (proto.Message, error) {
	s, err := act.current(ctx)
	if err != nil {
		return nil, errs.FromContext(err)
	}
	return act.protect(procedure, run, s.state)
}

// mutate runs a mutating method on a copy of the committed state and
// commits the copy with the result, or returns the recorded result of a
// call with the same key. A commit that loses to another activation of
// the actor (another system on the same store) runs the call again on the
// state that won, after a random backoff, for as long as ctx lasts: a
// contended call is not failed while its caller waits, and one that fails
// because ctx ended committed nothing.
func (act *activation) mutate(ctx context.Context, procedure string, run func(proto.Message) (proto.Message, error), newRes func() proto.Message) (proto.Message, error) {
	key, keyed := callKeyFrom(ctx)
	for lost := 0; ; lost++ {
		if lost > 0 {
			if err := commitBackoff(ctx, lost); err != nil {
				return nil, errs.FromContext(fmt.Errorf("%s: durable actor %s/%s: gave up after losing %d commits to another activation: %w", procedure, act.key.class, act.key.id, lost, err))
			}
		}
		if keyed {
			b, ok, err := act.store.LookupResult(ctx, act.key.class, act.key.id, key.caller, key.seq)
			if err != nil {
				return nil, errs.FromContext(err)
			}
			if ok {
				res := newRes()
				if err := proto.Unmarshal(b, res); err != nil {
					return nil, fmt.Errorf("%s: recorded result: %w", procedure, err)
				}
				return res, nil
			}
		}
		s, err := act.current(ctx)
		if err != nil {
			return nil, errs.FromContext(err)
		}
		next := proto.Clone(s.state)
		res, err := act.protect(procedure, run, next)
		if err != nil {
			return nil, err // next is dropped: the state is as it was
		}
		c := StateCommit{Class: act.key.class, ID: act.key.id, Expected: s.version, Keep: act.host.cfg.records}
		if c.State, err = marshal(next); err != nil {
			return nil, err
		}
		if keyed {
			c.Caller, c.Seq = key.caller, key.seq
			if c.Result, err = marshal(res); err != nil {
				return nil, err
			}
		}
		// A commit is not abandoned halfway because the caller gave up:
		// its outcome would be unknown.
		err = act.store.Commit(context.WithoutCancel(ctx), c)
		if err == nil {
			act.snap.Store(&snapshot{state: next, version: s.version + 1})
			return res, nil
		}
		// Whatever happened, read the state again before the next call.
		act.snap.Store(nil)
		if !errors.Is(err, ErrStateConflict) {
			return nil, err
		}
		// Another activation committed first: run again on its state.
	}
}

// commitBackoff waits before a call runs again after its lost-th lost
// commit, or until ctx ends, returning ctx's error then.
func commitBackoff(ctx context.Context, lost int) error {
	bound := commitBackoffMax
	if lost <= 16 {
		bound = min(commitBackoffMin<<(lost-1), commitBackoffMax)
	}
	t := time.NewTimer(1 + rand.N(bound))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// protect runs a method, turning a panic into the call's error: a durable
// actor does not die of a panic, and its state is left as it was.
func (act *activation) protect(procedure string, run func(proto.Message) (proto.Message, error), st proto.Message) (res proto.Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			act.host.sys.log.Error("durable actor method panicked", "class", act.key.class, "id", act.key.id,
				"method", procedure, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			res, err = nil, connect.NewError(connect.CodeInternal, fmt.Errorf("%s panicked: %v", procedure, r))
		}
	}()
	return run(st)
}

func marshal(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}
