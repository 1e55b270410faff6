package actor

import (
	"context"

	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// SystemFrom returns the system of the actor whose method or constructor
// ctx belongs to, or nil outside actors. Methods use it to spawn actors and
// to turn references received in messages into handles.
func SystemFrom(ctx context.Context) *System {
	a := node.ActorFrom(ctx)
	if a == nil {
		return nil
	}
	s, _ := a.Node().Host.(*System)
	return s
}

// Self returns a reference to the actor whose method or constructor ctx
// belongs to, or nil outside actors.
func Self(ctx context.Context) *Ref {
	a := node.ActorFrom(ctx)
	if a == nil {
		return nil
	}
	s, _ := a.Node().Host.(*System)
	return s.refTo(a)
}

// ExitActor ends the calling actor gracefully after its running calls
// return: it is not restarted, its Stop(ctx) hook runs if it has one, and
// queued and later calls fail with ErrActorDied (cause: exited). ctx must
// be the ctx of an actor method.
func ExitActor(ctx context.Context) error {
	if node.CallFrom(ctx) == nil {
		return errs.Newf(errs.ErrNotInActor, "ExitActor: ctx is not an actor method's")
	}
	node.ActorFrom(ctx).Exit()
	return nil
}
