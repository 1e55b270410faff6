package head

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/errs"
)

// How actors live and die on the head: a node lost, an actor lost, dead,
// killed, ended with its job.

// nodeLostLocked declares n dead: its actors restart elsewhere when they
// have restarts left and die otherwise.
func (h *Head) nodeLostLocked(n *headNode, w *write, why string) []func() {
	n.info.State = actorv1.NodeState_NODE_STATE_DEAD
	n.info.Available = nil
	n.Reset()
	w.nodes = append(w.nodes, n.info)
	h.putGroupsLocked(h.pgs.NodeLost(n.info.GetNodeId())...)
	var todo []func()
	for _, a := range h.actors.on(n.info.GetNodeId()) {
		todo = append(todo, h.lostLocked(a, w, errs.Cause{Kind: errs.CauseNodeLost, Message: why})...)
	}
	return todo
}

// lostLocked handles an actor whose process is gone: restart on another
// node if it may, else death.
func (h *Head) lostLocked(a *headActor, w *write, cause errs.Cause) []func() {
	in := a.info()
	in.NodeId, in.NodeAddress, in.Pid = "", "", 0
	if a.spec.MaxRestarts == -1 || int(in.GetRestarts()) < a.spec.MaxRestarts {
		in.Restarts++
		in.State = actorv1.ActorState_ACTOR_STATE_RESTARTING
		in.PendingReason = "restarting after " + cause.String()
		w.actors = append(w.actors, a.rec)
		return nil
	}
	return h.deadLocked(a, w, cause)
}

// deadLocked records an actor's death: its name and resources are free,
// the actors it owns die, and the oldest dead beyond the retention are
// evicted (retain.go).
func (h *Head) deadLocked(a *headActor, w *write, cause errs.Cause) []func() {
	in := a.info()
	if a.dead() {
		return nil
	}
	if n := h.nodes.live(in.GetNodeId()); n != nil {
		n.Give(h.nodeCostLocked(&a.spec))
	}
	in.State = actorv1.ActorState_ACTOR_STATE_DEAD
	in.DeathCause = cluster.CauseToProto(cause)
	in.PendingReason = ""
	w.actors = append(w.actors, a.rec)
	h.names.Free(&a.spec, a)
	h.retireLocked(a, w)
	var todo []func()
	for _, c := range h.actors.order {
		if !c.dead() && !c.spec.Detached && c.info().GetOwnerActorId() == in.GetActorId() {
			todo = append(todo, h.killLocked(c, w, errs.Cause{Kind: errs.CauseOwnerDied, Message: fmt.Sprintf("owner actor %s died", in.GetActorId())})...)
		}
	}
	return todo
}

// killLocked kills a for good with cause: recorded dead at once, and its
// node told to stop it.
func (h *Head) killLocked(a *headActor, w *write, cause errs.Cause) []func() {
	return h.endLocked(a, w, cause, false)
}

// endLocked is killLocked, gracefully (the actor's Stop hook runs) when
// graceful is set.
func (h *Head) endLocked(a *headActor, w *write, cause errs.Cause, graceful bool) []func() {
	stop := h.stopOnNodeLocked(a, cause, false, graceful)
	todo := h.deadLocked(a, w, cause)
	if stop != nil {
		todo = append(todo, stop)
	}
	return todo
}

// stopOnNodeLocked returns the request that tells a's node to kill it
// (and restart it, with restart; running its Stop hook, with graceful), or
// nil while a is on no node.
func (h *Head) stopOnNodeLocked(a *headActor, cause errs.Cause, restart, graceful bool) func() {
	in := a.info()
	addr, id := in.GetNodeAddress(), in.GetActorId()
	if addr == "" {
		return nil
	}
	c := h.client(addr)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := c.KillActor(ctx, connect.NewRequest(&actorv1.NodeServiceKillActorRequest{ActorId: id, Restart: restart, Graceful: graceful, Cause: cluster.CauseToProto(cause)}))
		if err != nil {
			h.cfg.Log.Debug("kill on node failed", "actor_id", id, "address", addr, "error", err)
		}
	}
}

// endJobLocked ends a job: its actors that are not detached die.
func (h *Head) endJobLocked(j *headJob, w *write) []func() {
	if j.info.GetState() == actorv1.JobState_JOB_STATE_ENDED {
		return nil
	}
	j.info.State = actorv1.JobState_JOB_STATE_ENDED
	w.jobs = append(w.jobs, j.info)
	var todo []func()
	for _, a := range h.actors.order {
		if !a.dead() && !a.spec.Detached && a.info().GetJobId() == j.info.GetJobId() {
			// A job's end is graceful, as a driver's shutdown is on an
			// embedded node: the actors' Stop hooks run.
			todo = append(todo, h.endLocked(a, w, errs.Cause{Kind: errs.CauseOwnerDied, Message: fmt.Sprintf("job %s ended", j.info.GetJobId())}, true)...)
		}
	}
	return append(todo, h.removeJobGroupsLocked(j, w)...)
}
