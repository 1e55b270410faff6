package actor

import (
	"fmt"

	"github.com/troupehq/troupe/runtime/internal/errs"
)

// Errors of the runtime, for errors.Is. Each also carries a Connect code
// (connect.CodeOf) so callers in other languages see the same condition.
var (
	// ErrActorDied: the actor died and will not come back, or died while
	// the call was queued or running and the call had no retries left.
	// Code aborted. The error is an *ActorDiedError with the cause.
	ErrActorDied = errs.ErrActorDied
	// ErrActorUnavailable: the actor is restarting and the call has no
	// task retries to wait with. Code unavailable.
	ErrActorUnavailable = errs.ErrActorUnavailable
	// ErrActorPending: the actor still waits for a node that can host it
	// after the wait WithPendingTimeout allows a call; the error says why
	// it waits. Code unavailable.
	ErrActorPending = errs.ErrActorPending
	// ErrPendingCallsLimit: the actor has max_pending_calls calls queued.
	// Code resource_exhausted.
	ErrPendingCallsLimit = errs.ErrPendingCallsLimit
	// ErrActorNotFound: no live actor has that name or id. Code not_found.
	ErrActorNotFound = errs.ErrActorNotFound
	// ErrNameTaken: the name is bound to a live actor. Code already_exists.
	ErrNameTaken = errs.ErrNameTaken
	// ErrWrongClass: the name or reference is bound to an actor of another
	// class. Code failed_precondition.
	ErrWrongClass = errs.ErrWrongClass
	// ErrInfeasible: no node can ever fit the actor's resources.
	// Code failed_precondition.
	ErrInfeasible = errs.ErrInfeasible
	// ErrUnschedulable: the actor's scheduling strategy names a node that
	// cannot host it. Code failed_precondition.
	ErrUnschedulable = errs.ErrUnschedulable
	// ErrDeadlock: a serial actor waited on a call that cannot start before
	// the waiting method returns. Code failed_precondition.
	ErrDeadlock = errs.ErrDeadlock
	// ErrSystemClosed: the system was shut down. Code unavailable.
	ErrSystemClosed = errs.ErrSystemClosed
	// ErrUnknownClass: no node registered the actor class. Code not_found.
	ErrUnknownClass = errs.ErrUnknownClass
	// ErrInvalidOption: an option's value is out of range. Code
	// invalid_argument.
	ErrInvalidOption = errs.ErrInvalidOption
	// ErrNotInActor: the function must be called with the ctx of an actor
	// method. Code failed_precondition.
	ErrNotInActor = errs.ErrNotInActor
)

// ActorDiedError is the error of a call to an actor that died and will
// not come back, or that died while the call was queued or running and the
// call had no retries left. errors.As finds it in such a call's error,
// whichever process hosted the actor; it matches ErrActorDied under
// errors.Is.
type ActorDiedError struct {
	ActorID  string
	Class    string
	Name     string // empty for an unnamed actor
	Cause    Cause
	Restarts int // the restarts it had before this death
}

func (e *ActorDiedError) Error() string {
	s := fmt.Sprintf("actor %s (%s", e.ActorID, e.Class)
	if e.Name != "" {
		s += " " + e.Name
	}
	return s + fmt.Sprintf(") died after %d restarts: %s", e.Restarts, e.Cause)
}

// Is reports whether target is ErrActorDied.
func (e *ActorDiedError) Is(target error) bool { return target == ErrActorDied }

// ActorUnavailableError is the error of a call that reached an actor while
// it was restarting and could not wait, having no task retries, or that
// found no reachable node for the actor. errors.As finds it in such a
// call's error; it matches ErrActorUnavailable under errors.Is.
type ActorUnavailableError struct {
	ActorID string
	Class   string
	Reason  string
}

func (e *ActorUnavailableError) Error() string {
	return fmt.Sprintf("actor %s (%s) unavailable: %s", e.ActorID, e.Class, e.Reason)
}

// Is reports whether target is ErrActorUnavailable.
func (e *ActorUnavailableError) Is(target error) bool { return target == ErrActorUnavailable }

// Cause is why an actor died: its kind, a message (the panic value, the
// constructor's error, ...) and, for panics, the stack of the panicking
// goroutine.
type Cause struct {
	Kind    CauseKind
	Message string
	Stack   string
}

func (c Cause) String() string {
	if c.Message == "" {
		return c.Kind.String()
	}
	return c.Kind.String() + ": " + c.Message
}

// CauseKind classifies causes of death.
type CauseKind int

// The kinds of causes of death.
const (
	CauseUnknown CauseKind = iota
	// CausePanic: a method or the constructor panicked.
	CausePanic
	// CauseConstructor: the constructor returned an error.
	CauseConstructor
	// CauseKilled: Kill was called.
	CauseKilled
	// CauseOwnerDied: the owner (job or actor) ended.
	CauseOwnerDied
	// CauseExited: the actor ended itself with ExitActor.
	CauseExited
	// CauseNodeLost: the node hosting the actor died or was shut down.
	CauseNodeLost
)

func (k CauseKind) String() string { return errs.CauseKind(k).String() }

// The runtime builds its errors with the types of an internal package;
// errors.As finds them as the types above.
func init() {
	errs.Public = func(err error, target any) bool {
		switch t := target.(type) {
		case **ActorDiedError:
			e, ok := err.(*errs.ActorDiedError)
			if ok {
				*t = &ActorDiedError{ActorID: e.ActorID, Class: e.Class, Name: e.Name,
					Cause: causeOf(e.Cause), Restarts: e.Restarts}
			}
			return ok
		case **ActorUnavailableError:
			e, ok := err.(*errs.ActorUnavailableError)
			if ok {
				*t = &ActorUnavailableError{ActorID: e.ActorID, Class: e.Class, Reason: e.Reason}
			}
			return ok
		}
		return false
	}
}

func causeOf(c errs.Cause) Cause {
	return Cause{Kind: CauseKind(c.Kind), Message: c.Message, Stack: c.Stack}
}
