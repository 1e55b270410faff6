// Package errs defines the runtime's typed errors. Internal packages build
// them here, and package actor exports them: its sentinels are these, and
// errors.As finds these typed errors as actor's own types (see Public), so
// that every part of the runtime speaks one error model: a *connect.Error
// whose code other languages see, wrapping a typed Go error that errors.Is
// and errors.As find.
package errs

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"
)

// Sentinels for errors.Is. Each typed error below reports Is for its sentinel.
var (
	ErrActorDied         = errors.New("actor died")
	ErrActorUnavailable  = errors.New("actor unavailable")
	ErrActorPending      = errors.New("actor pending")
	ErrPendingCallsLimit = errors.New("pending calls limit exceeded")
	ErrActorNotFound     = errors.New("actor not found")
	ErrNameTaken         = errors.New("actor name taken")
	ErrWrongClass        = errors.New("actor has another class")
	ErrInfeasible        = errors.New("resources infeasible")
	ErrUnschedulable     = errors.New("actor unschedulable")
	ErrDeadlock          = errors.New("call cycle deadlock")
	ErrSystemClosed      = errors.New("actor system shut down")
	ErrUnknownClass      = errors.New("actor class not registered")
	ErrUnknownMethod     = errors.New("actor method not found")
	ErrInvalidOption     = errors.New("invalid actor option")
	ErrNotInActor        = errors.New("not called from inside an actor method")
)

// CauseKind says why an actor died.
type CauseKind int

// The causes of death.
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

func (k CauseKind) String() string {
	switch k {
	case CausePanic:
		return "panic"
	case CauseConstructor:
		return "constructor error"
	case CauseKilled:
		return "killed"
	case CauseOwnerDied:
		return "owner died"
	case CauseExited:
		return "exited"
	case CauseNodeLost:
		return "node lost"
	default:
		return "unknown"
	}
}

// Cause is why an actor died: its kind, a message (the panic value, the
// constructor's error, ...) and, for panics, the goroutine's stack.
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

// ActorDiedError is the error of a call to an actor that died and will not
// come back, or that died while the call was queued or running and the call
// had no retries left.
type ActorDiedError struct {
	ActorID  string
	Class    string
	Name     string
	Cause    Cause
	Restarts int
}

func (e *ActorDiedError) Error() string {
	s := fmt.Sprintf("actor %s (%s", e.ActorID, e.Class)
	if e.Name != "" {
		s += " " + e.Name
	}
	s += fmt.Sprintf(") died after %d restarts: %s", e.Restarts, e.Cause)
	return s
}

// Is reports whether target is ErrActorDied.
func (e *ActorDiedError) Is(target error) bool { return target == ErrActorDied }

// As lets errors.As find e as the public type package actor defines for it.
func (e *ActorDiedError) As(target any) bool { return Public != nil && Public(e, target) }

// ActorUnavailableError is the error of a call that reached an actor while it
// was restarting and could not wait, because it had no retries.
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

// As lets errors.As find e as the public type package actor defines for it.
func (e *ActorUnavailableError) As(target any) bool { return Public != nil && Public(e, target) }

// Public, set by package actor, converts err, an *ActorDiedError or an
// *ActorUnavailableError, to the public type target points to, and reports
// whether it did. The runtime's errors are built here, below package actor;
// this is how users find them as actor's types, and only when they ask.
var Public func(err error, target any) bool

// Code returns the Connect code of a runtime sentinel, or CodeUnknown.
func Code(sentinel error) connect.Code {
	switch sentinel {
	case ErrActorDied:
		return connect.CodeAborted
	case ErrActorUnavailable, ErrActorPending:
		return connect.CodeUnavailable
	case ErrPendingCallsLimit:
		return connect.CodeResourceExhausted
	case ErrActorNotFound, ErrUnknownClass, ErrUnknownMethod:
		return connect.CodeNotFound
	case ErrNameTaken:
		return connect.CodeAlreadyExists
	case ErrWrongClass, ErrInfeasible, ErrUnschedulable, ErrDeadlock, ErrNotInActor:
		return connect.CodeFailedPrecondition
	case ErrSystemClosed:
		return connect.CodeUnavailable
	case ErrInvalidOption:
		return connect.CodeInvalidArgument
	}
	return connect.CodeUnknown
}

// New returns a *connect.Error with the sentinel's code wrapping err; it
// matches both sentinel and err under errors.Is.
func New(sentinel error, err error) *connect.Error {
	if !errors.Is(err, sentinel) {
		err = &detailed{sentinel: sentinel, msg: err.Error(), cause: err}
	}
	return connect.NewError(Code(sentinel), err)
}

// Newf returns a *connect.Error with the sentinel's code whose message is
// formatted and which matches sentinel under errors.Is.
func Newf(sentinel error, format string, args ...any) *connect.Error {
	return connect.NewError(Code(sentinel), &detailed{sentinel: sentinel, msg: fmt.Sprintf(format, args...)})
}

// Died returns the error a call sees for an actor that died.
func Died(e *ActorDiedError) *connect.Error { return New(ErrActorDied, e) }

// Unavailable returns the error a call sees for an actor that is restarting.
func Unavailable(e *ActorUnavailableError) *connect.Error { return New(ErrActorUnavailable, e) }

type detailed struct {
	sentinel error
	msg      string
	cause    error
}

func (d *detailed) Error() string        { return d.msg }
func (d *detailed) Is(target error) bool { return target == d.sentinel }
func (d *detailed) Unwrap() error        { return d.cause }

// FromContext turns a context's error into a *connect.Error with code
// canceled or deadline_exceeded that still matches context.Canceled or
// context.DeadlineExceeded under errors.Is. A *connect.Error is returned
// unchanged.
func FromContext(err error) *connect.Error {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce
	}
	code := connect.CodeUnknown
	switch {
	case errors.Is(err, context.Canceled):
		code = connect.CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		code = connect.CodeDeadlineExceeded
	}
	return connect.NewError(code, err)
}
