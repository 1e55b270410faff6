package actor

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// Request is one call as an interceptor sees it.
type Request struct {
	// Procedure is the method's full name, "/counter.v1.Counter/Increment".
	Procedure string
	// ActorID is the id of the called actor.
	ActorID string
	// Class is the actor's class, "counter.v1.Counter".
	Class string
	// Msg is the request message. An interceptor may replace it with
	// another message of the same type before it calls next; a message
	// of another type fails the call with invalid_argument.
	Msg proto.Message
	// IsClient is true on the caller's side (a call made through a
	// System) and false on the serving side (a call an actor serves).
	IsClient bool
}

// CallFunc is one step of a call: it takes the request and returns the
// method's response or error. Like connect.UnaryFunc, it is what an
// Interceptor wraps.
type CallFunc func(ctx context.Context, req *Request) (proto.Message, error)

// An Interceptor wraps calls, as connect.Interceptor wraps unary RPCs: for
// authentication, logging, metrics or retries. WrapCall returns a
// CallFunc that does its work around next; it may change ctx or req.Msg,
// return without calling next (the method then never runs and the caller
// gets the error it returns, with its code), or call next more than once
// (each a call of its own, on the caller's side).
//
// The same interceptor sees both sides of a call; Request.IsClient says
// which. On the caller's side, given to WithInterceptors, it wraps every
// call made through that System, to an actor in this process or on
// another node; on the serving side, given to WithInterceptors or to a
// Spawner's Interceptors, it wraps the calls that the actors hosted by
// that System serve, from any caller. Interceptors compose like connect's:
// the first given is the outermost, acting first on the request and last
// on the response and error.
//
// On the serving side interceptors run in the method's place, on its
// goroutine and with its ctx: a panic there is the method's panic. On the
// caller's side a panic fails the call with code internal and is logged.
// Interceptors see the caller's request message itself, not a copy: one
// that changes it should change a clone.
type Interceptor interface {
	WrapCall(next CallFunc) CallFunc
}

// InterceptorFunc is a function as an Interceptor.
type InterceptorFunc func(next CallFunc) CallFunc

// WrapCall calls f.
func (f InterceptorFunc) WrapCall(next CallFunc) CallFunc { return f(next) }

// WithInterceptors adds interceptors to the System, on both sides of its
// calls (see Interceptor): the calls made through it and the calls its
// node's actors serve. Repeated options append, so WithInterceptors(a)
// then WithInterceptors(b, c) is WithInterceptors(a, b, c); a is the
// outermost. Default none, which costs calls nothing.
//
// On the caller's side a call's interceptors run on a goroutine of their
// own, so the call's future still returns at once. Calls made through
// the System go out in the order they were made: each waits until the
// interceptors of the calls made before it have called next (or returned
// without calling it), so one caller's calls keep their order. Calls that
// an interceptor makes itself, before its own next, do not wait.
func WithInterceptors(interceptors ...Interceptor) Option {
	return optionFunc(func(c *config) {
		for _, i := range interceptors {
			if i != nil {
				c.interceptors = append(c.interceptors, i)
			}
		}
	})
}

// interceptors are a System's: the chain around its calls and the turns
// that keep the calls' order.
type interceptors struct {
	list []Interceptor
	mu   sync.Mutex
	last chan struct{} // closed once the last call made has gone out
}

// chain wraps inner in list, the first outermost.
func chain(list []Interceptor, inner CallFunc) CallFunc {
	for i := len(list) - 1; i >= 0; i-- {
		inner = list[i].WrapCall(inner)
	}
	return inner
}

// serveFunc returns the node's ServeFunc for list, which runs a method
// call through them. Its requests name the actor id, or if id is "" the
// actor serving the call.
func serveFunc(list []Interceptor, id string) node.ServeFunc {
	return func(ctx context.Context, a *node.Actor, inst any, m *node.Method, req proto.Message) (proto.Message, error) {
		actorID := id
		if actorID == "" {
			actorID = a.ID
		}
		want := req.ProtoReflect().Descriptor()
		invoke := chain(list, func(ctx context.Context, r *Request) (proto.Message, error) {
			if err := sameType(r, want.FullName()); err != nil {
				return nil, err
			}
			return m.Invoke(inst, ctx, r.Msg)
		})
		return invoke(ctx, &Request{Procedure: m.Procedure, ActorID: actorID, Class: a.Class.Name, Msg: req})
	}
}

// sameType reports an interceptor's replacement of the request by a
// message of another type.
func sameType(r *Request, want protoreflect.FullName) error {
	if r.Msg == nil || r.Msg.ProtoReflect().Descriptor().FullName() != want {
		return errs.Newf(errs.ErrInvalidOption, "%s: an interceptor replaced the request with a %T", r.Procedure, r.Msg)
	}
	return nil
}

// turn is one intercepted call's place in the order of the System's
// calls: it goes out after prev is closed and closes mine once it has.
type turn struct {
	prev <-chan struct{} // nil: it need not wait
	mine chan struct{}
	once sync.Once
}

// take gives the call made with ctx its turn. A call made by an
// interceptor before its own next need not wait: the calls ahead of it
// include the one that interceptor holds up.
func (is *interceptors) take(ctx context.Context) *turn {
	t := &turn{mine: make(chan struct{})}
	is.mu.Lock()
	t.prev, is.last = is.last, t.mine
	is.mu.Unlock()
	if outer, ok := ctx.Value(turnKey{}).(*turn); ok && !outer.passed() {
		t.prev = nil
	}
	return t
}

// wait waits until the calls made before this one have gone out.
func (t *turn) wait() {
	if t.prev != nil {
		<-t.prev
	}
}

// pass lets the next call go out; once.
func (t *turn) pass() { t.once.Do(func() { close(t.mine) }) }

func (t *turn) passed() bool {
	select {
	case <-t.mine:
		return true
	default:
		return false
	}
}

type turnKey struct{}

// cancelFunc is a context.CancelFunc as a call's Remote.
type cancelFunc context.CancelFunc

func (f cancelFunc) Cancel() { f() }

// intercept makes the call of m with req on the actor id, of class,
// through the caller's side of sys's interceptors, on a goroutine:
// their innermost next makes it with submit. It resolves f with the
// outcome.
func intercept[Req, Res proto.Message](ctx context.Context, sys *System, id, class string, m *Method[Req, Res], req Req, f *Future[Res], submit func(context.Context, Req) *Future[Res]) {
	is := sys.icpt
	t := is.take(ctx)
	f.call.Init(ctx, m.m, req)
	cctx, cancel := context.WithCancel(ctx)
	f.call.Remote = cancelFunc(cancel)
	if isNil(req) {
		req = newMessage[Req]()
	}
	want := req.ProtoReflect().Descriptor().FullName()
	go func() {
		defer cancel()
		defer t.pass()
		var resp proto.Message
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					sys.log.Error("a caller's interceptor panicked", "procedure", m.m.Procedure, "actor_id", id, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
					err = connect.NewError(connect.CodeInternal, fmt.Errorf("%s: an interceptor panicked: %v", m.m.Procedure, r))
				}
			}()
			next := func(ctx context.Context, r *Request) (proto.Message, error) {
				t.wait()
				if err := sameType(r, want); err != nil {
					t.pass()
					return nil, err
				}
				inner := submit(ctx, r.Msg.(Req))
				t.pass()
				if f.call.Forward(&inner.call) {
					inner.Cancel()
					return nil, errs.Newf(errs.ErrDeadlock, "deadlock: a method waits on %s, which cannot start before that method returns", m.m.Procedure)
				}
				_ = inner.call.Wait(context.Background()) // ends when ctx does
				return inner.call.Result()
			}
			resp, err = chain(is.list, next)(context.WithValue(cctx, turnKey{}, t), &Request{
				Procedure: m.m.Procedure, ActorID: id, Class: class, Msg: req, IsClient: true})
		}()
		if err == nil {
			if _, ok := resp.(Res); !ok {
				err = errs.Newf(errs.ErrInvalidOption, "%s: an interceptor returned a %T, not a response", m.m.Procedure, resp)
			}
		}
		f.call.Resolve(resp, err)
	}()
}
