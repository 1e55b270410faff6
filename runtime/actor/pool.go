package actor

import (
	"context"
	"errors"
	"slices"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// ErrPoolEmpty: the pool has no actor left to call, because every actor
// died or was popped. Code unavailable. When the last actor died, the
// error also matches ErrActorDied and holds its *ActorDiedError.
var ErrPoolEmpty = errors.New("actor pool has no actors")

// DefaultPoolRetries is how often a pool resubmits a call whose actor
// died, unless SetRetries says otherwise: 3, as Ray's max_retries.
const DefaultPoolRetries = 3

// A Pool shares calls among a fixed set of actors, as Ray's ActorPool: a
// call goes only to an idle actor, so each actor has at most one call of
// the pool in flight, and callers wait (bounded by their ctx) while every
// actor is busy. Map and MapUnordered run a function over many values;
// a Batch submits calls one by one and returns their results in order or
// as they finish.
//
// When a call fails with an actor-died error (errors.Is ErrActorDied),
// that actor leaves the pool, even if it is later restarted (Push it back
// to use it again), and the call is resubmitted to another actor, at most
// DefaultPoolRetries times (see SetRetries). Every other error, an
// application's or the runtime's, is returned with its call and never
// retried. With no actor left, calls fail with ErrPoolEmpty.
//
// A Pool is safe for use by many goroutines. It starts no goroutine: the
// goroutines that wait on it (in Map, Submit, Next) collect finished calls
// and give their actors the waiting calls.
type Pool[H Handle] struct {
	mu      sync.Mutex
	members map[string]bool // the actors' ids, idle or busy
	idle    []*poolActor[H] // idle actors, longest idle first
	flight  []*poolItem[H]  // calls in flight
	retry   []*poolItem[H]  // calls whose actor died, waiting for another
	retries int
	died    error         // the last actor-died error, for ErrPoolEmpty
	changed chan struct{} // closed when an actor or a result became free
	// wake gets a send when a call in flight finishes. One slot is enough:
	// whoever receives it collects every finished call.
	wake chan struct{}
}

// poolActor is one actor of a pool.
type poolActor[H Handle] struct {
	h  H
	id string
}

// poolItem is one call of a pool: a value sent to one actor after
// another until it has a result.
type poolItem[H Handle] struct {
	b       *batchState[H]
	send    func(H) *node.Call // makes the call to an actor
	actor   *poolActor[H]      // the actor it is in flight on
	call    *node.Call         // the call in flight
	retried int                // resubmissions so far
	resp    proto.Message      // the result, once done
	err     error              //
	done    bool               // the result is in
	taken   bool               // the result was returned
}

// NewPool returns a pool of the actors hs name, all idle. It fails with
// ErrInvalidOption for no actors, a nil handle or an actor named twice.
func NewPool[H Handle](hs ...H) (*Pool[H], error) {
	if len(hs) == 0 {
		return nil, errs.Newf(errs.ErrInvalidOption, "NewPool: no actors")
	}
	p := new(Pool[H])
	p.lock()
	defer p.mu.Unlock()
	for i, h := range hs {
		if err := p.add(h); err != nil {
			return nil, errs.Newf(errs.ErrInvalidOption, "NewPool: actor %d: %v", i, err)
		}
	}
	return p, nil
}

// lock locks p, making its channels on first use: a Pool not made by
// NewPool is an empty pool, not a panic.
func (p *Pool[H]) lock() {
	p.mu.Lock()
	if p.wake == nil {
		p.members = map[string]bool{}
		p.retries = DefaultPoolRetries
		p.changed = make(chan struct{})
		p.wake = make(chan struct{}, 1)
	}
}

// add adds h as an idle actor. The caller holds p.mu.
func (p *Pool[H]) add(h H) error {
	ref := refOf(h)
	if ref == nil {
		return errors.New("nil actor handle")
	}
	id := ref.ID()
	if p.members[id] {
		return errors.New("actor " + id + " is in the pool already")
	}
	p.members[id] = true
	p.idle = append(p.idle, &poolActor[H]{h: h, id: id})
	return nil
}

// refOf is h's reference, or nil for a nil handle of any kind.
func refOf[H Handle](h H) (ref *Ref) {
	if any(h) == nil {
		return nil
	}
	defer func() {
		if recover() != nil { // a nil handle whose Ref does not allow it
			ref = nil
		}
	}()
	return h.Ref()
}

// SetRetries sets how often a call whose actor died is resubmitted to
// another actor: 0 never, DefaultPoolRetries unless set. A call is also
// never resubmitted when no actor is left. n < 0 fails with
// ErrInvalidOption.
func (p *Pool[H]) SetRetries(n int) error {
	if n < 0 {
		return errs.Newf(errs.ErrInvalidOption, "Pool.SetRetries: %d < 0", n)
	}
	p.lock()
	defer p.mu.Unlock()
	p.retries = n
	return nil
}

// Len returns how many actors the pool has, idle or busy. Actors that
// died or were popped are not counted.
func (p *Pool[H]) Len() int {
	p.step()
	p.lock()
	defer p.mu.Unlock()
	return len(p.members)
}

// HasFree reports whether an actor is idle and no resubmitted call waits
// for it: whether a call submitted now would start at once.
func (p *Pool[H]) HasFree() bool {
	p.step()
	p.lock()
	defer p.mu.Unlock()
	return len(p.idle) > 0 && len(p.retry) == 0
}

// Push adds the actor h names to the pool, idle. It fails with
// ErrInvalidOption for a nil handle or an actor in the pool already.
func (p *Pool[H]) Push(h H) error {
	p.lock()
	err := p.add(h)
	if err == nil {
		p.signal()
	}
	p.mu.Unlock()
	if err != nil {
		return errs.Newf(errs.ErrInvalidOption, "Pool.Push: %v", err)
	}
	p.step()
	return nil
}

// Pop removes an idle actor from the pool and returns it, or reports
// false if no actor is idle. The pool no longer calls it.
func (p *Pool[H]) Pop() (H, bool) {
	p.step()
	p.lock()
	defer p.mu.Unlock()
	if len(p.idle) == 0 {
		var zero H
		return zero, false
	}
	a := p.idle[len(p.idle)-1]
	p.idle = p.idle[:len(p.idle)-1]
	delete(p.members, a.id)
	return a.h, true
}

// signal wakes every goroutine waiting on the pool. The caller holds p.mu.
func (p *Pool[H]) signal() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// step collects finished calls and starts the resubmitted ones that have
// an actor now.
func (p *Pool[H]) step() {
	p.lock()
	sends := p.collect()
	p.mu.Unlock()
	p.start(sends)
}

// collect takes in the calls that finished: an actor whose call died
// leaves the pool and the call waits for another; every other actor is
// idle again and the call's result goes to its batch. It then pairs
// waiting resubmissions with idle actors and returns them, to be sent
// without the lock. The caller holds p.mu.
func (p *Pool[H]) collect() []*poolItem[H] {
	changed := false
	p.flight = slices.DeleteFunc(p.flight, func(it *poolItem[H]) bool {
		if !it.call.Ready() {
			return false
		}
		resp, err := it.call.Result()
		a := it.actor
		it.actor, it.call = nil, nil
		changed = true
		if errors.Is(err, ErrActorDied) {
			delete(p.members, a.id)
			p.died = err
			if !it.b.closed && it.retried < p.retries {
				it.retried++
				p.retry = append(p.retry, it)
				return true
			}
		} else {
			p.idle = append(p.idle, a)
		}
		p.finish(it, resp, err)
		return true
	})
	// Closed batches' calls are not resubmitted.
	p.retry = slices.DeleteFunc(p.retry, func(it *poolItem[H]) bool { return it.b.closed })
	if len(p.members) == 0 {
		for _, it := range p.retry {
			p.finish(it, nil, p.emptyError())
			changed = true
		}
		p.retry = nil
	}
	var sends []*poolItem[H]
	for len(p.retry) > 0 && len(p.idle) > 0 {
		it := p.retry[0]
		p.retry = p.retry[1:]
		p.reserve(it)
		sends = append(sends, it)
	}
	if changed {
		p.signal()
	}
	return sends
}

// reserve gives it the longest idle actor. The caller holds p.mu and
// checked there is one.
func (p *Pool[H]) reserve(it *poolItem[H]) {
	it.actor = p.idle[0]
	p.idle = p.idle[1:]
}

// finish records it's result for its batch. The caller holds p.mu.
func (p *Pool[H]) finish(it *poolItem[H], resp proto.Message, err error) {
	it.resp, it.err, it.done = resp, err, true
	if !it.b.closed {
		it.b.finished = append(it.b.finished, it)
	}
}

// start sends each item to its reserved actor and puts the calls in
// flight.
func (p *Pool[H]) start(sends []*poolItem[H]) {
	for _, it := range sends {
		call := it.send(it.actor.h)
		p.lock()
		if call == nil {
			p.idle = append(p.idle, it.actor)
			it.actor = nil
			p.finish(it, nil, errs.Newf(errs.ErrInvalidOption, "actor pool: the function returned a nil future"))
			p.signal()
		} else {
			it.call = call
			p.flight = append(p.flight, it)
			if !call.Watch(p.wake) {
				// Finished already: make sure a waiter looks.
				select {
				case p.wake <- struct{}{}:
				default:
				}
			}
		}
		p.mu.Unlock()
	}
}

// emptyError is the error of a call with no actor left to run it. The
// caller holds p.mu.
func (p *Pool[H]) emptyError() error {
	return connect.NewError(connect.CodeUnavailable, &poolEmptyError{died: p.died})
}

type poolEmptyError struct{ died error }

func (e *poolEmptyError) Error() string {
	if e.died == nil {
		return "actor pool has no actors"
	}
	return "actor pool has no actors: every actor died; the last: " + e.died.Error()
}

func (e *poolEmptyError) Is(target error) bool { return target == ErrPoolEmpty }
func (e *poolEmptyError) Unwrap() error        { return e.died }

// await collects finished calls and starts resubmissions until ready,
// run with p.mu held, reports true, or ctx ends. It returns nil with p.mu
// held, or ctx's error without it.
func (p *Pool[H]) await(ctx context.Context, ready func() bool) error {
	for {
		p.lock()
		if sends := p.collect(); len(sends) > 0 {
			p.mu.Unlock()
			p.start(sends)
			continue
		}
		if ready() {
			return nil
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-p.wake:
		case <-changed:
		case <-ctx.Done():
			return errs.FromContext(ctx.Err())
		}
	}
}
