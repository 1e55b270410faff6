package actor

import (
	"context"
	"fmt"
	"net/http"

	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// Method describes one method of an actor class, with its request and
// response types. Generated code creates one per rpc with NewMethod.
type Method[Req, Res proto.Message] struct {
	m *node.Method
}

// MethodDesc is any *Method, whatever its types.
type MethodDesc interface {
	desc() *node.Method
	// gatewayHandler serves the method to callers in other languages.
	gatewayHandler(g *gatewayClass) http.Handler
}

func (m *Method[Req, Res]) desc() *node.Method { return m.m }

// Procedure returns the method's full name, "/counter.v1.Counter/Get".
func (m *Method[Req, Res]) Procedure() string { return m.m.Procedure }

// NewMethod describes a method of the actor interface A. fn is the method
// expression (CounterActor.Increment); opts are the rpc's method options,
// nil for none. It is called by generated code.
func NewMethod[A any, Req, Res proto.Message](procedure string, fn func(A, context.Context, Req) (Res, error), opts *actorv1.MethodOptions) *Method[Req, Res] {
	m := &node.Method{
		Procedure:   procedure,
		Readonly:    opts.GetReadonly(),
		Group:       opts.GetConcurrencyGroup(),
		NewRequest:  func() proto.Message { return newMessage[Req]() },
		NewResponse: func() proto.Message { return newMessage[Res]() },
	}
	if opts != nil && opts.MaxTaskRetries != nil {
		m.MaxTaskRetries, m.HasRetries = opts.GetMaxTaskRetries(), true
	}
	m.Invoke = func(inst any, ctx context.Context, req proto.Message) (proto.Message, error) {
		a, ok := inst.(A)
		if !ok {
			return nil, fmt.Errorf("actor instance %T does not implement the class of %s", inst, procedure)
		}
		r, ok := req.(Req)
		if !ok {
			return nil, fmt.Errorf("%s: request %T is not a %T", procedure, req, r)
		}
		res, err := fn(a, ctx, r)
		if err != nil {
			return nil, err
		}
		if isNil(res) {
			// As on the wire: a nil response is an empty one.
			return newMessage[Res](), nil
		}
		return res, nil
	}
	return &Method[Req, Res]{m: m}
}

func newMessage[M proto.Message]() M {
	var zero M
	return zero.ProtoReflect().Type().New().Interface().(M)
}

func isNil(m proto.Message) bool {
	return m == nil || !m.ProtoReflect().IsValid()
}

// Class describes an actor class: I is its constructor's argument, A the
// interface its instances implement. Generated code creates one per actor
// service with NewClass.
type Class[I proto.Message, A any] struct {
	c       *node.Class
	methods []MethodDesc // typed, for the gateway
}

// NewClass describes the actor class name with the defaults declared in
// its proto and its methods. Invalid defaults are reported by Register and
// Spawn, never by a panic. It is called by generated code.
func NewClass[I proto.Message, A any](name string, defaults *actorv1.ActorOptions, methods ...MethodDesc) *Class[I, A] {
	ms := make([]*node.Method, len(methods))
	for i, m := range methods {
		ms[i] = m.desc()
	}
	return &Class[I, A]{c: node.NewClass(name, defaults, func() proto.Message { return newMessage[I]() }, ms), methods: methods}
}

// Name returns the class's fully-qualified name, "counter.v1.Counter".
func (c *Class[I, A]) Name() string { return c.c.Name }

// Registration binds a constructor to an actor class. Pass it to
// WithClasses so that the node can host the class.
type Registration struct {
	class   *node.Class
	factory node.Factory
	err     error
	typed   gatewayRoutes // nil for durable classes
	durable bool
}

// Register binds factory, the constructor of class's actors, to the class.
// It is called by generated code (RegisterCounter).
func Register[I proto.Message, A any](class *Class[I, A], factory func(context.Context, I) (A, error)) Registration {
	r := Registration{class: class.c, err: class.c.Err, typed: class}
	if factory == nil {
		r.err = fmt.Errorf("actor class %s: the constructor is nil", class.c.Name)
		return r
	}
	r.factory = func(ctx context.Context, init proto.Message) (any, error) {
		in, ok := init.(I)
		if !ok {
			return nil, fmt.Errorf("actor class %s: init %T is not a %T", class.c.Name, init, in)
		}
		a, err := factory(ctx, in)
		if err != nil {
			return nil, err
		}
		return any(a), nil
	}
	return r
}
