package cluster

import (
	"errors"
	"maps"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// SpecToProto converts a resolved spec for the wire.
func SpecToProto(s node.Spec) *actorv1.ActorSpec {
	p := &actorv1.ActorSpec{
		Name: s.Name, Namespace: s.Namespace, GetIfExists: s.GetIfExists, Detached: s.Detached,
		Resources: s.Resources.Float(), AcceleratorType: s.AcceleratorType,
		LabelSelector: maps.Clone(s.LabelSelector), Scheduling: s.Scheduling,
		NodeAffinity: s.NodeAffinity, AffinitySoft: s.AffinitySoft,
		MaxConcurrency: int32(s.MaxConcurrency), MaxRestarts: int32(s.MaxRestarts),
		MaxTaskRetries: int32(s.MaxTaskRetries), MaxPendingCalls: int32(s.MaxPendingCalls),
		PlacementGroupId: s.PlacementGroup, BundleIndex: int32(s.Bundle),
	}
	if len(s.ConcurrencyGroups) > 0 {
		p.ConcurrencyGroups = make(map[string]int32, len(s.ConcurrencyGroups))
		for k, v := range s.ConcurrencyGroups {
			p.ConcurrencyGroups[k] = int32(v)
		}
	}
	return p
}

// SpecFromProto converts a spec received from the wire.
func SpecFromProto(p *actorv1.ActorSpec) (node.Spec, error) {
	set, err := resources.FromFloat(p.GetResources())
	if err != nil {
		return node.Spec{}, errs.New(errs.ErrInvalidOption, err)
	}
	s := node.Spec{
		Name: p.GetName(), Namespace: p.GetNamespace(), GetIfExists: p.GetGetIfExists(), Detached: p.GetDetached(),
		Resources: set, AcceleratorType: p.GetAcceleratorType(), LabelSelector: maps.Clone(p.GetLabelSelector()),
		Scheduling: p.GetScheduling(), NodeAffinity: p.GetNodeAffinity(), AffinitySoft: p.GetAffinitySoft(),
		MaxConcurrency: int(p.GetMaxConcurrency()), MaxRestarts: int(p.GetMaxRestarts()),
		MaxTaskRetries: int(p.GetMaxTaskRetries()), MaxPendingCalls: int(p.GetMaxPendingCalls()),
		PlacementGroup: p.GetPlacementGroupId(), Bundle: int(p.GetBundleIndex()),
	}
	if len(p.GetConcurrencyGroups()) > 0 {
		s.ConcurrencyGroups = make(map[string]int, len(p.GetConcurrencyGroups()))
		for k, v := range p.GetConcurrencyGroups() {
			s.ConcurrencyGroups[k] = int(v)
		}
	}
	return s, s.Validate()
}

// StateToProto converts an actor state for the wire.
func StateToProto(s node.State) actorv1.ActorState {
	switch s {
	case node.PendingCreation:
		return actorv1.ActorState_ACTOR_STATE_PENDING_CREATION
	case node.Alive:
		return actorv1.ActorState_ACTOR_STATE_ALIVE
	case node.Restarting:
		return actorv1.ActorState_ACTOR_STATE_RESTARTING
	case node.Dead:
		return actorv1.ActorState_ACTOR_STATE_DEAD
	}
	return actorv1.ActorState_ACTOR_STATE_UNSPECIFIED
}

// StateFromProto converts an actor state received from the wire.
func StateFromProto(s actorv1.ActorState) node.State {
	switch s {
	case actorv1.ActorState_ACTOR_STATE_ALIVE:
		return node.Alive
	case actorv1.ActorState_ACTOR_STATE_RESTARTING:
		return node.Restarting
	case actorv1.ActorState_ACTOR_STATE_DEAD:
		return node.Dead
	}
	return node.PendingCreation
}

// CauseToProto converts a cause of death for the wire.
func CauseToProto(c errs.Cause) *actorv1.Cause {
	return &actorv1.Cause{Kind: actorv1.CauseKind(c.Kind), Message: c.Message, Stack: c.Stack}
}

// CauseFromProto converts a cause of death received from the wire.
func CauseFromProto(c *actorv1.Cause) errs.Cause {
	k := errs.CauseKind(c.GetKind())
	if k < errs.CauseUnknown || k > errs.CauseNodeLost {
		k = errs.CauseUnknown
	}
	return errs.Cause{Kind: k, Message: c.GetMessage(), Stack: c.GetStack()}
}

// sentinels are the runtime conditions that travel by name.
var sentinels = map[string]error{
	"actor_died": errs.ErrActorDied, "actor_unavailable": errs.ErrActorUnavailable,
	"pending_calls_limit": errs.ErrPendingCallsLimit, "actor_not_found": errs.ErrActorNotFound,
	"name_taken": errs.ErrNameTaken, "wrong_class": errs.ErrWrongClass, "infeasible": errs.ErrInfeasible,
	"unschedulable": errs.ErrUnschedulable, "deadlock": errs.ErrDeadlock, "system_closed": errs.ErrSystemClosed,
	"unknown_class": errs.ErrUnknownClass, "unknown_method": errs.ErrUnknownMethod,
	"invalid_option": errs.ErrInvalidOption, "not_in_actor": errs.ErrNotInActor,
	"actor_pending": errs.ErrActorPending,
}

// ToWire returns err as a *connect.Error whose details let the receiving
// side rebuild the runtime's typed error with FromWire. Application errors
// pass unchanged.
func ToWire(err error) error {
	if err == nil {
		return nil
	}
	ce := errs.FromContext(err)
	var died *errs.ActorDiedError
	var unavail *errs.ActorUnavailableError
	switch {
	case errors.As(err, &died):
		addDetail(ce, &actorv1.ActorDiedDetail{ActorId: died.ActorID, Class: died.Class, Name: died.Name,
			Cause: CauseToProto(died.Cause), Restarts: int32(died.Restarts)})
	case errors.As(err, &unavail):
		addDetail(ce, &actorv1.ActorUnavailableDetail{ActorId: unavail.ActorID, Class: unavail.Class, Reason: unavail.Reason})
	default:
		for name, s := range sentinels {
			if errors.Is(err, s) {
				addDetail(ce, &actorv1.RuntimeErrorDetail{Sentinel: name})
				break
			}
		}
	}
	return ce
}

func addDetail(ce *connect.Error, m proto.Message) {
	if d, err := connect.NewErrorDetail(m); err == nil {
		ce.AddDetail(d)
	}
}

// FromWire rebuilds the runtime's typed error from an error received over
// Connect: actor-died, actor-unavailable and the other sentinels match
// under errors.Is again. Other errors are returned unchanged.
func FromWire(err error) error {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return err
	}
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if derr != nil {
			continue
		}
		switch m := v.(type) {
		case *actorv1.ActorDiedDetail:
			return errs.Died(&errs.ActorDiedError{ActorID: m.GetActorId(), Class: m.GetClass(), Name: m.GetName(),
				Cause: CauseFromProto(m.GetCause()), Restarts: int(m.GetRestarts())})
		case *actorv1.ActorUnavailableDetail:
			return errs.Unavailable(&errs.ActorUnavailableError{ActorID: m.GetActorId(), Class: m.GetClass(), Reason: m.GetReason()})
		case *actorv1.RuntimeErrorDetail:
			if s, ok := sentinels[m.GetSentinel()]; ok {
				return errs.Newf(s, "%s", ce.Message())
			}
		}
	}
	return err
}
