package actor

import (
	"errors"
	"testing"

	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// The public enums mirror the runtime's, value for value: a cause or a
// state converts by its number.
func TestPublicEnumsMirrorTheRuntimes(t *testing.T) {
	causes := map[CauseKind]errs.CauseKind{
		CauseUnknown: errs.CauseUnknown, CausePanic: errs.CausePanic, CauseConstructor: errs.CauseConstructor,
		CauseKilled: errs.CauseKilled, CauseOwnerDied: errs.CauseOwnerDied, CauseExited: errs.CauseExited,
		CauseNodeLost: errs.CauseNodeLost,
	}
	for public, internal := range causes {
		if int(public) != int(internal) || public.String() != internal.String() {
			t.Errorf("CauseKind %v = %d, the runtime's %v = %d", public, public, internal, internal)
		}
	}
	states := map[State]node.State{PendingCreation: node.PendingCreation, Alive: node.Alive, Restarting: node.Restarting, Dead: node.Dead}
	for public, internal := range states {
		if int32(public) != int32(internal) || public.String() != internal.String() {
			t.Errorf("State %v = %d, the runtime's %v = %d", public, public, internal, internal)
		}
	}
}

// The runtime's typed errors are found as actor's types, with every field,
// through the *connect.Error that carries them.
func TestRuntimeErrorsAreFoundAsActorTypes(t *testing.T) {
	cause := errs.Cause{Kind: errs.CausePanic, Message: "boom", Stack: "stack"}
	err := error(errs.Died(&errs.ActorDiedError{ActorID: "a1", Class: "k", Name: "n", Cause: cause, Restarts: 2}))
	var died *ActorDiedError
	if !errors.As(err, &died) {
		t.Fatalf("errors.As(%v, *ActorDiedError) = false", err)
	}
	want := ActorDiedError{ActorID: "a1", Class: "k", Name: "n", Cause: Cause{Kind: CausePanic, Message: "boom", Stack: "stack"}, Restarts: 2}
	if *died != want || !errors.Is(died, ErrActorDied) || died.Error() != (&errs.ActorDiedError{ActorID: "a1", Class: "k", Name: "n", Cause: cause, Restarts: 2}).Error() {
		t.Fatalf("died = %+v (%v), want %+v", *died, died, want)
	}
	err = errs.Unavailable(&errs.ActorUnavailableError{ActorID: "a2", Class: "k", Reason: "restarting"})
	var unavailable *ActorUnavailableError
	if !errors.As(err, &unavailable) || *unavailable != (ActorUnavailableError{ActorID: "a2", Class: "k", Reason: "restarting"}) ||
		!errors.Is(unavailable, ErrActorUnavailable) {
		t.Fatalf("errors.As(%v, *ActorUnavailableError) = %+v", err, unavailable)
	}
	if errors.As(err, &died) {
		t.Fatal("an unavailable error is found as an ActorDiedError")
	}
}
