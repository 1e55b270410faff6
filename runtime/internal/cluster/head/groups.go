package head

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/control"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// Placement groups on the head are control.Groups, the table the embedded
// node keeps too; the head adds each group's job and creation time, and
// stores the groups in their own bucket of its store.

var bucketGroups = []byte("placement_groups")

// groupMeta is what the head keeps of a group beside control's table.
type groupMeta struct {
	job     string
	created int64
}

// groupInfo describes g as the head serves and stores it.
func (h *Head) groupInfo(g *control.Group) *actorv1.PlacementGroupInfo {
	m := h.groupMeta[g.ID]
	in := &actorv1.PlacementGroupInfo{PlacementGroupId: g.ID, Strategy: g.Strategy, JobId: m.job, CreatedUnixNano: m.created,
		PendingReason: g.Reason, State: actorv1.PlacementGroupState_PLACEMENT_GROUP_STATE_PENDING}
	switch {
	case g.Removed:
		in.State = actorv1.PlacementGroupState_PLACEMENT_GROUP_STATE_REMOVED
	case g.Placed():
		in.State = actorv1.PlacementGroupState_PLACEMENT_GROUP_STATE_CREATED
	}
	for b, set := range g.Bundles {
		in.Bundles = append(in.Bundles, &actorv1.Bundle{Resources: set.Float(), NodeId: g.Nodes[b]})
	}
	return in
}

// addGroupLocked adds the group info describes (a new or a stored one).
func (h *Head) addGroupLocked(info *actorv1.PlacementGroupInfo) (*control.Group, error) {
	var bundles []resources.Set
	for i, b := range info.GetBundles() {
		set, err := resources.FromFloat(b.GetResources())
		if err != nil {
			return nil, errs.Newf(errs.ErrInvalidOption, "bundle %d: %v", i, err)
		}
		bundles = append(bundles, set)
	}
	g := control.NewGroup(info.GetPlacementGroupId(), info.GetStrategy(), bundles)
	for b, bi := range info.GetBundles() {
		g.Nodes[b] = bi.GetNodeId()
	}
	g.Reason = info.GetPendingReason()
	g.Removed = info.GetState() == actorv1.PlacementGroupState_PLACEMENT_GROUP_STATE_REMOVED
	h.pgs.Add(g)
	h.groupMeta[g.ID] = groupMeta{job: info.GetJobId(), created: info.GetCreatedUnixNano()}
	return g, nil
}

// recoverGroups adds the stored placement groups and takes their placed
// bundles out of their nodes' free pools. It runs before the actors are
// recovered.
func (h *Head) recoverGroups(infos []*actorv1.PlacementGroupInfo) {
	sort.SliceStable(infos, func(i, j int) bool { return infos[i].GetCreatedUnixNano() < infos[j].GetCreatedUnixNano() })
	for _, in := range infos {
		if _, err := h.addGroupLocked(in); err != nil {
			h.cfg.Log.Warn("head state: skipping an invalid placement group", "placement_group_id", in.GetPlacementGroupId(), "error", err)
		}
	}
	for id, n := range h.nodes {
		h.pgs.Reserve(id, &n.Ledger)
	}
}

// putGroupsLocked stores groups with the next write.
func (h *Head) putGroupsLocked(gs ...*control.Group) {
	h.dirtyGroups = append(h.dirtyGroups, gs...)
}

// nodeCostLocked is what an actor with spec takes from its node's free
// pool (control.Cost).
func (h *Head) nodeCostLocked(spec *node.Spec) resources.Set {
	return control.Cost(spec, h.pgs.Live(spec.PlacementGroup) != nil)
}

// ledgerLocked returns the ledger of node id if it is alive, else nil.
func (h *Head) ledgerLocked(id string) *control.Ledger {
	if n := h.nodes.live(id); n != nil {
		return &n.Ledger
	}
	return nil
}

// groupCandidatesLocked describes the open nodes for placing bundles.
func (h *Head) groupCandidatesLocked() []control.Candidate {
	live := h.nodes.open()
	cands := make([]control.Candidate, len(live))
	for i, n := range live {
		cands[i] = control.Candidate{ID: n.info.GetNodeId(), Labels: n.info.GetLabels(), Total: n.Total, Avail: n.Free()}
	}
	return cands
}

// placeGroupsLocked places every waiting group that fits now, oldest
// first, and stores those that changed. It runs before waiting actors are
// placed.
func (h *Head) placeGroupsLocked() {
	h.putGroupsLocked(h.pgs.PlaceWaiting(h.groupCandidatesLocked, h.ledgerLocked)...)
}

// bundleUsedLocked is what the actors placed in bundle b of group id use.
func (h *Head) bundleUsedLocked(id string, b int) resources.Set {
	used := resources.Set{}
	for _, a := range h.actors.order {
		if !a.dead() && a.spec.PlacementGroup == id && a.spec.Bundle == b && a.info().GetNodeId() != "" {
			used.Add(a.spec.Resources)
		}
	}
	return used
}

// chooseInGroupLocked picks the node of the bundle spec names, if the
// bundle has room for the actor now (control.Groups.Bundle).
func (h *Head) chooseInGroupLocked(class string, spec *node.Spec) (host *headNode, reason string, feasible bool) {
	id, reason, feasible := h.pgs.Bundle(spec, class,
		func(id string) bool { n := h.nodes[id]; return n != nil && n.open() },
		func(id string) bool { return hostsClass(h.nodes[id].info, class) },
		func() resources.Set { return h.bundleUsedLocked(spec.PlacementGroup, spec.Bundle) })
	if id == "" {
		return nil, reason, feasible
	}
	return h.nodes[id], "", true
}

// removeGroupLocked frees g's bundles, records it removed and kills the
// actors placed in it.
func (h *Head) removeGroupLocked(g *control.Group, w *write, why string) []func() {
	if g.Removed {
		return nil
	}
	h.pgs.Remove(g, h.ledgerLocked, func(b int) resources.Set { return h.bundleUsedLocked(g.ID, b) })
	h.putGroupsLocked(g)
	var todo []func()
	for _, a := range h.actors.order {
		if !a.dead() && a.spec.PlacementGroup == g.ID {
			todo = append(todo, h.killLocked(a, w, errs.Cause{Kind: errs.CauseKilled, Message: why})...)
		}
	}
	return todo
}

// removeJobGroupsLocked removes the groups of a job that ended.
func (h *Head) removeJobGroupsLocked(j *headJob, w *write) []func() {
	var todo []func()
	for _, g := range h.pgs.All() {
		if !g.Removed && h.groupMeta[g.ID].job == j.info.GetJobId() {
			todo = append(todo, h.removeGroupLocked(g, w, fmt.Sprintf("placement group %s removed: job %s ended", g.ID, j.info.GetJobId()))...)
		}
	}
	return todo
}

// CreatePlacementGroup reserves bundles on nodes by strategy. A group
// that cannot be placed now waits, with a reason.
func (h *Head) CreatePlacementGroup(ctx context.Context, req *connect.Request[actorv1.CreatePlacementGroupRequest]) (*connect.Response[actorv1.CreatePlacementGroupResponse], error) {
	m := req.Msg
	if err := control.CheckGroup(m.GetStrategy(), len(m.GetBundles())); err != nil {
		return nil, err
	}
	in := &actorv1.PlacementGroupInfo{
		PlacementGroupId: h.cfg.NewID(), Strategy: m.GetStrategy(), State: actorv1.PlacementGroupState_PLACEMENT_GROUP_STATE_PENDING,
		JobId: m.GetJobId(), CreatedUnixNano: time.Now().UnixNano(),
	}
	for _, b := range m.GetBundles() {
		in.Bundles = append(in.Bundles, &actorv1.Bundle{Resources: b.GetResources()})
	}
	h.mu.Lock()
	g, err := h.addGroupLocked(in)
	if err != nil {
		h.mu.Unlock()
		return nil, err
	}
	h.pgs.Place(g, h.groupCandidatesLocked(), h.ledgerLocked)
	h.putGroupsLocked(g)
	if !g.Placed() {
		h.cfg.Log.Warn("placement group waits", "placement_group_id", g.ID, "reason", g.Reason)
	}
	out := h.groupInfo(g)
	stored := h.persistLocked(&write{})
	h.mu.Unlock()
	if err := written(ctx, stored); err != nil {
		return nil, err
	}
	return connect.NewResponse(&actorv1.CreatePlacementGroupResponse{Group: out}), nil
}

// GetPlacementGroup returns a placement group.
func (h *Head) GetPlacementGroup(_ context.Context, req *connect.Request[actorv1.GetPlacementGroupRequest]) (*connect.Response[actorv1.GetPlacementGroupResponse], error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	g := h.pgs.Get(req.Msg.GetPlacementGroupId())
	if g == nil {
		return nil, errs.Newf(errs.ErrActorNotFound, "no placement group %s", req.Msg.GetPlacementGroupId())
	}
	return connect.NewResponse(&actorv1.GetPlacementGroupResponse{Group: h.groupInfo(g)}), nil
}

// RemovePlacementGroup frees a group's reservation and kills its actors.
func (h *Head) RemovePlacementGroup(ctx context.Context, req *connect.Request[actorv1.RemovePlacementGroupRequest]) (*connect.Response[actorv1.RemovePlacementGroupResponse], error) {
	h.mu.Lock()
	g := h.pgs.Get(req.Msg.GetPlacementGroupId())
	if g == nil {
		h.mu.Unlock()
		return nil, errs.Newf(errs.ErrActorNotFound, "no placement group %s", req.Msg.GetPlacementGroupId())
	}
	var w write
	todo := h.removeGroupLocked(g, &w, fmt.Sprintf("placement group %s was removed", g.ID))
	todo = append(todo, h.placePendingLocked(&w)...)
	stored := h.persistLocked(&w)
	h.mu.Unlock()
	if err := written(ctx, stored); err != nil {
		return nil, err
	}
	// Answer once the nodes have been told to stop the group's actors, so
	// calls made next find them dead.
	var wg sync.WaitGroup
	for _, f := range todo {
		wg.Add(1)
		h.calls.Add(1)
		go func() {
			defer h.calls.Done()
			defer wg.Done()
			f()
		}()
	}
	wg.Wait()
	return connect.NewResponse(&actorv1.RemovePlacementGroupResponse{}), nil
}
