package actor

import (
	"context"
	"strings"

	"github.com/troupehq/troupe/runtime/internal/node"
)

// State is an actor's place in its life:
// PENDING_CREATION → ALIVE ⇄ RESTARTING → DEAD.
type State int32

// The states of an actor.
const (
	PendingCreation State = State(node.PendingCreation)
	Alive           State = State(node.Alive)
	Restarting      State = State(node.Restarting)
	Dead            State = State(node.Dead)
)

func (s State) String() string { return node.State(s).String() }

// ActorInfo is one row of ListActors.
type ActorInfo struct {
	ID        string
	Class     string
	State     State
	Job       string
	Name      string
	Node      string
	PID       int
	Namespace string

	// Detail.
	Resources     map[string]float64 // what the actor holds
	Restarts      int
	DeathCause    string // empty unless DEAD
	Detached      bool
	PendingReason string // why a PENDING_CREATION actor waits
	PendingCalls  int
	RunningCalls  int
}

// A ListOption filters ListActors.
type ListOption interface {
	applyList(*listConfig)
}

type listConfig struct{ filters map[string]string }

type listFunc func(*listConfig)

func (f listFunc) applyList(c *listConfig) { f(c) }

// Filter keeps the actors whose column key equals value. Keys: id, class,
// state, job, name, node, namespace.
func Filter(key, value string) ListOption {
	return listFunc(func(c *listConfig) {
		if c.filters == nil {
			c.filters = map[string]string{}
		}
		c.filters[strings.ToLower(key)] = value
	})
}

// ListActors lists the actors the system knows, oldest first: every live
// actor and the most recent dead ones. Each table keeps at most
// WithDeadActorRetention dead actors (default 10,000) and evicts the
// oldest dead beyond that, so an evicted actor is no longer listed.
func (s *System) ListActors(ctx context.Context, opts ...ListOption) ([]ActorInfo, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	var cfg listConfig
	for _, o := range opts {
		if o != nil {
			o.applyList(&cfg)
		}
	}
	return s.plane.listActors(ctx, cfg.filters)
}

func matches(info *ActorInfo, filters map[string]string) bool {
	for k, v := range filters {
		var got string
		switch k {
		case "id":
			got = info.ID
		case "class":
			got = info.Class
		case "state":
			got = info.State.String()
		case "job":
			got = info.Job
		case "name":
			got = info.Name
		case "node":
			got = info.Node
		case "namespace":
			got = info.Namespace
		default:
			return false
		}
		if got != v {
			return false
		}
	}
	return true
}
