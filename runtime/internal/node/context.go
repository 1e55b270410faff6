package node

import (
	"context"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
)

// ending is the cancellation of a context the node makes: its error, its
// done channel, made only if asked for, and the functions registered with
// AfterFunc. It costs no allocation until Done or AfterFunc is used.
type ending struct {
	mu    sync.Mutex
	done  chan struct{}
	err   error
	after *afterFunc // registered with AfterFunc, the latest first
}

// afterFunc is a hook to run once a context ends, in a doubly linked
// list, so that stop unlinks it in constant time however many are
// registered: a context that has none costs one pointer.
type afterFunc struct {
	h          hook
	e          *ending
	prev, next *afterFunc // guarded by e.mu
	linked     bool       // in e's list; guarded by e.mu
}

// A hook is what runs when a context ends. The node's calls and method
// contexts are hooks themselves, so that linking one into a calling
// actor's context costs one small allocation and no closure.
type hook interface{ fire() }

// funcHook is a function registered with AfterFunc.
type funcHook func()

func (f funcHook) fire() { f() }

// endingOf returns the ending of ctx if it is one of the node's own
// contexts, which take hooks directly, or nil.
func endingOf(ctx context.Context) *ending {
	switch x := ctx.(type) {
	case *methodCtx:
		return &x.ending
	case *ctorCtx:
		return &x.ending
	}
	return nil
}

var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// end records err and closes the done channel. It returns the functions
// registered with AfterFunc, for the caller to start, and false if the
// context had already ended.
func (e *ending) end(err error) (*afterFunc, bool) {
	e.mu.Lock()
	if e.err != nil {
		e.mu.Unlock()
		return nil, false
	}
	e.err = err
	if e.done != nil {
		close(e.done)
	}
	after := e.after
	e.after = nil
	for a := after; a != nil; a = a.next {
		a.linked = false // its stop now reports false
	}
	e.mu.Unlock()
	return after, true
}

// startAfter runs the functions end returned, each on a goroutine of its
// own.
func startAfter(after *afterFunc) {
	for a := after; a != nil; a = a.next {
		go a.h.fire()
	}
}

// Done returns a channel closed when the context ends.
func (e *ending) Done() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done == nil {
		if e.err != nil {
			return closedChan
		}
		e.done = make(chan struct{})
	}
	return e.done
}

// Err returns the error the context ended with, or nil.
func (e *ending) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// AfterFunc runs f in its own goroutine once the context ends, as
// context.AfterFunc does; the context package uses it to propagate
// cancellation to derived contexts without a goroutine. Registering and
// stopping take constant time: a method with many calls in flight on its
// ctx does not slow each one down.
func (e *ending) AfterFunc(f func()) (stop func() bool) {
	a := e.link(funcHook(f))
	if a == nil {
		go f()
		return func() bool { return false }
	}
	return a.stop
}

// link registers h to fire once the context ends and returns its place
// in the list, for stop; nil if the context has ended already.
func (e *ending) link(h hook) *afterFunc {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return nil
	}
	a := &afterFunc{h: h, e: e, next: e.after, linked: true}
	if e.after != nil {
		e.after.prev = a
	}
	e.after = a
	return a
}

// stop unlinks a from its context's list, reporting false if the context
// ended first or a was stopped already.
func (a *afterFunc) stop() bool {
	e := a.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if !a.linked {
		return false
	}
	if a.prev != nil {
		a.prev.next = a.next
	} else {
		e.after = a.next
	}
	if a.next != nil {
		a.next.prev = a.prev
	}
	a.linked, a.prev, a.next = false, nil, nil
	return true
}

// methodCtx is the context a method runs with: the caller's deadline and
// values, with the running call attached. It is cancelled when the caller's
// context ends, when the actor dies, and when the method returns.
//
// It lives inside the call's attempt, so a call's context costs no
// allocation; its done channel is made only if the method asks for it, and
// it implements AfterFunc, so contexts a method derives from it are wired
// without a goroutine.
type methodCtx struct {
	parent     context.Context
	call       *Call
	stopParent func() bool // stops the watch on parent, if it has one
	ending
}

// init prepares the context of a run of call, whose caller's context is
// parent. A calling actor's context has the call's hook in it already
// (see Call.watchCtx); another is watched here.
func (x *methodCtx) init(parent context.Context, call *Call) {
	x.parent, x.call = parent, call
	if call.watchHook == nil && parent.Done() != nil {
		x.stopParent = context.AfterFunc(parent, x.fire)
	}
}

// fire is the watch's on parent: the caller's context ended.
func (x *methodCtx) fire() { x.cancel(x.parent.Err()) }

// cancel ends the context with err; later calls do nothing.
func (x *methodCtx) cancel(err error) {
	after, ok := x.end(err)
	if !ok {
		return
	}
	if x.stopParent != nil {
		x.stopParent()
	}
	startAfter(after)
}

func (x *methodCtx) Deadline() (time.Time, bool) { return x.parent.Deadline() }

func (x *methodCtx) Value(key any) any {
	switch key {
	case callKey{}:
		return x.call
	case actorKey{}:
		return x.call.target
	case methodKey{}:
		return x
	case ctorKey{}:
		return nil // the caller's, if it is a constructor
	}
	return x.parent.Value(key)
}

func (x *methodCtx) String() string { return "troupe method context" }

// ctorCtx is the context a constructor runs with: the values of the
// spawn's context, not its cancellation or deadline, with the actor
// attached. It is cancelled when the actor dies while constructing and
// when the constructor returns.
type ctorCtx struct {
	values context.Context // never cancelled
	actor  *Actor
	epoch  uint64        // the incarnation constructed
	init   proto.Message // the constructor's argument
	ending
}

// cancel ends the context; later calls do nothing.
func (x *ctorCtx) cancel() {
	if after, ok := x.end(context.Canceled); ok {
		startAfter(after)
	}
}

func (x *ctorCtx) Deadline() (time.Time, bool) { return time.Time{}, false }

func (x *ctorCtx) Value(key any) any {
	switch key {
	case actorKey{}:
		return x.actor
	case ctorKey{}:
		return x
	case callKey{}, methodKey{}:
		return nil // the spawner's, if a method spawned the actor
	}
	return x.values.Value(key)
}

func (x *ctorCtx) String() string { return "troupe constructor context" }

// The keys under which a method's and a constructor's contexts find
// themselves.
type (
	methodKey struct{}
	ctorKey   struct{}
)

// run constructs the actor and ends the context.
func (x *ctorCtx) run() { x.actor.construct(x) }
