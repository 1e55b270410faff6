package head

import (
	"context"
	"fmt"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/control"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// RegisterNode adds or refreshes a node with the actors it hosts. Actors
// the head placed on it that it no longer hosts are lost.
func (h *Head) RegisterNode(ctx context.Context, req *connect.Request[actorv1.RegisterNodeRequest]) (*connect.Response[actorv1.RegisterNodeResponse], error) {
	ni := proto.Clone(req.Msg.GetNode()).(*actorv1.NodeInfo)
	if ni.GetNodeId() == "" || ni.GetAddress() == "" {
		return nil, errs.Newf(errs.ErrInvalidOption, "RegisterNode: node id and address are required")
	}
	total, err := resources.FromFloat(ni.GetTotal())
	if err != nil {
		return nil, errs.New(errs.ErrInvalidOption, err)
	}
	ni.State = actorv1.NodeState_NODE_STATE_ALIVE
	h.mu.Lock()
	var w write
	var todo []func()
	n := &headNode{info: ni, Ledger: control.NewLedger(total), lastSeen: time.Now()}
	h.nodes[ni.GetNodeId()] = n
	h.pgs.Reserve(ni.GetNodeId(), &n.Ledger)
	hosted := map[string]*actorv1.HostedActor{}
	for _, ha := range req.Msg.GetActors() {
		hosted[ha.GetActorId()] = ha
	}
	for _, a := range h.actors.order {
		in := a.info()
		if a.dead() || in.GetNodeId() != ni.GetNodeId() {
			continue
		}
		if ha, ok := hosted[in.GetActorId()]; ok || a.creating {
			n.Take(h.nodeCostLocked(&a.spec))
			in.NodeAddress, in.Pid = ni.GetAddress(), ni.GetPid()
			if ok {
				todo = append(todo, h.updateLocked(a, ha, &w)...)
			}
			continue
		}
		todo = append(todo, h.lostLocked(a, &w, errs.Cause{Kind: errs.CauseNodeLost, Message: fmt.Sprintf("node %s restarted without it", ni.GetNodeId())})...)
	}
	var stale []string
	for id, ha := range hosted {
		a := h.actors.byID[id]
		if ha.GetState() != actorv1.ActorState_ACTOR_STATE_DEAD && (a == nil || a.dead() || a.info().GetNodeId() != ni.GetNodeId()) {
			stale = append(stale, id)
		}
	}
	n.info.Available = n.Free().Float()
	w.nodes = append(w.nodes, ni)
	todo = append(todo, h.placePendingLocked(&w)...)
	stored := h.persistLocked(&w)
	res := &actorv1.RegisterNodeResponse{HeartbeatIntervalMs: h.cfg.HeartbeatInterval.Milliseconds(), StaleActorIds: stale,
		ClusterId: h.clusterID, Available: n.Free().Float()}
	h.mu.Unlock()
	h.run(todo)
	if err := written(ctx, stored); err != nil {
		return nil, err
	}
	return connect.NewResponse(res), nil
}

// updateLocked applies a node's report of one of its actors.
func (h *Head) updateLocked(a *headActor, ha *actorv1.HostedActor, w *write) []func() {
	in := a.info()
	if a.dead() {
		return nil
	}
	a.running, a.pending = ha.GetRunningCalls(), ha.GetPendingCalls()
	if ha.GetState() == actorv1.ActorState_ACTOR_STATE_DEAD {
		if ha.GetRestarts() > in.GetRestarts() {
			in.Restarts = ha.GetRestarts()
		}
		cause := cluster.CauseFromProto(ha.GetDeathCause())
		if cause.Kind == errs.CauseNodeLost {
			// Its node is shutting down: elsewhere, it may live on.
			if n := h.nodes[in.GetNodeId()]; n != nil && n.alive() {
				n.Give(h.nodeCostLocked(&a.spec))
			}
			return h.lostLocked(a, w, cause)
		}
		return h.deadLocked(a, w, cause)
	}
	if stale(ha, in) {
		return nil // an older report overtaken by a newer one (reports travel apart)
	}
	if in.GetState() != ha.GetState() || in.GetRestarts() != ha.GetRestarts() {
		in.State, in.Restarts = ha.GetState(), ha.GetRestarts()
		if in.State != actorv1.ActorState_ACTOR_STATE_PENDING_CREATION {
			in.PendingReason = ""
		}
		w.actors = append(w.actors, a.rec)
	}
	return nil
}

// stale says a live actor's report is older than what the head knows. A
// node's reports and heartbeats travel on requests of their own, so one
// can overtake another; an actor's life on its node only moves forward —
// restarts grow, and within one life it is pending or restarting, then
// alive — so an older report is one earlier in that order.
func stale(ha *actorv1.HostedActor, in *actorv1.ActorInfo) bool {
	if ha.GetRestarts() != in.GetRestarts() {
		return ha.GetRestarts() < in.GetRestarts()
	}
	return lifeStep(ha.GetState()) < lifeStep(in.GetState())
}

func lifeStep(s actorv1.ActorState) int {
	switch s {
	case actorv1.ActorState_ACTOR_STATE_ALIVE:
		return 2
	case actorv1.ActorState_ACTOR_STATE_RESTARTING:
		return 1
	}
	return 0
}

// Heartbeat records that a node lives and the states of its actors.
func (h *Head) Heartbeat(ctx context.Context, req *connect.Request[actorv1.HeartbeatRequest]) (*connect.Response[actorv1.HeartbeatResponse], error) {
	h.mu.Lock()
	n := h.nodes[req.Msg.GetNodeId()]
	if n == nil || !n.alive() {
		h.mu.Unlock()
		return connect.NewResponse(&actorv1.HeartbeatResponse{Reregister: true, ClusterId: h.clusterID}), nil
	}
	n.lastSeen = time.Now()
	var w write
	var todo []func()
	for _, ha := range req.Msg.GetActors() {
		if a := h.actors.byID[ha.GetActorId()]; a != nil && a.info().GetNodeId() == n.info.GetNodeId() {
			todo = append(todo, h.updateLocked(a, ha, &w)...)
		}
	}
	if len(todo) > 0 || len(w.actors) > 0 {
		todo = append(todo, h.placePendingLocked(&w)...)
	}
	stored := h.persistLocked(&w)
	res := &actorv1.HeartbeatResponse{ClusterId: h.clusterID, Available: n.Free().Float()}
	h.mu.Unlock()
	h.run(todo)
	if err := written(ctx, stored); err != nil {
		return nil, err
	}
	return connect.NewResponse(res), nil
}

// ReportActor applies one actor's change of state at once.
func (h *Head) ReportActor(ctx context.Context, req *connect.Request[actorv1.ReportActorRequest]) (*connect.Response[actorv1.ReportActorResponse], error) {
	ha := req.Msg.GetActor()
	h.mu.Lock()
	var w write
	var todo []func()
	if a := h.actors.byID[ha.GetActorId()]; a != nil && a.info().GetNodeId() == req.Msg.GetNodeId() {
		todo = h.updateLocked(a, ha, &w)
		todo = append(todo, h.placePendingLocked(&w)...)
	}
	stored := h.persistLocked(&w)
	h.mu.Unlock()
	h.run(todo)
	if err := written(ctx, stored); err != nil {
		return nil, err
	}
	return connect.NewResponse(&actorv1.ReportActorResponse{}), nil
}

// RegisterJob starts a job.
func (h *Head) RegisterJob(ctx context.Context, req *connect.Request[actorv1.RegisterJobRequest]) (*connect.Response[actorv1.RegisterJobResponse], error) {
	ns := req.Msg.GetNamespace()
	if ns == "" {
		ns = "default"
	}
	j := &headJob{info: &actorv1.JobInfo{JobId: h.cfg.NewID(), Namespace: ns, State: actorv1.JobState_JOB_STATE_RUNNING, Pid: req.Msg.GetPid()}, lastSeen: time.Now()}
	h.mu.Lock()
	h.jobs[j.info.GetJobId()] = j
	stored := h.persistLocked(&write{jobs: []*actorv1.JobInfo{j.info}})
	h.mu.Unlock()
	if err := written(ctx, stored); err != nil {
		return nil, err
	}
	return connect.NewResponse(&actorv1.RegisterJobResponse{JobId: j.info.GetJobId(), HeartbeatIntervalMs: h.cfg.HeartbeatInterval.Milliseconds()}), nil
}

// JobHeartbeat records that a driver lives.
func (h *Head) JobHeartbeat(_ context.Context, req *connect.Request[actorv1.JobHeartbeatRequest]) (*connect.Response[actorv1.JobHeartbeatResponse], error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	j := h.jobs[req.Msg.GetJobId()]
	if j == nil {
		return nil, errs.Newf(errs.ErrActorNotFound, "no job %s", req.Msg.GetJobId())
	}
	j.lastSeen = time.Now()
	return connect.NewResponse(&actorv1.JobHeartbeatResponse{Ended: j.info.GetState() == actorv1.JobState_JOB_STATE_ENDED}), nil
}

// EndJob ends a job: its actors that are not detached die.
func (h *Head) EndJob(ctx context.Context, req *connect.Request[actorv1.EndJobRequest]) (*connect.Response[actorv1.EndJobResponse], error) {
	h.mu.Lock()
	j := h.jobs[req.Msg.GetJobId()]
	if j == nil {
		h.mu.Unlock()
		return nil, errs.Newf(errs.ErrActorNotFound, "no job %s", req.Msg.GetJobId())
	}
	var w write
	ends := h.endJobLocked(j, &w)
	place := h.placePendingLocked(&w)
	stored := h.persistLocked(&w)
	h.mu.Unlock()
	h.run(place)
	if err := written(ctx, stored); err != nil {
		return nil, err
	}
	// EndJob returns once the nodes have ended the job's actors (their Stop
	// hooks run), or when ctx ends: a driver's Shutdown waits for its
	// actors, as on an embedded node.
	h.runWait(ctx, ends)
	return connect.NewResponse(&actorv1.EndJobResponse{}), nil
}

// SpawnActor creates an actor and, when a node fits it, has that node
// create it before answering, so calls made next find it there.
func (h *Head) SpawnActor(ctx context.Context, req *connect.Request[actorv1.SpawnActorRequest]) (*connect.Response[actorv1.SpawnActorResponse], error) {
	m := req.Msg
	spec, err := cluster.SpecFromProto(m.GetSpec())
	if err != nil {
		return nil, err
	}
	if spec.Namespace == "" {
		spec.Namespace = "default"
	}
	class := m.GetClass()
	h.mu.Lock()
	if a := h.actors.spawns[m.GetRequestId()]; a != nil && m.GetRequestId() != "" {
		// Sent again: the first attempt created it.
		defer h.mu.Unlock()
		return connect.NewResponse(&actorv1.SpawnActorResponse{Actor: h.infoLocked(a)}), nil
	}
	if old, ok := h.names.Live(spec.Namespace, spec.Name); ok && spec.Name != "" {
		defer h.mu.Unlock()
		if err := control.Taken(&spec, class, old.info().GetActorId(), old.info().GetClass()); err != nil {
			return nil, err
		}
		return connect.NewResponse(&actorv1.SpawnActorResponse{Actor: h.infoLocked(old), Existed: true}), nil
	}
	host, reason, feasible := h.chooseLocked(class, &spec)
	if host == nil && !feasible && spec.NodeAffinity != "" && !spec.AffinitySoft {
		h.mu.Unlock()
		return nil, errs.Newf(errs.ErrUnschedulable, "actor %s: %s", class, reason)
	}
	if host == nil && !feasible && spec.PlacementGroup != "" {
		// The group's bundles are laid on their nodes: an actor they can
		// never hold can never be placed, as on an embedded node.
		h.mu.Unlock()
		return nil, errs.Newf(errs.ErrInfeasible, "actor %s can never be placed: %s", class, reason)
	}
	if j := h.jobs[m.GetJobId()]; j != nil && j.info.GetState() == actorv1.JobState_JOB_STATE_ENDED && !spec.Detached {
		h.mu.Unlock()
		return nil, errs.Newf(errs.ErrSystemClosed, "job %s has ended", m.GetJobId())
	}
	pspec := cluster.SpecToProto(spec)
	in := &actorv1.ActorInfo{
		ActorId: h.cfg.NewID(), Class: class, State: actorv1.ActorState_ACTOR_STATE_PENDING_CREATION,
		JobId: m.GetJobId(), Name: spec.Name, Namespace: spec.Namespace, Detached: spec.Detached,
		OwnerActorId: m.GetOwnerActorId(), Spec: pspec, CreatedUnixNano: time.Now().UnixNano(),
	}
	if spec.Detached {
		in.OwnerActorId = ""
	}
	a := &headActor{rec: &actorv1.ActorRecord{Info: in, Init: m.GetInit(), SpawnRequestId: m.GetRequestId()}, spec: spec}
	h.actors.add(a)
	h.names.Bind(&spec, a)
	var w write
	w.actors = append(w.actors, a.rec)
	var create func()
	done := make(chan error, 1)
	if host != nil {
		create = h.assignLocked(a, host, &w, done)
	} else {
		in.PendingReason = reason
		h.cfg.Log.Warn("actor waits for a node", "actor_id", in.ActorId, "class", class, "reason", reason)
	}
	stored := h.persistLocked(&w)
	h.mu.Unlock()
	if err := written(ctx, stored); err != nil {
		return nil, err
	}
	if create != nil {
		h.calls.Add(1)
		go func() {
			defer h.calls.Done()
			create()
		}()
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
	h.mu.Lock()
	out := h.infoLocked(a)
	h.mu.Unlock()
	return connect.NewResponse(&actorv1.SpawnActorResponse{Actor: out}), nil
}

// GetActor finds an actor by id (a live one, or a dead one the head
// retains), or the live actor bound to a name.
func (h *Head) GetActor(_ context.Context, req *connect.Request[actorv1.GetActorRequest]) (*connect.Response[actorv1.GetActorResponse], error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := req.Msg
	if m.GetActorId() != "" {
		a := h.actors.byID[m.GetActorId()]
		if a == nil {
			return nil, errs.Newf(errs.ErrActorNotFound, "no actor %s (never spawned, or dead and evicted from the dead actors the head retains)", m.GetActorId())
		}
		return connect.NewResponse(&actorv1.GetActorResponse{Actor: h.infoLocked(a)}), nil
	}
	ns := m.GetNamespace()
	if ns == "" {
		ns = "default"
	}
	a, ok := h.names.Live(ns, m.GetName())
	if !ok {
		return nil, errs.Newf(errs.ErrActorNotFound, "no live actor named %q in namespace %q", m.GetName(), ns)
	}
	return connect.NewResponse(&actorv1.GetActorResponse{Actor: h.infoLocked(a)}), nil
}

// KillActor kills an actor: for good with no_restart, else restarted by
// its node if it has restarts left. An actor still waiting for a node is
// never created with no_restart; without, it spends a restart and waits
// again, or dies when it has none left, as on an embedded node.
func (h *Head) KillActor(ctx context.Context, req *connect.Request[actorv1.KillActorRequest]) (*connect.Response[actorv1.KillActorResponse], error) {
	h.mu.Lock()
	a := h.actors.byID[req.Msg.GetActorId()]
	if a == nil {
		h.mu.Unlock()
		return nil, errs.Newf(errs.ErrActorNotFound, "no actor %s", req.Msg.GetActorId())
	}
	msg := "killed by Kill"
	if req.Msg.GetNoRestart() {
		msg += " (no restart)"
	}
	cause := errs.Cause{Kind: errs.CauseKilled, Message: msg}
	var w write
	var todo []func()
	var stop func() // the node's kill of the actor, which Kill waits for
	switch {
	case a.dead():
	case req.Msg.GetNoRestart():
		stop = h.stopOnNodeLocked(a, cause, false, false)
		todo = h.deadLocked(a, &w, cause)
		todo = append(todo, h.placePendingLocked(&w)...)
	case a.info().GetNodeAddress() == "":
		// Not placed yet: it spends a restart and waits for a node again.
		if in := a.info(); a.spec.MaxRestarts == -1 || int(in.GetRestarts()) < a.spec.MaxRestarts {
			in.Restarts++
			w.actors = append(w.actors, a.rec)
			break
		}
		todo = h.deadLocked(a, &w, cause)
		todo = append(todo, h.placePendingLocked(&w)...)
	default:
		stop = h.stopOnNodeLocked(a, cause, true, false)
	}
	stored := h.persistLocked(&w)
	h.mu.Unlock()
	h.run(todo)
	if err := written(ctx, stored); err != nil {
		return nil, err
	}
	if stop != nil {
		// Kill returns once the node has stopped the actor, so that a call
		// made after it cannot reach the instance it killed.
		h.runWait(ctx, []func(){stop})
	}
	return connect.NewResponse(&actorv1.KillActorResponse{}), nil
}

// ListActors lists the actors, oldest first, filtered by column: the live
// ones and the dead ones the head retains (Config.DeadActorRetention).
func (h *Head) ListActors(_ context.Context, req *connect.Request[actorv1.ListActorsRequest]) (*connect.Response[actorv1.ListActorsResponse], error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := &actorv1.ListActorsResponse{}
	for _, a := range h.actors.order {
		if a.evicted {
			continue
		}
		in := h.infoLocked(a)
		if matches(in, req.Msg.GetFilters()) {
			out.Actors = append(out.Actors, in)
		}
	}
	return connect.NewResponse(out), nil
}

func matches(in *actorv1.ActorInfo, filters map[string]string) bool {
	for k, v := range filters {
		var got string
		switch strings.ToLower(k) {
		case "id":
			got = in.GetActorId()
		case "class":
			got = in.GetClass()
		case "state":
			got = strings.TrimPrefix(in.GetState().String(), "ACTOR_STATE_")
		case "job":
			got = in.GetJobId()
		case "name":
			got = in.GetName()
		case "node":
			got = in.GetNodeId()
		case "namespace":
			got = in.GetNamespace()
		default:
			return false
		}
		if got != v {
			return false
		}
	}
	return true
}

// ListNodes lists the nodes with their resources.
func (h *Head) ListNodes(context.Context, *connect.Request[actorv1.ListNodesRequest]) (*connect.Response[actorv1.ListNodesResponse], error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := &actorv1.ListNodesResponse{Nodes: h.nodes.list()}
	return connect.NewResponse(out), nil
}

// ListJobs lists the jobs.
func (h *Head) ListJobs(context.Context, *connect.Request[actorv1.ListJobsRequest]) (*connect.Response[actorv1.ListJobsResponse], error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := &actorv1.ListJobsResponse{Jobs: h.jobs.list()}
	return connect.NewResponse(out), nil
}
