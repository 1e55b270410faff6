package agent

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// Agent is a node's side of the cluster: it creates and kills the actors
// the head places on the node (actor.v1.NodeService), runs the calls that
// arrive on the node's streams, and heartbeats to the head with the states
// of its actors.
type Agent struct {
	actorv1connect.UnimplementedNodeServiceHandler
	node *node.Node
	info *actorv1.NodeInfo
	head actorv1connect.HeadServiceClient
	log  *slog.Logger

	durable  DurableHost // runs calls to durable actors (durable.go)
	interval time.Duration
	stop     context.CancelFunc
	wg       sync.WaitGroup
	reports  sync.WaitGroup
	// failed gets the error that puts the node out of the cluster for
	// good (agent_fail.go).
	failed chan error

	mu        sync.Mutex
	clusterID string             // the cluster the node joined
	available map[string]float64 // the node's resources no actor holds, per the head
}

// New returns the agent of n, described to the head by info (its id
// and address included). It reports n's actors' deaths as they happen.
func New(n *node.Node, info *actorv1.NodeInfo, head actorv1connect.HeadServiceClient, interval time.Duration, log *slog.Logger) *Agent {
	a := &Agent{node: n, info: info, head: head, log: log, interval: interval, failed: make(chan error, 1)}
	a.info.Classes = n.Classes()
	a.info.Pid = int64(os.Getpid())
	prev := n.OnDead
	n.OnDead = func(act *node.Actor) {
		if prev != nil {
			prev(act)
		}
		a.report(act)
	}
	n.OnAlive = a.report
	return a
}

// Start registers the node with the head (retrying until ctx ends, but
// not when the head rejects the node's token) and heartbeats until Stop.
func (a *Agent) Start(ctx context.Context) error {
	for {
		err := a.register(ctx)
		if err == nil {
			break
		}
		if err := outOfCluster(err); err != nil {
			return err
		}
		a.log.Warn("registering with the head failed; retrying", "error", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(a.interval):
		}
	}
	hctx, cancel := context.WithCancel(context.Background())
	a.stop = cancel
	a.wg.Add(1)
	go a.heartbeat(hctx)
	return nil
}

// Stop ends the heartbeats and waits for the reports under way.
func (a *Agent) Stop() {
	if a.stop != nil {
		a.stop()
	}
	a.wg.Wait()
	a.reports.Wait()
}

func (a *Agent) register(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := a.head.RegisterNode(ctx, connect.NewRequest(&actorv1.RegisterNodeRequest{Node: a.info, Actors: a.hosted()}))
	if err != nil {
		return err
	}
	if err := a.joined(res.Msg.GetClusterId(), res.Msg.GetAvailable()); err != nil {
		return err
	}
	if ms := res.Msg.GetHeartbeatIntervalMs(); ms > 0 && a.stop == nil {
		a.interval = time.Duration(ms) * time.Millisecond
	}
	for _, id := range res.Msg.GetStaleActorIds() {
		if act, ok := a.node.Actor(id); ok {
			a.log.Warn("stopping an actor the head moved elsewhere while this node was out of touch", "actor_id", id)
			act.Kill(errs.Cause{Kind: errs.CauseNodeLost, Message: "the head declared this node lost"}, false, false)
		}
	}
	return nil
}

func (a *Agent) heartbeat(ctx context.Context) {
	defer a.wg.Done()
	cluster.Beat(ctx, a.interval, func(bctx context.Context) bool {
		res, err := a.head.Heartbeat(bctx, connect.NewRequest(&actorv1.HeartbeatRequest{NodeId: a.info.GetNodeId(), Actors: a.hosted()}))
		if err == nil {
			err = a.joined(res.Msg.GetClusterId(), res.Msg.GetAvailable())
		}
		switch {
		case err != nil:
			if out := outOfCluster(err); out != nil {
				a.fail(out)
				return false
			}
			a.log.Debug("heartbeat to the head failed", "error", err)
		case res.Msg.GetReregister():
			if err := a.register(ctx); err != nil {
				if out := outOfCluster(err); out != nil {
					a.fail(out)
					return false
				}
				a.log.Debug("registering again with the head failed", "error", err)
			}
		}
		return true
	})
}

// hosted is the snapshot of the node's actors the head gets.
func (a *Agent) hosted() []*actorv1.HostedActor {
	actors := a.node.Actors()
	out := make([]*actorv1.HostedActor, 0, len(actors))
	for _, act := range actors {
		out = append(out, hostedOf(act))
	}
	return out
}

func hostedOf(act *node.Actor) *actorv1.HostedActor {
	in := act.Info()
	ha := &actorv1.HostedActor{ActorId: in.ID, State: cluster.StateToProto(in.State), Restarts: int32(in.Restarts),
		RunningCalls: int32(in.Running), PendingCalls: int32(in.Pending)}
	if in.State == node.Dead {
		ha.DeathCause = cluster.CauseToProto(in.Cause)
	}
	return ha
}

// report tells the head at once that an actor became ALIVE or DEAD; the
// next heartbeat repeats it if this fails.
func (a *Agent) report(act *node.Actor) {
	ha := hostedOf(act)
	a.reports.Add(1)
	go func() {
		defer a.reports.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := a.head.ReportActor(ctx, connect.NewRequest(&actorv1.ReportActorRequest{NodeId: a.info.GetNodeId(), Actor: ha}))
		if err != nil {
			a.log.Debug("reporting an actor's state failed", "actor_id", ha.GetActorId(), "error", err)
		}
	}()
}

// CreateActor creates and starts an actor the head placed on this node.
func (a *Agent) CreateActor(ctx context.Context, req *connect.Request[actorv1.CreateActorRequest]) (*connect.Response[actorv1.CreateActorResponse], error) {
	in := req.Msg.GetActor()
	if old, ok := a.node.Actor(in.GetActorId()); ok && old.State() != node.Dead {
		return connect.NewResponse(&actorv1.CreateActorResponse{}), nil // a repeated request
	}
	class, ok := a.node.Class(in.GetClass())
	if !ok {
		return nil, errs.Newf(errs.ErrUnknownClass, "actor class %s is not registered on node %s", in.GetClass(), a.node.ID)
	}
	spec, err := cluster.SpecFromProto(in.GetSpec())
	if err != nil {
		return nil, err
	}
	init := class.NewInit()
	if err := proto.Unmarshal(req.Msg.GetInit(), init); err != nil {
		return nil, errs.Newf(errs.ErrInvalidOption, "actor %s: decoding its init: %v", in.GetActorId(), err)
	}
	act, err := a.node.NewActor(ctx, in.GetActorId(), class, spec, init, in.GetJobId(), nil)
	if err != nil {
		return nil, err
	}
	act.SetRestarts(int(in.GetRestarts()))
	a.node.Place(act)
	return connect.NewResponse(&actorv1.CreateActorResponse{}), nil
}

// KillActor kills an actor hosted here.
func (a *Agent) KillActor(_ context.Context, req *connect.Request[actorv1.NodeServiceKillActorRequest]) (*connect.Response[actorv1.NodeServiceKillActorResponse], error) {
	act, ok := a.node.Actor(req.Msg.GetActorId())
	if !ok {
		return nil, errs.Newf(errs.ErrActorNotFound, "no actor %s on node %s", req.Msg.GetActorId(), a.node.ID)
	}
	act.Kill(cluster.CauseFromProto(req.Msg.GetCause()), req.Msg.GetRestart(), req.Msg.GetGraceful())
	return connect.NewResponse(&actorv1.NodeServiceKillActorResponse{}), nil
}

// Dispatch runs a call that arrived on one of the node's streams: it
// decodes the request by the procedure of the target actor's class and
// submits it to the actor's mailbox.
func (a *Agent) Dispatch(ctx context.Context, env *actorv1.CallEnvelope, reply transport.Reply) transport.Canceler {
	if strings.HasPrefix(env.GetActorId(), cluster.DurablePrefix) {
		return a.dispatchDurable(ctx, env, reply)
	}
	act, ok := a.node.Actor(env.GetActorId())
	if !ok || act.State() == node.Dead && act.Info().Cause.Kind == errs.CauseNodeLost {
		// Never here, or stopped because the head moved it elsewhere (or
		// this node shuts down): the caller asks the head again.
		reply.Send(errorResult(cluster.NotOnNodeError(env.GetActorId(), a.node.ID)))
		return nil
	}
	m, ok := act.Class.Method(env.GetProcedure())
	if !ok {
		reply.Send(errorResult(errs.Newf(errs.ErrUnknownMethod, "%s is not a method of %s", env.GetProcedure(), act.Class.Name)))
		return nil
	}
	req := m.NewRequest()
	if err := proto.Unmarshal(env.GetRequest(), req); err != nil {
		reply.Send(errorResult(connect.NewError(connect.CodeInvalidArgument, err)))
		return nil
	}
	if md := env.GetMetadata(); len(md) > 0 {
		ctx = a.node.Tel.Extract(ctx, md) // the caller's trace continues here
	}
	c := &streamCall{reply: reply}
	c.InitNotify(ctx, m, req, c)
	act.Submit(&c.Call)
	return c
}

// streamCall is a call that came over a node stream: its result goes back
// on the stream, and a cancel from the stream aborts it. One allocation
// holds the call, its reply and its result envelope.
type streamCall struct {
	node.Call
	reply transport.Reply
	res   actorv1.ResultEnvelope
}

// CallDone encodes the result and hands it to the transport, on the
// goroutine that completed the call; Send does not block.
func (c *streamCall) CallDone(*node.Call) { c.reply.Send(result(&c.Call, &c.res)) }

// Cancel aborts the call.
func (c *streamCall) Cancel() { c.Abort() }

// result encodes c's outcome: its response into into, which it returns,
// or its error into an envelope of its own.
func result(c *node.Call, into *actorv1.ResultEnvelope) *actorv1.ResultEnvelope {
	resp, err := c.Result()
	if err != nil {
		return errorResult(err)
	}
	b, err := proto.Marshal(resp)
	if err != nil {
		return errorResult(connect.NewError(connect.CodeInternal, err))
	}
	into.Response = b
	return into
}

func errorResult(err error) *actorv1.ResultEnvelope {
	return transport.ErrorEnvelope(cluster.ToWire(err))
}
