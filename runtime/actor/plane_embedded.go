package actor

import (
	"context"
	"os"

	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/cluster/caller"
	"github.com/troupehq/troupe/runtime/internal/control"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
)

// embeddedPlane is the control plane of an embedded system: the ledger of
// its one node, in this process. Nothing can ever join it, so an actor
// that fits nowhere fails at once.
type embeddedPlane struct {
	s    *System
	ctrl *control.Control
}

func newEmbeddedPlane(s *System, total resources.Set, labels map[string]string) *embeddedPlane {
	return &embeddedPlane{s: s, ctrl: control.New(s.log, true, func() string { return newID(12) },
		&control.Node{Node: s.node, Total: total, Labels: labels})}
}

func (p *embeddedPlane) spawn(ctx context.Context, class *node.Class, spec *node.Spec, init proto.Message) (*Ref, error) {
	s := p.s
	ctx, span := s.tel.StartSpawn(ctx, class.Name)
	a, _, err := p.ctrl.Spawn(ctx, control.SpawnRequest{Class: class, Spec: spec, Init: init, Job: s.job, Owner: node.ActorFrom(ctx)})
	if span != nil {
		var ta *telemetry.Actor
		if a != nil {
			ta = actorTelemetry(a)
		}
		telemetry.EndSpawn(span, ta, err)
	}
	if err != nil {
		return nil, err
	}
	return s.refTo(a), nil
}

func (p *embeddedPlane) lookup(_ context.Context, namespace, name string) (*Ref, error) {
	a, ok := p.ctrl.Lookup(namespace, name)
	if !ok {
		return nil, errs.Newf(errs.ErrActorNotFound, "no live actor named %q in namespace %q", name, namespace)
	}
	return p.s.refTo(a), nil
}

func (p *embeddedPlane) byID(_ context.Context, id string) (*Ref, error) {
	a, ok := p.ctrl.Actor(id)
	if !ok {
		return nil, errs.Newf(errs.ErrActorNotFound, "no actor %s", id)
	}
	return p.s.refTo(a), nil
}

func (p *embeddedPlane) kill(ctx context.Context, ref *Ref, restart bool) error {
	a := ref.a
	if a == nil {
		var err error
		if ref, err = p.byID(ctx, ref.ID()); err != nil {
			return err
		}
		a = ref.a
	}
	a.Kill(killCause(restart), restart, false)
	return nil
}

func (p *embeddedPlane) listActors(_ context.Context, filters map[string]string) ([]ActorInfo, error) {
	pid := os.Getpid()
	var out []ActorInfo
	for _, a := range p.ctrl.AllActors() {
		in := a.Info()
		info := ActorInfo{
			ID: in.ID, Class: in.Class, State: State(in.State), Job: in.Job, Name: in.Name,
			Namespace: in.Namespace, Resources: in.Resources, Restarts: in.Restarts,
			Detached: in.Detached, PendingReason: in.PendingReason,
			PendingCalls: in.Pending, RunningCalls: in.Running,
		}
		if n := p.ctrl.NodeOf(a); n != nil {
			info.Node, info.PID = n.ID, pid
		}
		if in.State == node.Dead {
			info.DeathCause = in.Cause.String()
		}
		if matches(&info, filters) {
			out = append(out, info)
		}
	}
	return out, nil
}

func (p *embeddedPlane) listNodes(context.Context) ([]NodeInfo, error) {
	pid := os.Getpid()
	var out []NodeInfo
	for _, n := range p.ctrl.Nodes() {
		out = append(out, NodeInfo{
			ID: n.ID, State: "ALIVE", Head: true, PID: pid,
			Total: n.Total, Available: n.Free, Labels: n.Labels, Classes: n.Classes,
		})
	}
	return out, nil
}

func (p *embeddedPlane) listJobs(context.Context) ([]JobInfo, error) {
	s := p.s
	return []JobInfo{{ID: s.job, Namespace: s.namespace, State: "RUNNING", PID: os.Getpid()}}, nil
}

func (p *embeddedPlane) createGroup(_ context.Context, bundles []resources.Set, strategy actorv1.PlacementStrategy) (string, error) {
	return p.ctrl.CreateGroup(bundles, strategy)
}

func (p *embeddedPlane) groupInfo(_ context.Context, id string) (PlacementGroupInfo, error) {
	g, err := p.ctrl.Group(id)
	if err != nil {
		return PlacementGroupInfo{}, err
	}
	info := PlacementGroupInfo{ID: g.ID, State: PlacementGroupPending, PendingReason: g.Reason, Nodes: g.Nodes}
	if g.Created {
		info.State = PlacementGroupCreated
	}
	return info, nil
}

func (p *embeddedPlane) removeGroup(_ context.Context, id string) error {
	return p.ctrl.RemoveGroup(id)
}

func (p *embeddedPlane) invoke(_ *caller.Target, c *node.Call) {
	c.Fail(errs.Newf(errs.ErrSystemClosed, "not connected to a cluster"))
}

func (p *embeddedPlane) ownerless() bool { return false }

func (p *embeddedPlane) submitDurable(ref *DurableRef, c *node.Call) { p.s.durable.submitLocal(ref, c) }

func (p *embeddedPlane) releaseDurable(*activation) {}

// reachDurable: every activation is local, so the class must be too.
func (p *embeddedPlane) reachDurable(class string) error {
	if !p.s.node.Hosts(class) {
		return errs.Newf(errs.ErrUnknownClass, "durable actor class %s is not registered on node %s", class, p.s.node.ID)
	}
	return nil
}

func (p *embeddedPlane) close(context.Context) error { return nil }

// waitingActors: a pending actor waits in the node's own table.
func (p *embeddedPlane) waitingActors() []telemetry.ActorSample { return nil }

// resources reports the node's resources for the resources gauge.
func (p *embeddedPlane) resources() []telemetry.ResourceSample {
	var out []telemetry.ResourceSample
	for _, n := range p.ctrl.Nodes() {
		for name, total := range n.Total {
			out = append(out, telemetry.ResourceSample{Name: name, Total: total, Used: total - n.Free[name]})
		}
	}
	return out
}
