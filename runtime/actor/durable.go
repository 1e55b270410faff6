package actor

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
)

// DurableClass describes a durable actor class: I is the init message of
// GetOrCreate, S the state message kept in the state store, A the
// interface its behaviour implements. Generated code creates one per
// durable service with NewDurableClass.
type DurableClass[I, S proto.Message, A any] struct {
	c *node.Class
}

// NewDurableClass describes the durable actor class name. It is called by
// generated code.
func NewDurableClass[I, S proto.Message, A any](name string, defaults *actorv1.ActorOptions, methods ...MethodDesc) *DurableClass[I, S, A] {
	ms := make([]*node.Method, len(methods))
	for i, m := range methods {
		ms[i] = m.desc()
	}
	c := node.NewClass(name, defaults, func() proto.Message { return newMessage[I]() }, ms)
	if c.Err == nil && !defaults.GetDurable() {
		c.Err = errs.Newf(errs.ErrInvalidOption, "actor class %s: NewDurableClass needs the durable option", name)
	}
	return &DurableClass[I, S, A]{c: c}
}

// Name returns the class's fully-qualified name, "counter.v1.Counter".
func (c *DurableClass[I, S, A]) Name() string { return c.c.Name }

// NewDurableMethod describes a method of the durable actor interface A:
// fn is the method expression (CounterActor.Increment), which receives the
// actor's state S. It is called by generated code.
//
// A mutating method runs on a copy of the committed state and may change
// it in place; the copy is committed with the result before the caller
// sees success, and dropped when the method fails or panics. A readonly
// method (opts.readonly) receives the committed state itself, shared with
// the readonly calls running beside it, and must not change it.
func NewDurableMethod[A any, S, Req, Res proto.Message](procedure string, fn func(A, context.Context, S, Req) (Res, error), opts *actorv1.MethodOptions) *Method[Req, Res] {
	m := &node.Method{
		Procedure:   procedure,
		Readonly:    opts.GetReadonly(),
		NewRequest:  func() proto.Message { return newMessage[Req]() },
		NewResponse: func() proto.Message { return newMessage[Res]() },
	}
	newRes := func() proto.Message { return newMessage[Res]() }
	m.Invoke = func(inst any, ctx context.Context, req proto.Message) (proto.Message, error) {
		act, ok := inst.(*activation)
		if !ok {
			return nil, fmt.Errorf("%s: instance %T is not a durable activation", procedure, inst)
		}
		impl, ok := act.cls.impl.(A)
		if !ok {
			return nil, fmt.Errorf("%s: behaviour %T does not implement the class", procedure, act.cls.impl)
		}
		r, ok := req.(Req)
		if !ok {
			return nil, fmt.Errorf("%s: request %T is not a %T", procedure, req, r)
		}
		run := func(st proto.Message) (proto.Message, error) {
			res, err := fn(impl, ctx, st.(S), r)
			if err != nil {
				return nil, err
			}
			if isNil(res) {
				return newRes(), nil
			}
			return res, nil
		}
		if m.Readonly {
			return act.read(ctx, procedure, run)
		}
		return act.mutate(ctx, procedure, run, newRes)
	}
	return &Method[Req, Res]{m: m}
}

// RegisterDurable binds the behaviour of class's actors to the class. impl
// holds no actor's state: every call gets the state of its actor. create
// makes the state of an actor that the store does not have yet from the
// init given to GetOrCreate; it runs once per id, when the actor is first
// activated, and its result is committed before any call runs. A nil
// create starts from the init itself when I and S are the same message,
// else from an empty state. It is called by generated code
// (RegisterCounter).
func RegisterDurable[I, S proto.Message, A any](class *DurableClass[I, S, A], impl A, create func(ctx context.Context, id string, init I) (S, error)) Registration {
	r := Registration{class: class.c, err: class.c.Err, durable: true}
	if any(impl) == nil {
		r.err = fmt.Errorf("actor class %s: the behaviour is nil", class.c.Name)
		return r
	}
	dc := &durableClass{name: class.c.Name, impl: impl, newState: func() proto.Message { return newMessage[S]() }}
	dc.create = func(ctx context.Context, id string, init proto.Message) (proto.Message, error) {
		in, ok := init.(I)
		if !ok {
			return nil, fmt.Errorf("actor class %s: init %T is not a %T", class.c.Name, init, in)
		}
		if create == nil {
			if st, ok := proto.Clone(init).(S); ok {
				return st, nil
			}
			return newMessage[S](), nil
		}
		st, err := create(ctx, id, in)
		if err != nil {
			return nil, err
		}
		if isNil(st) {
			return newMessage[S](), nil
		}
		return st, nil
	}
	r.factory = func(ctx context.Context, _ proto.Message) (any, error) {
		act, _ := ctx.Value(activationKey{}).(*activation)
		if act == nil {
			return nil, errs.Newf(errs.ErrInvalidOption, "actor class %s is durable: get its actors with GetOrCreate, not Spawn", class.c.Name)
		}
		act.cls = dc
		if err := act.load(ctx); err != nil {
			return nil, err
		}
		return act, nil
	}
	return r
}

// DurableRef names one durable actor: its class and id. It stays valid
// across deactivations and restarts of the system: a call through it
// activates the actor again. Typed durable handles wrap one.
type DurableRef struct {
	sys   *System
	class *node.Class
	id    string
	init  proto.Message
}

// ID returns the actor's id, as given to GetOrCreate.
func (r *DurableRef) ID() string {
	if r == nil {
		return ""
	}
	return r.id
}

// Class returns the actor's class, "counter.v1.Counter".
func (r *DurableRef) Class() string {
	if r == nil {
		return ""
	}
	return r.class.Name
}

// GetOrCreate returns a handle to the durable actor of class with the
// given id. It does no I/O: the actor is activated by the first call, and
// created then from init (see RegisterDurable) if the state store does not
// have it; an actor that exists keeps its state and init is ignored. It
// fails with ErrUnknownClass when this system did not register the class,
// unless it is in a cluster: there the actor is activated on one node at a
// time, cluster-wide, which the head picks among the nodes hosting the
// class, and calls from any process go to that activation.
// It is called by generated code (GetOrCreateCounter).
func GetOrCreate[I, S proto.Message, A, H any](ctx context.Context, sys *System, class *DurableClass[I, S, A], id string, init I, wrap func(*DurableRef) H) (H, error) {
	var zero H
	if err := sys.checkOpen(); err != nil {
		return zero, err
	}
	if ctx == nil {
		return zero, errs.Newf(errs.ErrInvalidOption, "nil context")
	}
	if class.c.Err != nil {
		return zero, class.c.Err
	}
	if id == "" {
		return zero, errs.Newf(errs.ErrInvalidOption, "%s: empty durable actor id", class.c.Name)
	}
	if err := sys.plane.reachDurable(class.c.Name); err != nil {
		return zero, err
	}
	var in proto.Message = init
	if isNil(in) {
		in = newMessage[I]()
	} else {
		in = proto.Clone(in)
	}
	return wrap(&DurableRef{sys: sys, class: class.c, id: id, init: in}), nil
}

// CallDurable calls method m of the durable actor ref names and returns the
// future of its result at once. It is called by generated durable handles.
func CallDurable[Req, Res proto.Message](ctx context.Context, ref *DurableRef, m *Method[Req, Res], req Req) *Future[Res] {
	if ref != nil && ctx != nil && ref.sys.icpt != nil {
		f := new(Future[Res])
		intercept(ctx, ref.sys, ref.id, ref.class.Name, m, req, f, func(ctx context.Context, req Req) *Future[Res] {
			return callDurable(ctx, ref, m, req)
		})
		return f
	}
	return callDurable(ctx, ref, m, req)
}

// callDurable is CallDurable without the caller's interceptors.
func callDurable[Req, Res proto.Message](ctx context.Context, ref *DurableRef, m *Method[Req, Res], req Req) *Future[Res] {
	f := new(Future[Res])
	if ref != nil && ctx != nil {
		if tel := ref.sys.tel; tel.Tracing() {
			ctx, f.call.Span = tel.StartClient(ctx, m.m.Procedure, &telemetry.Actor{ID: ref.id, Class: ref.class.Name, Node: ref.sys.node.ID})
		}
	}
	f.call.Init(ctx, m.m, req)
	switch {
	case ref == nil:
		f.call.Fail(errs.Newf(errs.ErrActorNotFound, "%s: nil actor handle", m.m.Procedure))
	case ctx == nil:
		f.call.Fail(errs.Newf(errs.ErrInvalidOption, "%s: nil context", m.m.Procedure))
	case !ref.class.Has(m.m):
		f.call.Fail(errs.Newf(errs.ErrWrongClass, "%s is not a method of %s", m.m.Procedure, ref.class.Name))
	default:
		if isNil(req) {
			f.call.Req = newMessage[Req]()
		}
		ref.sys.durable.submit(ref, &f.call)
	}
	return f
}

type callKeyKey struct{}

type callKey struct {
	caller string
	seq    uint64
}

// WithCallKey names the mutating durable calls made with the returned
// context as call seq of caller, so that a retry is applied once: the
// first success commits its result with the state, and a call with the
// same caller and seq on the same actor returns that recorded result
// without running again. Callers number their calls upwards, one number
// per logical call, and retry within the last WithCallRecords calls. The
// key travels with ctx, also into the calls a durable method makes with
// its ctx. Without a key, a call is not deduplicated.
func WithCallKey(ctx context.Context, caller string, seq uint64) context.Context {
	return context.WithValue(ctx, callKeyKey{}, callKey{caller, seq})
}

func callKeyFrom(ctx context.Context) (callKey, bool) {
	k, ok := ctx.Value(callKeyKey{}).(callKey)
	return k, ok && k.caller != ""
}
