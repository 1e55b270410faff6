package actor

import (
	"context"

	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/cluster/caller"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// Ref is an untyped reference to one actor instance: its id, not its name.
// After a named actor is killed and its name taken again, an old Ref still
// names the dead actor. Typed handles wrap a Ref.
type Ref struct {
	sys *System
	a   *node.Actor    // an actor hosted in this process
	r   *caller.Target // else an actor in another process of the cluster
}

// Handle is anything that names an actor: every generated handle, and *Ref.
type Handle interface {
	Ref() *Ref
}

func (s *System) refTo(a *node.Actor) *Ref { return &Ref{sys: s, a: a} }

// Ref returns r, so that a *Ref is a Handle.
func (r *Ref) Ref() *Ref { return r }

// ID returns the actor's id, unique and never reused.
func (r *Ref) ID() string {
	if r == nil {
		return ""
	}
	if r.a == nil {
		return r.r.ID
	}
	return r.a.ID
}

// Class returns the actor's class, "counter.v1.Counter".
func (r *Ref) Class() string {
	if r == nil {
		return ""
	}
	if r.a == nil {
		return r.r.Class
	}
	return r.a.Class.Name
}

// Name returns the actor's name, if it has one.
func (r *Ref) Name() string {
	if r == nil {
		return ""
	}
	if r.a == nil {
		return r.r.Name
	}
	return r.a.Spec.Name
}

// Namespace returns the namespace of the actor's name.
func (r *Ref) Namespace() string {
	if r == nil {
		return ""
	}
	if r.a == nil {
		return r.r.Namespace
	}
	return r.a.Spec.Namespace
}

// Proto returns the serialisable reference, to send inside a message. It
// is nil for a nil Ref.
func (r *Ref) Proto() *actorv1.ActorRef {
	if r == nil {
		return nil
	}
	if r.a == nil {
		return &actorv1.ActorRef{ActorId: r.r.ID, Class: r.r.Class, Name: r.r.Name,
			Namespace: r.r.Namespace, NodeId: r.r.Node()}
	}
	return &actorv1.ActorRef{ActorId: r.a.ID, Class: r.a.Class.Name, Name: r.a.Spec.Name,
		Namespace: r.a.Spec.Namespace, NodeId: r.a.Node().ID}
}

// A LookupOption changes how Lookup finds a named actor.
type LookupOption interface {
	applyLookup(*lookupConfig)
}

type lookupConfig struct {
	namespace string
}

type lookupFunc func(*lookupConfig)

func (f lookupFunc) applyLookup(c *lookupConfig) { f(c) }

// InNamespace looks the name up in namespace. Default: the namespace of
// the actor whose method makes the lookup, else the system's.
func InNamespace(namespace string) LookupOption {
	return lookupFunc(func(c *lookupConfig) { c.namespace = namespace })
}

// Lookup returns a handle to the live actor of class bound to name. It
// fails with ErrActorNotFound when no live actor has the name and with
// ErrWrongClass when the name is bound to another class. It is called by
// generated code (GetCounter).
func Lookup[I proto.Message, A, H any](ctx context.Context, sys *System, class *Class[I, A], name string, wrap func(*Ref) H, opts ...LookupOption) (H, error) {
	var zero H
	if err := sys.checkOpen(); err != nil {
		return zero, err
	}
	cfg := lookupConfig{namespace: sys.defaultNamespace(ctx)}
	for _, o := range opts {
		if o != nil {
			o.applyLookup(&cfg)
		}
	}
	if err := checkNames(name, cfg.namespace); err != nil {
		return zero, err
	}
	ref, err := sys.plane.lookup(ctx, cfg.namespace, name)
	if err != nil {
		return zero, err
	}
	if ref.Class() != class.c.Name {
		return zero, errs.Newf(errs.ErrWrongClass, "actor %q in namespace %q is a %s, not a %s", name, cfg.namespace, ref.Class(), class.c.Name)
	}
	return wrap(ref), nil
}

// FromRef turns a reference received in a message into a typed handle of
// class. It fails with ErrWrongClass for another class and with
// ErrActorNotFound for an actor the system never had, or a dead one it no
// longer retains (see WithDeadActorRetention). It is called by generated
// code (CounterFromRef).
func FromRef[I proto.Message, A, H any](ctx context.Context, sys *System, class *Class[I, A], ref *actorv1.ActorRef, wrap func(*Ref) H) (H, error) {
	var zero H
	if err := sys.checkOpen(); err != nil {
		return zero, err
	}
	if ref.GetActorId() == "" {
		return zero, errs.Newf(errs.ErrActorNotFound, "empty actor reference")
	}
	if ref.GetClass() != "" && ref.GetClass() != class.c.Name {
		return zero, errs.Newf(errs.ErrWrongClass, "actor %s is a %s, not a %s", ref.GetActorId(), ref.GetClass(), class.c.Name)
	}
	r, err := sys.plane.byID(ctx, ref.GetActorId())
	if err != nil {
		return zero, err
	}
	if r.Class() != class.c.Name {
		return zero, errs.Newf(errs.ErrWrongClass, "actor %s is a %s, not a %s", r.ID(), r.Class(), class.c.Name)
	}
	return wrap(r), nil
}

// checkNames fails with ErrInvalidOption (invalid_argument) if an actor's
// name or namespace is too long or not printable UTF-8.
func checkNames(name, namespace string) error {
	if err := node.CheckName("actor name", name); err != nil {
		return err
	}
	return node.CheckName("namespace", namespace)
}
