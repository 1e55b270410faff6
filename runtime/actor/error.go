package actor

import "github.com/troupehq/troupe/runtime/internal/errs"

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

// ActorDiedError says which actor died, why, and after how many restarts.
type ActorDiedError = errs.ActorDiedError

// ActorUnavailableError says which actor is restarting.
type ActorUnavailableError = errs.ActorUnavailableError

// Cause is why an actor died: its kind, a message and, for panics, the
// stack of the panicking goroutine.
type Cause = errs.Cause

// CauseKind classifies causes of death.
type CauseKind = errs.CauseKind

// The kinds of causes of death.
const (
	CauseUnknown     = errs.CauseUnknown
	CausePanic       = errs.CausePanic
	CauseConstructor = errs.CauseConstructor
	CauseKilled      = errs.CauseKilled
	CauseOwnerDied   = errs.CauseOwnerDied
	CauseExited      = errs.CauseExited
	CauseNodeLost    = errs.CauseNodeLost
)
