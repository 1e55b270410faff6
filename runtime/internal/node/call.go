package node

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
)

// The states of a call. A call is queued, then running, then done; death
// of its actor may put a running call back to queued for a retry.
const (
	callQueued int32 = iota
	callRunning
	callDone
)

// Call is one method invocation on its way through an actor's mailbox. The
// public Future embeds it, so a call costs one allocation plus its channel.
type Call struct {
	Method *Method
	Req    proto.Message
	// Ctx is the caller's context: its cancellation and deadline reach the
	// method; its values (trace context, the calling actor) travel with it.
	Ctx context.Context
	// Span is the caller's client span, ended when the call completes;
	// nil when it does not record.
	Span trace.Span
	// Remote, for a call carried to another process, cancels it there;
	// Cancel calls it.
	Remote interface{ Cancel() }

	resp proto.Message
	err  error
	// fin counts 1 from Init until the result is set: a waiter with no ctx
	// to watch parks on it, which costs no channel (and, unlike a mutex,
	// neither spins nor reads the clock).
	fin    sync.WaitGroup
	ext    atomic.Pointer[callWatch] // Done's channel and watchers, made on first use
	notify Notifier                  // nil unless InitNotify
	flags  atomic.Uint32             // flagAborted, flagResult, ...

	state   atomic.Int32
	seq     uint64 // arrival order at the target actor
	retries int    // retries left; -1 is without limit
	target  *Actor
	// queuedAt is when the call reached its actor (see stamp); zero unless
	// its span records or metrics are on.
	queuedAt int64

	// The watch on Ctx while queued: a hook linked into Ctx when Ctx is
	// a node's own context (a calling actor's), else what stops a
	// context.AfterFunc.
	watchHook *afterFunc
	stopWatch func() bool
	first     attempt  // the first attempt, allocated with the call
	cur       *attempt // the current attempt; guarded by the actor

	// waitingOn is the call this call's method is blocked on, for
	// deadlock detection.
	waitingOn atomic.Pointer[Call]
}

// epoch is the origin of call timestamps: a time with a monotonic reading,
// so that a timestamp costs 8 bytes and keeps that reading.
var epoch = time.Now()

// stamp returns the current time as a call timestamp: never 0.
func stamp() int64 { return max(int64(time.Since(epoch)), 1) }

// queued returns when the call reached its actor, or the zero time.
func (c *Call) queued() time.Time {
	if c.queuedAt == 0 {
		return time.Time{}
	}
	return epoch.Add(time.Duration(c.queuedAt))
}

// The bits of Call.flags.
const (
	flagAborted = 1 << iota // see Abort
	flagResult              // the result is set
	flagNotify              // made with InitNotify: fin is not counted
)

// Init prepares a call. It must be called once before the call is submitted.
func (c *Call) Init(ctx context.Context, m *Method, req proto.Message) {
	c.Method, c.Req, c.Ctx = m, req, ctx
	c.fin.Add(1)
}

// Notifier is told when a call made with InitNotify completes.
type Notifier interface {
	// CallDone runs exactly once, whichever way the call completed: the
	// method returned, the call failed or was cancelled, its actor died, or
	// it was resolved from another process. It runs after the result is
	// set, on the goroutine that completed the call and with no actor lock
	// held; it must not block.
	CallDone(*Call)
}

// InitNotify is Init for a call whose completion n is told of.
func (c *Call) InitNotify(ctx context.Context, m *Method, req proto.Message, n Notifier) {
	c.Method, c.Req, c.Ctx, c.notify = m, req, ctx, n
	c.flags.Store(flagNotify)
}

// callWatch is what watching a call needs beyond a plain wait: Done's
// channel and the channels of Watch. A call gets one the first time it is
// watched.
type callWatch struct {
	mu       sync.Mutex
	fired    bool          // the result is set and the watchers were told
	done     chan struct{} // Done's; nil until asked for
	watchers []chan<- struct{}
}

// watch returns the call's callWatch, making it if need be.
//
// wake sets flagResult before it looks for the callWatch, and a new
// callWatch is installed before its maker looks at flagResult; atomics are
// sequentially consistent, so wake fires it or its maker sees the flag.
func (c *Call) watch() *callWatch {
	if w := c.ext.Load(); w != nil {
		return w
	}
	w := new(callWatch)
	if !c.ext.CompareAndSwap(nil, w) {
		return c.ext.Load()
	}
	return w
}

// fire tells the watchers once that the result is set.
func (w *callWatch) fire() {
	w.mu.Lock()
	if w.fired {
		w.mu.Unlock()
		return
	}
	w.fired = true
	if w.done != nil {
		close(w.done)
	}
	watchers := w.watchers
	w.watchers = nil
	w.mu.Unlock()
	for _, ch := range watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Done returns a channel closed when the call's result is ready. The
// channel is made on the first Done: a call that is only waited for with
// Wait needs none.
func (c *Call) Done() <-chan struct{} {
	w := c.watch()
	if c.Ready() {
		w.fire()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done == nil {
		if w.fired {
			return closedChan
		}
		w.done = make(chan struct{})
	}
	return w.done
}

// Watch arranges for one send on ch once the call's result is set, and
// reports true; if the result is set already it reports false and sends
// nothing. The send does not block: ch needs room for it. Watch lets one
// goroutine wait for any of many calls without a goroutine per call.
func (c *Call) Watch(ch chan<- struct{}) bool {
	w := c.watch()
	if c.Ready() {
		w.fire()
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fired {
		return false
	}
	w.watchers = append(w.watchers, ch)
	return true
}

// Ready reports whether the call's result is set.
func (c *Call) Ready() bool { return c.flags.Load()&flagResult != 0 }

// Result returns the response and error; valid once the call is done.
func (c *Call) Result() (proto.Message, error) { return c.resp, c.err }

// Fail completes a call that never reached an actor.
func (c *Call) Fail(err error) {
	c.state.Store(callDone)
	c.err = err
	c.observe()
	c.wake()
}

// Resolve completes a call that was carried to another process instead of
// being submitted here, with the result that came back.
func (c *Call) Resolve(resp proto.Message, err error) {
	c.state.Store(callDone)
	c.resp, c.err = resp, err
	c.observe()
	c.wake()
}

// complete sets the result and wakes every waiter. The caller must have
// won the transition to done, and must not hold its actor's lock.
func (c *Call) complete(resp proto.Message, err error) {
	c.resp, c.err = resp, err
	c.observe()
	c.wake()
}

// wake publishes the result to the waiters, closes Done's channel if it
// was made, and tells the Notifier.
func (c *Call) wake() {
	flags := c.flags.Or(flagResult)
	if w := c.ext.Load(); w != nil {
		w.fire()
	}
	if flags&flagNotify != 0 {
		n := c.notify
		c.notify = nil
		n.CallDone(c)
		return
	}
	c.fin.Done()
}

// observe ends the call's client span and counts the call, before any
// waiter can see the result.
func (c *Call) observe() {
	if c.Span == nil && c.queuedAt == 0 {
		return
	}
	var tel *telemetry.Telemetry
	var class string
	if a := c.target; a != nil {
		tel, class = a.node.Tel, a.Class.Name
	}
	tel.EndCall(c.Span, c.Method.Procedure, class, c.queued(), c.err)
}

// Cancel does what cancelling the caller's ctx does: a queued call leaves
// its queue and fails with canceled, a running call's context ends with
// context.Canceled, and the call is never retried. A call carried to
// another process is cancelled there. It does nothing once the call is
// done.
func (c *Call) Cancel() {
	if c.target != nil {
		c.Abort()
	} else if c.Remote != nil {
		c.Remote.Cancel()
	}
}

// FailQueued ends a submitted call that has not started with err; it
// does nothing to a call that runs or is done.
func (c *Call) FailQueued(err error) {
	if a := c.target; a != nil {
		a.cancelCall(c, err)
	}
}

// Abort ends a submitted call from outside its context, for a caller
// whose cancellation does not travel in Ctx (Future.Cancel, a call that
// came over a node stream): a queued call leaves its queue and fails with
// canceled, a running call's context ends with context.Canceled, and the
// call is not retried. It does nothing once the call is done.
func (c *Call) Abort() {
	c.flags.Or(flagAborted)
	if a := c.target; a != nil {
		a.abortCall(c)
	}
}

// watchCtx arranges for the call to end with ctx's error once ctx ends:
// to leave its queue while it is queued, and, when ctx is a calling
// actor's (a node's own context), to have its method's context cancelled
// while it runs; other contexts are watched by the method's context once
// it runs. Its actor's lock is held.
func (c *Call) watchCtx(ctx context.Context) {
	if e := endingOf(ctx); e != nil {
		if c.watchHook == nil {
			if c.watchHook = e.link(c); c.watchHook == nil {
				go c.fire() // ended already
			}
		}
	} else if ctx.Done() != nil {
		c.stopWatch = context.AfterFunc(ctx, c.queuedFire)
	}
}

// fire is the hook in a calling actor's context: it ended while the call
// is queued or running.
func (c *Call) fire() {
	a := c.target
	a.mu.Lock()
	if c.state.Load() == callRunning {
		at := c.cur
		a.mu.Unlock()
		at.ctx.cancel(c.Ctx.Err())
		return
	}
	a.mu.Unlock()
	a.cancelCall(c, c.Ctx.Err())
}

// queuedFire is the context.AfterFunc watch's: Ctx ended while the call
// may be queued.
func (c *Call) queuedFire() { c.target.cancelCall(c, c.Ctx.Err()) }

// unwatch stops the watch that watchCtx set up.
func (c *Call) unwatch() {
	if c.watchHook != nil {
		c.watchHook.stop()
		c.watchHook = nil
	}
	if c.stopWatch != nil {
		c.stopWatch()
		c.stopWatch = nil
	}
}

// ctxErr is the error of the call's context, or canceled once aborted.
func (c *Call) ctxErr() error {
	if c.flags.Load()&flagAborted != 0 {
		return context.Canceled
	}
	return c.Ctx.Err()
}

// Wait blocks until the call is done or ctx ends. When ctx belongs to an
// actor method, Wait first checks that waiting cannot deadlock: a serial
// actor waiting on a call that is queued behind itself, directly or
// through other actors' waits, gets ErrDeadlock and the call is cancelled.
func (c *Call) Wait(ctx context.Context) error {
	if c.Ready() {
		return nil
	}
	if waiter := CallFrom(ctx); waiter != nil {
		waiter.waitingOn.Store(c)
		defer waiter.waitingOn.Store(nil)
		if cycle(waiter, c) {
			err := errs.Newf(errs.ErrDeadlock,
				"deadlock: %s waits on %s, which cannot start before %s returns",
				waiter.Method.Procedure, c.Method.Procedure, waiter.Method.Procedure)
			if c.target != nil {
				c.target.cancelCall(c, err)
			} else {
				c.Cancel()
			}
			return err
		}
	}
	if ctx.Done() == nil {
		if c.flags.Load()&flagNotify != 0 {
			<-c.Done()
			return nil
		}
		c.fin.Wait()
		return nil
	}
	select {
	case <-c.Done():
		return nil
	case <-ctx.Done():
		return errs.FromContext(ctx.Err())
	}
}

// cycle reports whether waiting on target closes a wait-for cycle that
// comes back to waiter. Edges: a running call waits on the call it is
// blocked on; a queued call waits on the running call that keeps it from
// starting. Each actor is locked alone, briefly; every waiter publishes its
// edge before it walks, so the last edge of a cycle to appear finds it.
func cycle(waiter, target *Call) bool {
	c := target
	for range 10000 {
		if c == nil {
			return false
		}
		if c == waiter {
			return true
		}
		switch c.state.Load() {
		case callRunning:
			c = c.waitingOn.Load()
		case callQueued:
			if c.target == nil {
				// A call forwarded through interceptors waits on the
				// call they made, if any yet (see WaitsOn).
				c = c.waitingOn.Load()
				continue
			}
			c = c.target.blockerOf(c)
		default:
			return false
		}
	}
	return false
}

// Forward records that c, a call never submitted, is resolved with the
// outcome of inner, just submitted: deadlock detection follows c to
// inner. It reports whether that closes a wait-for cycle, through a
// method already waiting on c: then nothing else will find it, and inner
// must not be waited for.
func (c *Call) Forward(inner *Call) bool {
	c.waitingOn.Store(inner)
	return cycle(c, inner)
}

type callKey struct{}

// CallFrom returns the call whose method ctx belongs to, or nil.
func CallFrom(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}
