package actor

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/cluster/caller"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
)

// clusterPlane is the control plane of a system in a cluster: the head,
// reached through its client. A driver's plane also heartbeats its job.
type clusterPlane struct {
	s      *System
	client *caller.Client
	driver bool
	total  resources.Set // this node's
	// gauges is a cluster node's view of the head for its gauges: its
	// free resources as the head counts them and, on the head, the
	// actors waiting for a node.
	gauges atomic.Pointer[telemetry.Source]
	stop   context.CancelFunc
	done   chan struct{}
}

// newClusterPlane returns the plane of s, whose node has total, on the
// cluster client reaches; as a driver's, once startJob is called.
func newClusterPlane(s *System, total resources.Set, client *caller.Client, driver bool) *clusterPlane {
	return &clusterPlane{s: s, client: client, driver: driver, total: total}
}

// startJob heartbeats the driver's job, s.job, every interval until
// close.
func (p *clusterPlane) startJob(interval time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	p.stop, p.done = cancel, make(chan struct{})
	go p.jobHeartbeat(ctx, interval)
}

func (p *clusterPlane) close(ctx context.Context) error {
	if p.stop != nil {
		p.stop()
		<-p.done
	}
	var err error
	if p.driver && p.s.job != "" {
		_, err = p.client.Head.EndJob(ctx, connect.NewRequest(&actorv1.EndJobRequest{JobId: p.s.job}))
	}
	p.client.Close()
	return err
}

// jobHeartbeat tells the head that the driver lives until ctx ends.
func (p *clusterPlane) jobHeartbeat(ctx context.Context, interval time.Duration) {
	defer close(p.done)
	cluster.Beat(ctx, interval, func(ctx context.Context) bool {
		res, err := p.client.Head.JobHeartbeat(ctx, connect.NewRequest(&actorv1.JobHeartbeatRequest{JobId: p.s.job}))
		if err == nil && res.Msg.GetEnded() {
			p.s.log.Warn("the head ended this job: its owned actors are dead", "job_id", p.s.job)
		}
		return true
	})
}

// refFor returns a reference to the actor in, on the local path when it
// lives in this process.
func (p *clusterPlane) refFor(in *actorv1.ActorInfo) *Ref {
	s := p.s
	if in.GetNodeId() == s.node.ID {
		if a, ok := s.node.Actor(in.GetActorId()); ok {
			return s.refTo(a)
		}
	}
	return &Ref{sys: s, r: caller.NewTarget(in)}
}

func (p *clusterPlane) spawn(ctx context.Context, class *node.Class, spec *node.Spec, init proto.Message) (*Ref, error) {
	body, err := proto.Marshal(init)
	if err != nil {
		return nil, errs.New(errs.ErrInvalidOption, err)
	}
	job, owner := p.s.job, ""
	if a := node.ActorFrom(ctx); a != nil {
		job, owner = a.Job, a.ID
	}
	res, err := p.client.Head.SpawnActor(ctx, connect.NewRequest(&actorv1.SpawnActorRequest{
		Class: class.Name, Spec: cluster.SpecToProto(*spec), Init: body, JobId: job, OwnerActorId: owner}))
	if err != nil {
		return nil, err
	}
	if in := res.Msg.GetActor(); in.GetNodeAddress() == "" && in.GetPendingReason() != "" {
		p.s.log.Warn("actor waits for a node", "actor_id", in.GetActorId(), "class", in.GetClass(), "reason", in.GetPendingReason())
	}
	return p.refFor(res.Msg.GetActor()), nil
}

func (p *clusterPlane) lookup(ctx context.Context, namespace, name string) (*Ref, error) {
	res, err := p.client.Head.GetActor(ctx, connect.NewRequest(&actorv1.GetActorRequest{Namespace: namespace, Name: name}))
	if err != nil {
		return nil, err
	}
	return p.refFor(res.Msg.GetActor()), nil
}

func (p *clusterPlane) byID(ctx context.Context, id string) (*Ref, error) {
	res, err := p.client.Head.GetActor(ctx, connect.NewRequest(&actorv1.GetActorRequest{ActorId: id}))
	if err != nil {
		return nil, err
	}
	return p.refFor(res.Msg.GetActor()), nil
}

func (p *clusterPlane) kill(ctx context.Context, ref *Ref, restart bool) error {
	_, err := p.client.Head.KillActor(ctx, connect.NewRequest(&actorv1.KillActorRequest{ActorId: ref.ID(), NoRestart: !restart}))
	return err
}

func (p *clusterPlane) listActors(ctx context.Context, filters map[string]string) ([]ActorInfo, error) {
	res, err := p.client.Head.ListActors(ctx, connect.NewRequest(&actorv1.ListActorsRequest{Filters: filters}))
	if err != nil {
		return nil, err
	}
	out := make([]ActorInfo, 0, len(res.Msg.GetActors()))
	for _, in := range res.Msg.GetActors() {
		info := ActorInfo{
			ID: in.GetActorId(), Class: in.GetClass(), State: State(cluster.StateFromProto(in.GetState())), Job: in.GetJobId(),
			Name: in.GetName(), Node: in.GetNodeId(), PID: int(in.GetPid()), Namespace: in.GetNamespace(),
			Resources: in.GetSpec().GetResources(), Restarts: int(in.GetRestarts()), Detached: in.GetDetached(),
			PendingReason: in.GetPendingReason(),
			PendingCalls:  int(in.GetPendingCalls()), RunningCalls: int(in.GetRunningCalls()),
		}
		if info.State == Dead {
			info.DeathCause = cluster.CauseFromProto(in.GetDeathCause()).String()
		}
		out = append(out, info)
	}
	return out, nil
}

func (p *clusterPlane) listNodes(ctx context.Context) ([]NodeInfo, error) {
	res, err := p.client.Head.ListNodes(ctx, connect.NewRequest(&actorv1.ListNodesRequest{}))
	if err != nil {
		return nil, err
	}
	out := make([]NodeInfo, 0, len(res.Msg.GetNodes()))
	for _, n := range res.Msg.GetNodes() {
		out = append(out, NodeInfo{
			ID: n.GetNodeId(), Address: n.GetAddress(),
			State: strings.TrimPrefix(n.GetState().String(), "NODE_STATE_"),
			Head:  n.GetIsHead(), PID: int(n.GetPid()),
			Total: n.GetTotal(), Available: n.GetAvailable(), Labels: n.GetLabels(), Classes: n.GetClasses(),
		})
	}
	return out, nil
}

func (p *clusterPlane) listJobs(ctx context.Context) ([]JobInfo, error) {
	res, err := p.client.Head.ListJobs(ctx, connect.NewRequest(&actorv1.ListJobsRequest{}))
	if err != nil {
		return nil, err
	}
	out := make([]JobInfo, 0, len(res.Msg.GetJobs()))
	for _, j := range res.Msg.GetJobs() {
		out = append(out, JobInfo{
			ID: j.GetJobId(), Namespace: j.GetNamespace(),
			State: strings.TrimPrefix(j.GetState().String(), "JOB_STATE_"), PID: int(j.GetPid()),
		})
	}
	return out, nil
}

func (p *clusterPlane) createGroup(ctx context.Context, bundles []resources.Set, strategy actorv1.PlacementStrategy) (string, error) {
	req := &actorv1.CreatePlacementGroupRequest{Strategy: strategy, JobId: p.s.job}
	for _, s := range bundles {
		req.Bundles = append(req.Bundles, &actorv1.Bundle{Resources: s.Float()})
	}
	res, err := p.client.Head.CreatePlacementGroup(ctx, connect.NewRequest(req))
	if err != nil {
		return "", err
	}
	return res.Msg.GetGroup().GetPlacementGroupId(), nil
}

func (p *clusterPlane) groupInfo(ctx context.Context, id string) (PlacementGroupInfo, error) {
	res, err := p.client.Head.GetPlacementGroup(ctx, connect.NewRequest(&actorv1.GetPlacementGroupRequest{PlacementGroupId: id}))
	if err != nil {
		return PlacementGroupInfo{}, err
	}
	g := res.Msg.GetGroup()
	if g.GetState() == actorv1.PlacementGroupState_PLACEMENT_GROUP_STATE_REMOVED {
		return PlacementGroupInfo{}, errs.Newf(errs.ErrActorNotFound, "placement group %s was removed", id)
	}
	info := PlacementGroupInfo{ID: g.GetPlacementGroupId(), State: PlacementGroupPending, PendingReason: g.GetPendingReason()}
	if g.GetState() == actorv1.PlacementGroupState_PLACEMENT_GROUP_STATE_CREATED {
		info.State = PlacementGroupCreated
		for _, b := range g.GetBundles() {
			info.Nodes = append(info.Nodes, b.GetNodeId())
		}
	}
	return info, nil
}

func (p *clusterPlane) removeGroup(ctx context.Context, id string) error {
	_, err := p.client.Head.RemovePlacementGroup(ctx, connect.NewRequest(&actorv1.RemovePlacementGroupRequest{PlacementGroupId: id}))
	return err
}

// invoke carries a call to the node hosting the actor t names. The call
// is queued on the node's stream before invoke returns, so one caller's
// calls reach the node in the order it made them.
func (p *clusterPlane) invoke(t *caller.Target, c *node.Call) {
	var md map[string]string
	if p.s.tel.Tracing() {
		md = p.s.tel.Inject(c.Ctx)
	}
	if p.s.pendingTimeout > 0 && t.Node() == "" {
		p.invokePending(t, c, md)
		return
	}
	c.Remote = p.client.Invoke(c.Ctx, t, c.Method, c.Req, md, c)
}

func (p *clusterPlane) ownerless() bool { return !p.driver }

func (p *clusterPlane) waitingActors() []telemetry.ActorSample {
	if g := p.gauges.Load(); g != nil && g.Actors != nil {
		return g.Actors()
	}
	return nil
}

// resources reports this node's resources for the resources gauge: what
// it declares, and what the head counts as held on it (before the node
// has heard from the head: what the live actors it hosts hold).
func (p *clusterPlane) resources() []telemetry.ResourceSample {
	if g := p.gauges.Load(); g != nil && g.Resources != nil {
		return g.Resources()
	}
	used := resources.Set{}
	for _, a := range p.s.node.Actors() {
		if a.State() != node.Dead {
			used.Add(a.Spec.Resources)
		}
	}
	out := make([]telemetry.ResourceSample, 0, len(p.total))
	for name, total := range p.total.Float() {
		out = append(out, telemetry.ResourceSample{Name: name, Total: total, Used: used.Float()[name]})
	}
	return out
}
