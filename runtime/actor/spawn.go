package actor

import (
	"context"
	"maps"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/control"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// Lifetime says when an actor ends on its own.
type Lifetime int

const (
	// Owned actors die with their owner: the job (System) or the actor
	// that spawned them. They are not restarted then. The default.
	Owned Lifetime = iota
	// Detached actors outlive their creator, are restarted per
	// max_restarts, and live until killed.
	Detached
)

// Scheduling is a placement strategy: DefaultScheduling, Spread or
// NodeAffinity.
type Scheduling struct {
	strategy actorv1.SchedulingStrategy
	node     string
	soft     bool
}

var (
	// DefaultScheduling packs actors onto lightly loaded nodes and spreads
	// them when nodes are loaded.
	DefaultScheduling = Scheduling{strategy: actorv1.SchedulingStrategy_SCHEDULING_STRATEGY_DEFAULT}
	// Spread places actors across nodes, best effort.
	Spread = Scheduling{strategy: actorv1.SchedulingStrategy_SCHEDULING_STRATEGY_SPREAD}
)

// NodeAffinity places the actor on the node with the given id. If that node
// is dead or can never fit the actor, soft falls back to any node and hard
// fails with ErrUnschedulable.
func NodeAffinity(nodeID string, soft bool) Scheduling {
	return Scheduling{strategy: actorv1.SchedulingStrategy_SCHEDULING_STRATEGY_DEFAULT, node: nodeID, soft: soft}
}

// Spawner spawns actors of one class with typed options. Generated
// FooOptions functions return one pre-filled with the defaults declared in
// the proto; each setter overrides one option and returns the Spawner. A
// Spawner may be reused but not shared between goroutines while set.
type Spawner[I proto.Message, H any] struct {
	class *node.Class
	spec  node.Spec
	wrap  func(*Ref) H
	err   error
	// custom is set once a setter has run: spec may then differ from the
	// class's defaults.
	custom bool
	// frozen is spec as the actors spawned with it share it, made by the
	// first Spawn after the last setter; nil until then.
	frozen atomic.Pointer[frozenSpec]
	// interceptors wrap the serving side of the actors it spawns.
	interceptors []Interceptor
}

// frozenSpec is a Spawner's spec checked and completed for spawns in a
// system's namespace. Its actors share it.
type frozenSpec struct {
	namespace string // the system's
	spec      *node.Spec
}

// NewSpawner returns a Spawner for class. It is called by generated code.
func NewSpawner[I proto.Message, A any, H any](class *Class[I, A], wrap func(*Ref) H) *Spawner[I, H] {
	return &Spawner[I, H]{class: class.c, spec: class.c.Defaults, wrap: wrap, err: class.c.Err}
}

// changed records that a setter modified the spec, so that the next
// Spawn freezes it anew.
func (s *Spawner[I, H]) changed() *Spawner[I, H] {
	s.custom = true
	s.frozen.Store(nil)
	return s
}

// sharedSpec returns the spec the Spawner spawns with in a system of
// namespace: checked, completed, and shared by the actors spawned with it.
func (s *Spawner[I, H]) sharedSpec(namespace string) (*node.Spec, error) {
	if f := s.frozen.Load(); f != nil && f.namespace == namespace {
		return f.spec, nil
	}
	var spec *node.Spec
	if s.custom {
		spec = new(node.Spec)
		*spec = s.spec
		if spec.Namespace == "" {
			spec.Namespace = namespace
		}
	} else {
		spec = s.class.DefaultSpec(namespace)
	}
	if err := checkSpec(s.class, spec); err != nil {
		return nil, err
	}
	s.frozen.Store(&frozenSpec{namespace: namespace, spec: spec})
	return spec, nil
}

func (s *Spawner[I, H]) fail(err error) *Spawner[I, H] {
	if s.err == nil {
		s.err = err
	}
	return s
}

func (s *Spawner[I, H]) setResource(name string, amount float64) *Spawner[I, H] {
	set, err := resources.FromFloat(map[string]float64{name: amount})
	if err != nil {
		return s.fail(errs.New(errs.ErrInvalidOption, err))
	}
	// Copy on write: a Spawner's maps may be shared with its class's
	// defaults and with the actors it spawned.
	r := s.spec.Resources.Clone()
	delete(r, name)
	maps.Copy(r, set)
	s.spec.Resources = r
	return s.changed()
}

// Name names the actor, unique in its namespace. Default: no name.
func (s *Spawner[I, H]) Name(name string) *Spawner[I, H] { s.spec.Name = name; return s.changed() }

// Namespace sets the namespace of the name. Default: the system's.
func (s *Spawner[I, H]) Namespace(ns string) *Spawner[I, H] {
	s.spec.Namespace = ns
	return s.changed()
}

// GetIfExists returns the live actor already bound to the name, ignoring
// the new init, instead of failing with ErrNameTaken. Default false.
func (s *Spawner[I, H]) GetIfExists(v bool) *Spawner[I, H] {
	s.spec.GetIfExists = v
	return s.changed()
}

// Lifetime sets who the actor's life is bound to. Default: the proto's, else Owned.
func (s *Spawner[I, H]) Lifetime(l Lifetime) *Spawner[I, H] {
	switch l {
	case Owned:
		s.spec.Detached = false
	case Detached:
		s.spec.Detached = true
	default:
		return s.fail(errs.Newf(errs.ErrInvalidOption, "unknown lifetime %d", l))
	}
	return s.changed()
}

// NumCPUs sets the logical CPU the actor holds. Default: the proto's, else 0.
func (s *Spawner[I, H]) NumCPUs(n float64) *Spawner[I, H] { return s.setResource(resources.CPU, n) }

// NumGPUs sets the logical GPU the actor holds; 0.5 shares a GPU.
// Default: the proto's, else 0.
func (s *Spawner[I, H]) NumGPUs(n float64) *Spawner[I, H] { return s.setResource(resources.GPU, n) }

// Memory sets the logical memory in bytes the actor holds. Default: the
// proto's, else 0.
func (s *Spawner[I, H]) Memory(bytes uint64) *Spawner[I, H] {
	return s.setResource(resources.Memory, float64(bytes))
}

// Resources sets custom resources the actor holds, such as
// {"writer_node": 1}, on top of CPU, GPU and memory. Default: the proto's.
func (s *Spawner[I, H]) Resources(r map[string]float64) *Spawner[I, H] {
	for k, v := range r {
		s.setResource(k, v)
	}
	return s
}

// AcceleratorType restricts placement to nodes labelled with
// accelerator_type=t. Default: the proto's, else any.
func (s *Spawner[I, H]) AcceleratorType(t string) *Spawner[I, H] {
	s.spec.AcceleratorType = t
	return s.changed()
}

// LabelSelector restricts placement to nodes with all these labels.
// Default: the proto's, else any.
func (s *Spawner[I, H]) LabelSelector(labels map[string]string) *Spawner[I, H] {
	s.spec.LabelSelector = maps.Clone(labels)
	return s.changed()
}

// Scheduling sets the placement strategy. Default: the proto's, else
// DefaultScheduling.
func (s *Spawner[I, H]) Scheduling(st Scheduling) *Spawner[I, H] {
	s.spec.Scheduling, s.spec.NodeAffinity, s.spec.AffinitySoft = st.strategy, st.node, st.soft
	return s.changed()
}

// PlacementGroup places the actor in bundle bundle of pg, on that
// bundle's node, holding its resources out of the bundle's reservation
// rather than the node's free resources. While the group waits for nodes,
// so does the actor. A nil pg places the actor freely. Default: freely.
func (s *Spawner[I, H]) PlacementGroup(pg *PlacementGroup, bundle int) *Spawner[I, H] {
	if pg == nil {
		s.spec.PlacementGroup, s.spec.Bundle = "", 0
		return s.changed()
	}
	if bundle < 0 || bundle >= pg.bundles {
		return s.fail(errs.Newf(errs.ErrInvalidOption, "%s", control.NoSuchBundle(pg.id, pg.bundles, bundle)))
	}
	s.spec.PlacementGroup, s.spec.Bundle = pg.id, bundle
	return s.changed()
}

// MaxConcurrency sets how many methods of the default group run at once.
// Default: the proto's, else 1.
func (s *Spawner[I, H]) MaxConcurrency(n int) *Spawner[I, H] {
	s.spec.MaxConcurrency = n
	return s.changed()
}

// ConcurrencyGroups sets the named concurrency pools. Default: the proto's.
func (s *Spawner[I, H]) ConcurrencyGroups(groups map[string]int) *Spawner[I, H] {
	s.spec.ConcurrencyGroups = maps.Clone(groups)
	return s.changed()
}

// MaxRestarts sets how often the actor is restarted after dying; -1 is
// without limit. Default: the proto's, else 0.
func (s *Spawner[I, H]) MaxRestarts(n int) *Spawner[I, H] { s.spec.MaxRestarts = n; return s.changed() }

// MaxTaskRetries sets how often a call caught by the actor's death is
// retried; -1 is without limit. Default: the proto's, else 0.
func (s *Spawner[I, H]) MaxTaskRetries(n int) *Spawner[I, H] {
	s.spec.MaxTaskRetries = n
	return s.changed()
}

// MaxPendingCalls bounds the calls on the actor that have not finished,
// queued or running; the call beyond fails at once with
// ErrPendingCallsLimit. 0 is without limit. Default: the proto's, else 0.
func (s *Spawner[I, H]) MaxPendingCalls(n int) *Spawner[I, H] {
	s.spec.MaxPendingCalls = n
	return s.changed()
}

// Interceptors wrap the serving side of the actors spawned with the
// Spawner: every call they serve, from any caller, runs through them,
// inside the System's own interceptors (see WithInterceptors). They are
// functions of this process, so the actor must live in it: spawning with
// them on a System that Connect made fails with ErrInvalidOption (give a
// cluster's nodes their interceptors with WithInterceptors instead).
// Repeated calls append. Default none.
func (s *Spawner[I, H]) Interceptors(interceptors ...Interceptor) *Spawner[I, H] {
	for _, i := range interceptors {
		if i != nil {
			s.interceptors = append(s.interceptors, i)
		}
	}
	return s
}

// intercepted returns a copy of spec whose actor serves its calls
// through the System's interceptors and then list.
func (s *System) intercepted(spec *node.Spec, list []Interceptor) (*node.Spec, error) {
	if _, ok := s.plane.(*embeddedPlane); !ok {
		return nil, errs.Newf(errs.ErrInvalidOption, "a spawn's interceptors need the actor in this process: on a cluster, give the nodes WithInterceptors")
	}
	if s.icpt != nil {
		list = append(append([]Interceptor(nil), s.icpt.list...), list...)
	}
	c := *spec
	c.Serve = serveFunc(list, "")
	return &c, nil
}

// Spawn creates the actor and returns its handle at once; the constructor
// runs asynchronously and calls made meanwhile queue. A nil init is an
// empty one.
func (s *Spawner[I, H]) Spawn(ctx context.Context, sys *System, init I) (H, error) {
	var zero H
	if s.err != nil {
		return zero, s.err
	}
	if err := sys.checkSpawn(ctx); err != nil {
		return zero, err
	}
	spec, err := s.sharedSpec(sys.defaultNamespace(ctx))
	if err != nil {
		return zero, err
	}
	if len(s.interceptors) > 0 {
		if spec, err = sys.intercepted(spec, s.interceptors); err != nil {
			return zero, err
		}
	}
	ref, err := sys.spawnChecked(ctx, s.class, spec, init)
	if err != nil {
		return zero, err
	}
	return s.wrap(ref), nil
}

// spawn spawns an actor of class with spec, in the default namespace
// unless spec names one.
func (s *System) spawn(ctx context.Context, class *node.Class, spec node.Spec, init proto.Message) (*Ref, error) {
	if err := s.checkSpawn(ctx); err != nil {
		return nil, err
	}
	if spec.Namespace == "" {
		spec.Namespace = s.defaultNamespace(ctx)
	}
	if err := checkSpec(class, &spec); err != nil {
		return nil, err
	}
	return s.spawnChecked(ctx, class, &spec, init)
}

// checkSpawn reports why the system cannot spawn with ctx now.
func (s *System) checkSpawn(ctx context.Context) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if ctx == nil {
		return errs.Newf(errs.ErrInvalidOption, "nil context")
	}
	return ctx.Err()
}

// checkSpec reports the first reason an actor of class cannot have spec.
func checkSpec(class *node.Class, spec *node.Spec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	for _, m := range class.Methods {
		if _, ok := spec.ConcurrencyGroups[m.Group]; m.Group != "" && !ok {
			return errs.Newf(errs.ErrInvalidOption, "method %s uses concurrency group %q, which the actor's options do not declare", m.Procedure, m.Group)
		}
	}
	return nil
}

// spawnChecked spawns an actor of class with a spec that checkSpec
// accepted and that has its namespace. The actor shares spec: nobody may
// modify it afterwards.
func (s *System) spawnChecked(ctx context.Context, class *node.Class, spec *node.Spec, init proto.Message) (*Ref, error) {
	if init != nil && !init.ProtoReflect().IsValid() {
		init = nil // an empty one
	}
	if init == nil {
		init = class.NewInit()
	}
	return s.plane.spawn(ctx, class, spec, init)
}
