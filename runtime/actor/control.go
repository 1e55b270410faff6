package actor

import (
	"context"
	"maps"
	"slices"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/anypb"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// controlService is actor.v1.ControlService: the life of actors driven
// from other languages, through the System's own spawn, lookup, kill and
// list paths, so it works the same on an embedded and a clustered system.
type controlService struct {
	s *System
}

func (c *controlService) Spawn(ctx context.Context, req *connect.Request[actorv1.SpawnRequest]) (*connect.Response[actorv1.SpawnResponse], error) {
	m := req.Msg
	ref, err := c.s.spawnClass(ctx, m.GetClass(), m.GetInit(), m.GetName(), m.GetNamespace(), m.GetGetIfExists(), m.GetOptions())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&actorv1.SpawnResponse{Actor: ref.Proto()}), nil
}

func (c *controlService) GetOrCreate(ctx context.Context, req *connect.Request[actorv1.GetOrCreateRequest]) (*connect.Response[actorv1.GetOrCreateResponse], error) {
	m := req.Msg
	if m.GetName() == "" {
		return nil, errs.Newf(errs.ErrInvalidOption, "GetOrCreate: the name is required")
	}
	ref, err := c.s.spawnClass(ctx, m.GetClass(), m.GetInit(), m.GetName(), m.GetNamespace(), true, m.GetOptions())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&actorv1.GetOrCreateResponse{Actor: ref.Proto()}), nil
}

func (c *controlService) Lookup(ctx context.Context, req *connect.Request[actorv1.LookupRequest]) (*connect.Response[actorv1.LookupResponse], error) {
	m := req.Msg
	info, err := c.s.findNamed(ctx, m.GetNamespace(), m.GetName())
	if err != nil {
		return nil, err
	}
	if m.GetClass() != "" && m.GetClass() != info.Class {
		return nil, errs.Newf(errs.ErrWrongClass, "actor %q in namespace %q is a %s, not a %s", info.Name, info.Namespace, info.Class, m.GetClass())
	}
	return connect.NewResponse(&actorv1.LookupResponse{Actor: &actorv1.ActorRef{
		ActorId: info.ID, Class: info.Class, Name: info.Name, Namespace: info.Namespace, NodeId: info.Node,
	}}), nil
}

func (c *controlService) Kill(ctx context.Context, req *connect.Request[actorv1.KillRequest]) (*connect.Response[actorv1.KillResponse], error) {
	m := req.Msg
	id := m.GetActor().GetActorId()
	if id == "" {
		if m.GetName() == "" {
			return nil, errs.Newf(errs.ErrInvalidOption, "Kill: set actor.actor_id or name")
		}
		info, err := c.s.findNamed(ctx, m.GetNamespace(), m.GetName())
		if err != nil {
			return nil, err
		}
		id = info.ID
	}
	ref, err := c.s.refByActorID(ctx, id)
	if err != nil {
		return nil, err
	}
	var opts []KillOption
	if m.GetNoRestart() {
		opts = append(opts, NoRestart())
	}
	if err := c.s.Kill(ctx, ref, opts...); err != nil {
		return nil, err
	}
	return connect.NewResponse(&actorv1.KillResponse{}), nil
}

func (c *controlService) ListActors(ctx context.Context, req *connect.Request[actorv1.ControlServiceListActorsRequest]) (*connect.Response[actorv1.ControlServiceListActorsResponse], error) {
	var opts []ListOption
	for k, v := range req.Msg.GetFilters() {
		opts = append(opts, Filter(k, v))
	}
	list, err := c.s.ListActors(ctx, opts...)
	if err != nil {
		return nil, err
	}
	out := &actorv1.ControlServiceListActorsResponse{Actors: make([]*actorv1.ActorSummary, len(list))}
	for i, a := range list {
		out.Actors[i] = &actorv1.ActorSummary{
			ActorId: a.ID, Class: a.Class, State: a.State.String(), JobId: a.Job, Name: a.Name,
			NodeId: a.Node, Pid: int64(a.PID), Namespace: a.Namespace, Resources: a.Resources,
			Restarts: int32(a.Restarts), DeathCause: a.DeathCause, Detached: a.Detached,
			PendingReason: a.PendingReason, PendingCalls: int32(a.PendingCalls), RunningCalls: int32(a.RunningCalls),
		}
	}
	return connect.NewResponse(out), nil
}

// registered returns the actor class registered with WithClasses under
// name, with its types.
func (s *System) registered(name string) (*node.Class, bool) {
	for _, r := range s.classes {
		if r.typed != nil && r.class != nil && r.class.Name == name {
			return r.class, true
		}
	}
	return nil, false
}

// spawnClass spawns an actor of the class registered under className, its
// init packed in an Any: the untyped form of Spawner.Spawn.
func (s *System) spawnClass(ctx context.Context, className string, init *anypb.Any, name, namespace string, getIfExists bool, o *actorv1.SpawnOptions) (*Ref, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	class, ok := s.registered(className)
	if !ok {
		var names []string
		for _, r := range s.classes {
			if r.typed != nil && r.class != nil {
				names = append(names, r.class.Name)
			}
		}
		slices.Sort(names)
		return nil, errs.Newf(errs.ErrUnknownClass, "actor class %q is not registered here (registered: %v)", className, names)
	}
	if class.Err != nil {
		return nil, class.Err
	}
	in := class.NewInit()
	if init != nil {
		if err := init.UnmarshalTo(in); err != nil {
			return nil, errs.Newf(errs.ErrInvalidOption, "init for %s: want a %s, got %q: %v",
				className, in.ProtoReflect().Descriptor().FullName(), init.GetTypeUrl(), err)
		}
	}
	spec := class.Defaults.Clone()
	spec.Name, spec.Namespace, spec.GetIfExists = name, namespace, getIfExists
	if err := applySpawnOptions(&spec, o); err != nil {
		return nil, err
	}
	if err := s.settleLifetime(ctx, &spec, o.GetLifetime()); err != nil {
		return nil, err
	}
	return s.spawn(ctx, class, spec, in)
}

// applySpawnOptions overrides spec with the options o sets.
func applySpawnOptions(spec *node.Spec, o *actorv1.SpawnOptions) error {
	if o == nil {
		return nil
	}
	switch o.GetLifetime() {
	case actorv1.Lifetime_LIFETIME_UNSPECIFIED:
	case actorv1.Lifetime_LIFETIME_OWNED:
		spec.Detached = false
	case actorv1.Lifetime_LIFETIME_DETACHED:
		spec.Detached = true
	default:
		return errs.Newf(errs.ErrInvalidOption, "unknown lifetime %v", o.GetLifetime())
	}
	res := maps.Clone(o.GetResources())
	if res == nil {
		res = map[string]float64{}
	}
	if o.NumCpus != nil {
		res[resources.CPU] = o.GetNumCpus()
	}
	if o.NumGpus != nil {
		res[resources.GPU] = o.GetNumGpus()
	}
	if o.Memory != nil {
		res[resources.Memory] = float64(o.GetMemory())
	}
	if len(res) > 0 {
		set, err := resources.FromFloat(res)
		if err != nil {
			return errs.New(errs.ErrInvalidOption, err)
		}
		merged := spec.Resources.Clone()
		if merged == nil {
			merged = resources.Set{}
		}
		for k := range res {
			delete(merged, k)
		}
		maps.Copy(merged, set)
		spec.Resources = merged
	}
	if o.MaxConcurrency != nil {
		spec.MaxConcurrency = int(o.GetMaxConcurrency())
	}
	if o.MaxRestarts != nil {
		spec.MaxRestarts = int(o.GetMaxRestarts())
	}
	if o.MaxTaskRetries != nil {
		spec.MaxTaskRetries = int(o.GetMaxTaskRetries())
	}
	if o.MaxPendingCalls != nil {
		spec.MaxPendingCalls = int(o.GetMaxPendingCalls())
	}
	if o.GetScheduling() != actorv1.SchedulingStrategy_SCHEDULING_STRATEGY_UNSPECIFIED {
		spec.Scheduling = o.GetScheduling()
	}
	if len(o.GetLabelSelector()) > 0 {
		spec.LabelSelector = maps.Clone(o.GetLabelSelector())
	}
	return nil
}

// findNamed returns the live actor bound to name in namespace (default:
// the system's), of any class, through ListActors.
func (s *System) findNamed(ctx context.Context, namespace, name string) (*ActorInfo, error) {
	if name == "" {
		return nil, errs.Newf(errs.ErrInvalidOption, "no actor name given")
	}
	if err := checkNames(name, namespace); err != nil {
		return nil, err
	}
	if namespace == "" {
		namespace = s.namespace
	}
	list, err := s.ListActors(ctx, Filter("namespace", namespace), Filter("name", name))
	if err != nil {
		return nil, err
	}
	// Names of dead actors are free: the live one is the bound one.
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].State != Dead {
			return &list[i], nil
		}
	}
	return nil, errs.Newf(errs.ErrActorNotFound, "no live actor named %q in namespace %q", name, namespace)
}

// refByActorID returns a reference to the actor with the given id, of any
// class: FromRef without the class check.
func (s *System) refByActorID(ctx context.Context, id string) (*Ref, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	return s.plane.byID(ctx, id)
}

// settleLifetime settles the lifetime of an actor spawned from outside any
// actor on a system that is no job, which is what a spawn through a
// cluster node's gateway (its ControlService) is: nothing could own the
// actor. It is detached: it lives until killed and restarts per
// max_restarts. Asking for LIFETIME_OWNED there fails with invalid
// argument rather than giving an actor that no owner's end would kill.
func (s *System) settleLifetime(ctx context.Context, spec *node.Spec, lifetime actorv1.Lifetime) error {
	if !s.plane.ownerless() || node.ActorFrom(ctx) != nil {
		return nil
	}
	if lifetime == actorv1.Lifetime_LIFETIME_OWNED {
		return errs.Newf(errs.ErrInvalidOption, "a node has no job to own an actor: spawn it through a driver's gateway, or as LIFETIME_DETACHED")
	}
	spec.Detached = true
	return nil
}
