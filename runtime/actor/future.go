package actor

import (
	"context"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
)

// Future is the result of a call, ready later. Get may be called many times
// and from many goroutines; every call sees the same result.
type Future[T proto.Message] struct {
	call node.Call
}

// Call calls method m of the actor ref names and returns the future of its
// result at once. It is called by generated handles (h.Increment).
func Call[Req, Res proto.Message](ctx context.Context, ref *Ref, m *Method[Req, Res], req Req) *Future[Res] {
	if ref != nil && ctx != nil && ref.sys.icpt != nil {
		f := new(Future[Res])
		intercept(ctx, ref.sys, ref.ID(), ref.Class(), m, req, f, func(ctx context.Context, req Req) *Future[Res] {
			return call(ctx, ref, m, req)
		})
		return f
	}
	return call(ctx, ref, m, req)
}

// call is Call without the caller's interceptors.
func call[Req, Res proto.Message](ctx context.Context, ref *Ref, m *Method[Req, Res], req Req) *Future[Res] {
	f := new(Future[Res])
	if ref != nil && ctx != nil {
		if tel := ref.sys.tel; tel.Tracing() {
			target := ref.traceTarget()
			ctx, f.call.Span = tel.StartClient(ctx, m.m.Procedure, &target)
		}
	}
	f.call.Init(ctx, m.m, req)
	switch {
	case ref == nil:
		f.call.Fail(errs.Newf(errs.ErrActorNotFound, "%s: nil actor handle", m.m.Procedure))
	case ctx == nil:
		f.call.Fail(errs.Newf(errs.ErrInvalidOption, "%s: nil context", m.m.Procedure))
	case ref.a == nil:
		if !strings.HasPrefix(m.m.Procedure, "/"+ref.r.Class+"/") {
			f.call.Fail(errs.Newf(errs.ErrWrongClass, "%s is not a method of %s", m.m.Procedure, ref.r.Class))
			break
		}
		if isNil(req) {
			f.call.Req = newMessage[Req]()
		}
		ref.sys.plane.invoke(ref.r, &f.call)
	case ref.a.Class != nil && ref.a.Class.Name != "" && !ref.a.Class.Has(m.m):
		f.call.Fail(errs.Newf(errs.ErrWrongClass, "%s is not a method of %s", m.m.Procedure, ref.a.Class.Name))
	default:
		if isNil(req) {
			f.call.Req = newMessage[Req]()
		}
		ref.a.Submit(&f.call)
		if ref.sys.pendingTimeout > 0 {
			ref.sys.watchPending(ref.a, &f.call)
		}
	}
	return f
}

// telemetry describes the actor r names for the spans of calls to it.
func (r *Ref) telemetry() *telemetry.Actor {
	t := r.traceTarget()
	return &t
}

// traceTarget describes the actor r names for the spans of calls to it,
// as a value: a call describes its target without allocating.
func (r *Ref) traceTarget() telemetry.Actor {
	if r.a == nil {
		return telemetry.Actor{ID: r.r.ID, Class: r.r.Class, Name: r.r.Name, Node: r.r.Node()}
	}
	return actorTarget(r.a)
}

// actorTelemetry describes actor a for the spans of calls to it.
func actorTelemetry(a *node.Actor) *telemetry.Actor {
	t := actorTarget(a)
	return &t
}

// actorTarget describes actor a for the spans of calls to it, as a value.
func actorTarget(a *node.Actor) telemetry.Actor {
	return telemetry.Actor{ID: a.ID, Class: a.Class.Name, Name: a.Spec.Name, Job: a.Job, Node: a.Node().ID}
}

// Get waits for the result. If ctx ends first it returns ctx's error (as a
// *connect.Error with code canceled or deadline_exceeded); the call goes
// on. Inside an actor method, waiting on a call that can only start after
// this method returns fails with ErrDeadlock instead of hanging.
func (f *Future[T]) Get(ctx context.Context) (T, error) {
	var zero T
	if err := f.call.Wait(ctx); err != nil {
		return zero, err
	}
	resp, err := f.call.Result()
	if err != nil {
		return zero, err
	}
	return resp.(T), nil
}

// Done is closed when the result is ready.
func (f *Future[T]) Done() <-chan struct{} { return f.call.Done() }

// ready reports whether the result is in, without making Done's channel.
func (f *Future[T]) ready() bool { return f.call.Ready() }

// watch sends once on ch when the result is in, or reports false if it is
// in already.
func (f *Future[T]) watch(ch chan<- struct{}) bool { return f.call.Watch(ch) }

// Cancel does what cancelling the call's ctx does: a call that has not
// started leaves the queue (Get then fails with code canceled), a running
// call's method sees its ctx end, on this node or another. A cancelled
// call is never retried. Cancel does nothing once the result is in.
func (f *Future[T]) Cancel() { f.call.Cancel() }

// Waitable is anything Wait can wait on: every *Future.
type Waitable interface {
	Done() <-chan struct{}
}

// Wait returns when n of futs are ready or ctx ends. ready holds at most n
// ready futures and notReady the rest, each in input order. If ctx ends
// first, Wait returns the futures ready by then and ctx's error. Waiting
// for some of many futures of this package costs no goroutine per future.
func Wait[F Waitable](ctx context.Context, futs []F, n int) (ready, notReady []F, err error) {
	n = max(0, min(n, len(futs)))
	if n == len(futs) {
		// Waiting for all: wait for each in turn, no watchers needed.
		for _, f := range futs {
			select {
			case <-f.Done():
				continue
			case <-ctx.Done():
				err = ctx.Err()
			}
			break
		}
	} else {
		err = waitAny(ctx, futs, n)
	}
	for _, f := range futs {
		if len(ready) < n && isDone(f) {
			ready = append(ready, f)
		} else {
			notReady = append(notReady, f)
		}
	}
	return ready, notReady, err
}

// waitAny waits until n of futs are done. Each future is either counted
// as done or watched, in one pass, so none that finishes meanwhile is
// missed. Futures of this package are watched without a goroutine each;
// other Waitables with one.
func waitAny[F Waitable](ctx context.Context, futs []F, n int) error {
	count := 0
	// Room for one send per future: a watcher's send never blocks, and
	// those that come after Wait returned are dropped with ch.
	ch := make(chan struct{}, len(futs))
	var stop chan struct{}
	defer func() {
		if stop != nil {
			close(stop)
		}
	}()
	for _, f := range futs {
		if count >= n {
			return nil
		}
		if w, ok := any(f).(interface{ watch(chan<- struct{}) bool }); ok {
			if !w.watch(ch) {
				count++
			}
			continue
		}
		if isDone(f) {
			count++
			continue
		}
		if stop == nil {
			stop = make(chan struct{})
		}
		go func() {
			select {
			case <-f.Done():
				ch <- struct{}{}
			case <-stop:
			}
		}()
	}
	for count < n {
		select {
		case <-ch:
			count++
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func isDone(w Waitable) bool {
	if r, ok := w.(interface{ ready() bool }); ok {
		return r.ready() // without making its Done channel
	}
	select {
	case <-w.Done():
		return true
	default:
		return false
	}
}
