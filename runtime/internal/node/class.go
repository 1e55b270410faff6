package node

import (
	"context"
	"fmt"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// Method describes one method of an actor class: how to decode its request
// and how to invoke it on an instance.
type Method struct {
	// Procedure is the method's full name, "/counter.v1.Counter/Increment".
	Procedure string
	// Index is the method's position in its class, for per-actor tables.
	Index int
	// Readonly methods run concurrently with each other, never with a
	// mutating method of the same actor.
	Readonly bool
	// Group is the concurrency group; "" is the default group.
	Group string
	// MaxTaskRetries overrides the actor's max_task_retries when HasRetries.
	MaxTaskRetries int32
	HasRetries     bool
	// NewRequest returns an empty request, for decoding remote calls.
	NewRequest func() proto.Message
	// NewResponse returns an empty response, for decoding remote results.
	NewResponse func() proto.Message
	// Invoke runs the method on an instance.
	Invoke func(inst any, ctx context.Context, req proto.Message) (proto.Message, error)
}

// ServeFunc runs a call of method m on inst, an instance of actor a, in
// place of m.Invoke: the serving side's interceptors around the method.
type ServeFunc func(ctx context.Context, a *Actor, inst any, m *Method, req proto.Message) (proto.Message, error)

// Class is an actor class: its name, its methods, its defaults and, on a
// node whose binary registered it, its constructor.
type Class struct {
	Name     string
	Methods  []*Method
	Defaults Spec
	// NewInit returns an empty constructor argument.
	NewInit func() proto.Message
	// Err is set when the class's declared defaults are invalid.
	Err error

	byProcedure map[string]*Method
	shared      atomic.Pointer[Spec] // see DefaultSpec
}

// NewClass builds a class from its generated description.
func NewClass(name string, defaults *actorv1.ActorOptions, newInit func() proto.Message, methods []*Method) *Class {
	c := &Class{Name: name, Methods: methods, NewInit: newInit, byProcedure: make(map[string]*Method, len(methods))}
	for i, m := range methods {
		m.Index = i
		c.byProcedure[m.Procedure] = m
	}
	spec, err := SpecFromProto(defaults)
	if err != nil {
		c.Err = fmt.Errorf("actor class %s: %w", name, err)
	}
	c.Defaults = spec
	for _, m := range methods {
		if m.Group != "" {
			if _, ok := spec.ConcurrencyGroups[m.Group]; !ok && c.Err == nil {
				c.Err = errs.Newf(errs.ErrInvalidOption, "actor class %s: method %s: concurrency group %q is not declared", name, m.Procedure, m.Group)
			}
		}
	}
	return c
}

// Method returns the class's method with the given procedure name.
func (c *Class) Method(procedure string) (*Method, bool) {
	m, ok := c.byProcedure[procedure]
	return m, ok
}

// DefaultSpec returns the class's defaults with namespace filled in when
// they name none, as a spec that the actors spawned with them share:
// nobody may modify it. The spec of the last namespace asked for is kept,
// so the actors of a system's namespace all share one.
func (c *Class) DefaultSpec(namespace string) *Spec {
	want := namespace
	if c.Defaults.Namespace != "" {
		want = c.Defaults.Namespace
	}
	if s := c.shared.Load(); s != nil && s.Namespace == want {
		return s
	}
	s := new(Spec)
	*s = c.Defaults
	s.Namespace = want
	c.shared.Store(s)
	return s
}

// Factory constructs an instance of a class from its init message.
type Factory func(ctx context.Context, init proto.Message) (any, error)

// Spec is everything that says how one actor is placed and run: a class's
// declared defaults, overridden per spawn.
type Spec struct {
	Name        string
	Namespace   string
	GetIfExists bool
	Detached    bool

	Resources       resources.Set
	AcceleratorType string
	LabelSelector   map[string]string
	Scheduling      actorv1.SchedulingStrategy
	NodeAffinity    string
	AffinitySoft    bool

	MaxConcurrency    int
	ConcurrencyGroups map[string]int
	MaxRestarts       int
	MaxTaskRetries    int
	MaxPendingCalls   int

	// PlacementGroup places the actor in bundle Bundle of that placement
	// group, on the bundle's reserved resources. Empty for none.
	PlacementGroup string
	Bundle         int

	// Serve, when set, runs the actor's calls in place of its node's
	// Serve: the spawn's interceptors around the system's. It stays in
	// this process: an actor placed elsewhere cannot have one.
	Serve ServeFunc
}

// Clone returns a deep copy of s, so that a builder can be reused.
func (s Spec) Clone() Spec {
	s.Resources = s.Resources.Clone()
	if s.LabelSelector != nil {
		m := make(map[string]string, len(s.LabelSelector))
		for k, v := range s.LabelSelector {
			m[k] = v
		}
		s.LabelSelector = m
	}
	if s.ConcurrencyGroups != nil {
		m := make(map[string]int, len(s.ConcurrencyGroups))
		for k, v := range s.ConcurrencyGroups {
			m[k] = v
		}
		s.ConcurrencyGroups = m
	}
	return s
}

// Validate reports the first invalid value of s.
func (s *Spec) Validate() error {
	if err := CheckName("actor name", s.Name); err != nil {
		return err
	}
	if err := CheckName("namespace", s.Namespace); err != nil {
		return err
	}
	if _, known := actorv1.SchedulingStrategy_name[int32(s.Scheduling)]; !known {
		return errs.Newf(errs.ErrInvalidOption, "unknown scheduling strategy %d", s.Scheduling)
	}
	switch {
	case s.MaxConcurrency < 1:
		return errs.Newf(errs.ErrInvalidOption, "max_concurrency %d must be ≥ 1", s.MaxConcurrency)
	case s.MaxRestarts < -1:
		return errs.Newf(errs.ErrInvalidOption, "max_restarts %d must be ≥ -1", s.MaxRestarts)
	case s.MaxTaskRetries < -1:
		return errs.Newf(errs.ErrInvalidOption, "max_task_retries %d must be ≥ -1", s.MaxTaskRetries)
	case s.MaxPendingCalls < 0:
		return errs.Newf(errs.ErrInvalidOption, "max_pending_calls %d must be ≥ 0", s.MaxPendingCalls)
	case s.GetIfExists && s.Name == "":
		return errs.Newf(errs.ErrInvalidOption, "get_if_exists needs a name")
	case s.Bundle < 0:
		return errs.Newf(errs.ErrInvalidOption, "bundle index %d must be ≥ 0", s.Bundle)
	}
	for g, n := range s.ConcurrencyGroups {
		if g == "" || n < 1 {
			return errs.Newf(errs.ErrInvalidOption, "concurrency group %q: limit %d must be ≥ 1 and the name non-empty", g, n)
		}
	}
	return nil
}

// SpecFromProto converts a class's declared options to a Spec with the
// runtime's defaults filled in.
func SpecFromProto(o *actorv1.ActorOptions) (Spec, error) {
	s := Spec{MaxConcurrency: 1}
	if o == nil {
		return s, nil
	}
	res := make(map[string]float64, len(o.GetResources())+3)
	for k, v := range o.GetResources() {
		res[k] = v
	}
	if o.GetNumCpus() != 0 {
		res[resources.CPU] = o.GetNumCpus()
	}
	if o.GetNumGpus() != 0 {
		res[resources.GPU] = o.GetNumGpus()
	}
	if o.GetMemory() != 0 {
		res[resources.Memory] = float64(o.GetMemory())
	}
	set, err := resources.FromFloat(res)
	if err != nil {
		return s, errs.New(errs.ErrInvalidOption, err)
	}
	s.Resources = set
	s.AcceleratorType = o.GetAcceleratorType()
	if len(o.GetLabelSelector()) > 0 {
		s.LabelSelector = make(map[string]string, len(o.GetLabelSelector()))
		for k, v := range o.GetLabelSelector() {
			s.LabelSelector[k] = v
		}
	}
	s.Scheduling = o.GetScheduling()
	if o.GetMaxConcurrency() != 0 {
		s.MaxConcurrency = int(o.GetMaxConcurrency())
	}
	if len(o.GetConcurrencyGroups()) > 0 {
		s.ConcurrencyGroups = make(map[string]int, len(o.GetConcurrencyGroups()))
		for k, v := range o.GetConcurrencyGroups() {
			s.ConcurrencyGroups[k] = int(v)
		}
	}
	s.MaxRestarts = int(o.GetMaxRestarts())
	s.MaxTaskRetries = int(o.GetMaxTaskRetries())
	s.MaxPendingCalls = int(o.GetMaxPendingCalls())
	switch o.GetLifetime() {
	case actorv1.Lifetime_LIFETIME_UNSPECIFIED, actorv1.Lifetime_LIFETIME_OWNED:
	case actorv1.Lifetime_LIFETIME_DETACHED:
		s.Detached = true
	default:
		return s, errs.Newf(errs.ErrInvalidOption, "unknown lifetime %d", o.GetLifetime())
	}
	return s, s.Validate()
}

// Has reports whether m is one of the class's methods.
func (c *Class) Has(m *Method) bool {
	return m.Index < len(c.Methods) && c.Methods[m.Index] == m
}
