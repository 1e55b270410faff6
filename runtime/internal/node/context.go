package node

import (
	"context"
	"sync"
	"time"
)

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
	stopParent func() bool

	mu    sync.Mutex
	done  chan struct{}
	err   error
	after []*afterFunc
}

type afterFunc struct{ f func() }

var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (x *methodCtx) init(parent context.Context, call *Call) {
	x.parent, x.call = parent, call
	if parent.Done() != nil {
		x.stopParent = context.AfterFunc(parent, func() { x.cancel(parent.Err()) })
	}
}

// cancel ends the context with err; later calls do nothing.
func (x *methodCtx) cancel(err error) {
	x.mu.Lock()
	if x.err != nil {
		x.mu.Unlock()
		return
	}
	x.err = err
	if x.done != nil {
		close(x.done)
	}
	after := x.after
	x.after = nil
	x.mu.Unlock()
	if x.stopParent != nil {
		x.stopParent()
	}
	for _, a := range after {
		go a.f()
	}
}

func (x *methodCtx) Deadline() (time.Time, bool) { return x.parent.Deadline() }

func (x *methodCtx) Done() <-chan struct{} {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.done == nil {
		if x.err != nil {
			return closedChan
		}
		x.done = make(chan struct{})
	}
	return x.done
}

func (x *methodCtx) Err() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.err
}

func (x *methodCtx) Value(key any) any {
	switch key {
	case callKey{}:
		return x.call
	case actorKey{}:
		return x.call.target
	}
	return x.parent.Value(key)
}

// AfterFunc runs f in its own goroutine once the context ends, as
// context.AfterFunc does; the context package uses it to propagate
// cancellation to derived contexts.
func (x *methodCtx) AfterFunc(f func()) (stop func() bool) {
	x.mu.Lock()
	if x.err != nil {
		x.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	a := &afterFunc{f: f}
	x.after = append(x.after, a)
	x.mu.Unlock()
	return func() bool {
		x.mu.Lock()
		defer x.mu.Unlock()
		for i, b := range x.after {
			if b == a {
				x.after = append(x.after[:i], x.after[i+1:]...)
				return true
			}
		}
		return false
	}
}

func (x *methodCtx) String() string { return "troupe method context" }
