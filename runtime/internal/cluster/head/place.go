package head

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/control"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// placePendingLocked places every waiting actor that fits now.
func (h *Head) placePendingLocked(w *write) []func() {
	h.placeGroupsLocked()
	var todo []func()
	for _, a := range h.actors.order {
		in := a.info()
		if a.dead() || a.creating || in.GetNodeId() != "" {
			continue
		}
		host, reason, feasible := h.chooseLocked(in.GetClass(), &a.spec)
		if host == nil {
			if !feasible && a.spec.NodeAffinity != "" && !a.spec.AffinitySoft {
				reason = "unschedulable: " + reason
			}
			if in.GetPendingReason() != reason {
				in.PendingReason = reason
				w.actors = append(w.actors, a.rec)
			}
			continue
		}
		todo = append(todo, h.assignLocked(a, host, w, nil))
	}
	return todo
}

// assignLocked reserves host's resources for a and returns the request
// that creates it there. done, if set, is called with the outcome.
func (h *Head) assignLocked(a *headActor, host *headNode, w *write, done chan<- error) func() {
	in := a.info()
	host.Take(h.nodeCostLocked(&a.spec))
	in.NodeId, in.NodeAddress, in.Pid = host.info.GetNodeId(), host.info.GetAddress(), host.info.GetPid()
	in.PendingReason = ""
	a.creating = true
	a.running, a.pending = 0, 0
	w.actors = append(w.actors, a.rec)
	req := &actorv1.CreateActorRequest{Actor: proto.Clone(in).(*actorv1.ActorInfo), Init: a.rec.GetInit()}
	c := h.client(host.info.GetAddress())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := c.CreateActor(ctx, connect.NewRequest(req))
		h.mu.Lock()
		a.creating = false
		var w write
		if err == nil && a.dead() {
			// Killed while its node created it: the kill may have
			// reached the node first.
			cause := a.info().GetDeathCause()
			h.run([]func(){func() {
				kctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_, _ = c.KillActor(kctx, connect.NewRequest(&actorv1.NodeServiceKillActorRequest{ActorId: in.GetActorId(), Cause: cause}))
			}})
		}
		if err != nil && !a.dead() && a.info().GetNodeId() == req.GetActor().GetNodeId() {
			h.cfg.Log.Warn("creating an actor on its node failed; it waits for another placement",
				"actor_id", in.GetActorId(), "node_id", req.GetActor().GetNodeId(), "error", err)
			if n := h.nodes[req.GetActor().GetNodeId()]; n != nil && n.alive() {
				n.Give(h.nodeCostLocked(&a.spec))
			}
			in.NodeId, in.NodeAddress, in.Pid = "", "", 0
			in.PendingReason = fmt.Sprintf("creation on node %s failed: %v", req.GetActor().GetNodeId(), err)
			w.actors = append(w.actors, a.rec)
		}
		h.persistLocked(&w)
		h.mu.Unlock()
		if done != nil {
			done <- err
		}
	}
}

// chooseLocked picks a live node for an actor of class with spec, by the
// placement rules the embedded node uses too (control.Choose). With none,
// it says why, and whether a live node could ever fit (feasible).
func (h *Head) chooseLocked(class string, spec *node.Spec) (host *headNode, reason string, feasible bool) {
	if spec.PlacementGroup != "" {
		return h.chooseInGroupLocked(class, spec)
	}
	load := h.actors.load()
	live := h.nodes.open()
	cands := make([]control.Candidate, len(live))
	for i, n := range live {
		id := n.info.GetNodeId()
		cands[i] = control.Candidate{ID: id, Hosts: hostsClass(n.info, class), Labels: n.info.GetLabels(),
			Total: n.Total, Avail: n.Free(), Load: load[id]}
	}
	i, reason, feasible := control.Choose(cands, class, spec, &h.next)
	if i < 0 {
		return nil, reason, feasible
	}
	return live[i], "", true
}

func hostsClass(n *actorv1.NodeInfo, class string) bool {
	for _, c := range n.GetClasses() {
		if c == class {
			return true
		}
	}
	return false
}
