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

// ExitActor ends the actor whose method or constructor ctx belongs to,
// gracefully: it is not restarted, its Stop(ctx) hook runs if it has one,
// and queued and later calls fail at once with ErrActorDied (cause:
// exited). Calls still running finish; the actor is DEAD once none runs,
// which is at once when ExitActor is called from a goroutine the actor
// started while no call runs. The last call to finish returns to its
// caller once the actor has ended and its Stop hook has returned. Called in a constructor, it ends the actor
// as the constructor returns. A ctx that is no actor's gives
// ErrNotInActor; one kept from an incarnation that has since died ends
// nothing.
func ExitActor(ctx context.Context) error {
	if ctx == nil || !node.ExitFrom(ctx) {
		return errs.Newf(errs.ErrNotInActor, "ExitActor: ctx is not an actor method's or constructor's")
	}
	return nil
}
