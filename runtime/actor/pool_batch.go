package actor

import (
	"context"
	"errors"
	"iter"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// A Batch submits calls of one function to a pool one by one, as Ray's
// ActorPool.submit, and returns their results in submission order (Next,
// Ray's get_next) or in the order they came in (NextUnordered, Ray's
// get_next_unordered). It is safe for use by many goroutines.
type Batch[H Handle, V any, R proto.Message] struct {
	p  *Pool[H]
	fn func(context.Context, H, V) *Future[R]
	s  batchState[H]
}

// batchState is what a batch or a Map keeps of its calls, guarded by its
// pool's lock.
type batchState[H Handle] struct {
	// closed: nobody will take the results; calls whose actor died are
	// not resubmitted.
	closed   bool
	open     int            // calls submitted whose result was not taken
	order    []*poolItem[H] // results not taken, in submission order
	finished []*poolItem[H] // results in and not taken, first in first
}

// add records a call submitted.
func (s *batchState[H]) add(it *poolItem[H]) {
	s.order = append(s.order, it)
	s.open++
}

// take marks it's result returned.
func (s *batchState[H]) take(it *poolItem[H]) {
	it.taken = true
	s.open--
	s.trim()
}

// trim drops the results taken from the heads of both queues.
func (s *batchState[H]) trim() {
	for len(s.order) > 0 && s.order[0].taken {
		s.order = s.order[1:]
	}
	for len(s.finished) > 0 && s.finished[0].taken {
		s.finished = s.finished[1:]
	}
}

// NewBatch returns a batch whose calls run fn on an actor of p. fn makes
// one call, usually a method of the generated handle:
//
//	func(ctx context.Context, w *workerv1actor.WorkerHandle, n int64) *actor.Future[*workerv1.SquareResponse] {
//		return w.Square(ctx, &workerv1.SquareRequest{N: n})
//	}
//
// fn may be called more than once for one value, on another actor, if
// the first died. A nil p or fn fails with ErrInvalidOption.
func NewBatch[H Handle, V any, R proto.Message](p *Pool[H], fn func(context.Context, H, V) *Future[R]) (*Batch[H, V, R], error) {
	if p == nil || fn == nil {
		return nil, errs.Newf(errs.ErrInvalidOption, "NewBatch: nil pool or function")
	}
	return &Batch[H, V, R]{p: p, fn: fn}, nil
}

// Submit waits until an actor of the pool is idle, bounded by ctx, and
// calls fn(ctx, actor, v) on it; the call runs with ctx. Calls whose actor
// died are resubmitted before new ones. It fails with ctx's error if ctx
// ends first (nothing was submitted), and with ErrPoolEmpty when the pool
// has no actors.
func (b *Batch[H, V, R]) Submit(ctx context.Context, v V) error {
	if ctx == nil {
		return errs.Newf(errs.ErrInvalidOption, "Batch.Submit: nil context")
	}
	p := b.p
	it := &poolItem[H]{b: &b.s, send: b.sender(ctx, v)}
	if err := p.await(ctx, func() bool { return p.canSubmit() || len(p.members) == 0 }); err != nil {
		return err
	}
	if len(p.members) == 0 {
		err := p.emptyError()
		p.mu.Unlock()
		return err
	}
	p.reserve(it)
	b.s.add(it)
	p.mu.Unlock()
	p.start([]*poolItem[H]{it})
	return nil
}

// sender makes the call of fn for v on an actor, with ctx.
func (b *Batch[H, V, R]) sender(ctx context.Context, v V) func(H) *node.Call {
	return func(h H) *node.Call {
		if f := b.fn(ctx, h, v); f != nil {
			return &f.call
		}
		return nil
	}
}

// canSubmit reports whether a new call would start at once. The caller
// holds p.mu.
func (p *Pool[H]) canSubmit() bool { return len(p.idle) > 0 && len(p.retry) == 0 }

// HasNext reports whether a submitted call's result was not returned yet.
func (b *Batch[H, V, R]) HasNext() bool {
	b.p.lock()
	defer b.p.mu.Unlock()
	return b.s.open > 0
}

// errNoPending is the error of Next with no call submitted.
func errNoPending(f string) error {
	return connect.NewError(connect.CodeFailedPrecondition, errors.New(f+": no call is pending"))
}

// Next waits for the result of the earliest submitted call whose result
// was not returned yet, and returns it. If ctx ends first it returns
// ctx's error and the result stays for a later Next. With no call pending
// it fails with code failed_precondition.
func (b *Batch[H, V, R]) Next(ctx context.Context) (R, error) {
	return b.next(ctx, "Batch.Next", func() *poolItem[H] {
		if it := b.s.order[0]; it.done {
			return it
		}
		return nil
	})
}

// NextUnordered is Next for the result that came in first, whichever
// call it belongs to.
func (b *Batch[H, V, R]) NextUnordered(ctx context.Context) (R, error) {
	return b.next(ctx, "Batch.NextUnordered", func() *poolItem[H] {
		if len(b.s.finished) > 0 {
			return b.s.finished[0]
		}
		return nil
	})
}

func (b *Batch[H, V, R]) next(ctx context.Context, name string, pick func() *poolItem[H]) (R, error) {
	var zero R
	if ctx == nil {
		return zero, errs.Newf(errs.ErrInvalidOption, "%s: nil context", name)
	}
	var it *poolItem[H]
	err := b.p.await(ctx, func() bool {
		b.s.trim()
		if b.s.open == 0 {
			return true
		}
		it = pick()
		return it != nil
	})
	if err != nil {
		return zero, err
	}
	if it == nil {
		b.p.mu.Unlock()
		return zero, errNoPending(name)
	}
	b.s.take(it)
	b.p.mu.Unlock()
	return resultOf[R](it)
}

// resultOf is it's result as the caller's type.
func resultOf[R proto.Message, H Handle](it *poolItem[H]) (R, error) {
	var zero R
	if it.err != nil {
		return zero, it.err
	}
	r, ok := it.resp.(R)
	if !ok {
		return zero, errs.Newf(errs.ErrWrongClass, "actor pool: result %T is not a %T", it.resp, zero)
	}
	return r, nil
}

// Map calls fn for each of values on the pool's actors, at most one call
// per actor at a time, and returns the results in the order of values:
// Ray's ActorPool.map. Each element is one value's response or error;
// an error of one call does not stop the others. Results that come in
// ahead of an earlier one wait for it, and so do new calls once twice as
// many results as the pool has actors wait: memory stays bounded. The
// calls run with a ctx derived from ctx: when ctx ends the sequence ends
// with ctx's error, and when the loop stops early, the calls in flight
// are cancelled. Map starts no goroutine.
func Map[H Handle, V any, R proto.Message](ctx context.Context, p *Pool[H], fn func(context.Context, H, V) *Future[R], values []V) iter.Seq2[R, error] {
	return mapPool(ctx, p, fn, values, true)
}

// MapUnordered is Map that returns each result as soon as it comes in:
// Ray's ActorPool.map_unordered.
func MapUnordered[H Handle, V any, R proto.Message](ctx context.Context, p *Pool[H], fn func(context.Context, H, V) *Future[R], values []V) iter.Seq2[R, error] {
	return mapPool(ctx, p, fn, values, false)
}

func mapPool[H Handle, V any, R proto.Message](ctx context.Context, p *Pool[H], fn func(context.Context, H, V) *Future[R], values []V, ordered bool) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) {
		var zero R
		if ctx == nil {
			yield(zero, errs.Newf(errs.ErrInvalidOption, "actor pool: Map with a nil context"))
			return
		}
		b, err := NewBatch(p, fn)
		if err != nil {
			yield(zero, err)
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer func() {
			cancel()
			p.lock()
			b.s.closed = true
			p.mu.Unlock()
		}()
		next := 0 // the next value to submit
		for {
			if err := ctx.Err(); err != nil {
				yield(zero, errs.FromContext(err))
				return
			}
			var it *poolItem[H]
			submit, empty := false, false
			err := p.await(ctx, func() bool {
				b.s.trim()
				submit = next < len(values) && p.canSubmit() && b.s.open < 2*len(p.members)
				if submit || b.s.open == 0 && next == len(values) {
					return true
				}
				if ordered && len(b.s.order) > 0 && b.s.order[0].done {
					it = b.s.order[0]
				} else if !ordered && len(b.s.finished) > 0 {
					it = b.s.finished[0]
				}
				// With no actors, calls in flight are none: the
				// results in are returned, then the values left fail.
				empty = it == nil && len(p.members) == 0
				return it != nil || empty
			})
			if err != nil {
				yield(zero, err)
				return
			}
			switch {
			case submit:
				v := values[next]
				next++
				item := &poolItem[H]{b: &b.s, send: b.sender(ctx, v)}
				p.reserve(item)
				b.s.add(item)
				p.mu.Unlock()
				p.start([]*poolItem[H]{item})
				continue
			case it != nil:
				b.s.take(it)
				p.mu.Unlock()
				if !yield(resultOf[R](it)) {
					return
				}
			case empty:
				next++
				err := p.emptyError()
				p.mu.Unlock()
				if !yield(zero, err) {
					return
				}
			default: // every value's result was returned
				p.mu.Unlock()
				return
			}
		}
	}
}
