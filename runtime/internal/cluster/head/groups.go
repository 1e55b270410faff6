package head

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/control"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// Placement groups on the head. A placed bundle's resources are taken out
// of its node's free pool; the actors placed in the bundle draw on the
// bundle instead, so they cost their node nothing more. Groups are stored
// in their own bucket of the head's store.

var bucketGroups = []byte("placement_groups")

// groupTable are the head's placement groups.
type groupTable struct {
	byID  map[string]*headGroup
	order []*headGroup // creation order
}

type headGroup struct {
	info    *actorv1.PlacementGroupInfo
	bundles []resources.Set
}

// live returns the group id unless it does not exist or was removed.
func (t *groupTable) live(id string) *headGroup {
	if g := t.byID[id]; g != nil && !g.removed() {
		return g
	}
	return nil
}

func (g *headGroup) removed() bool {
	return g.info.GetState() == actorv1.PlacementGroupState_PLACEMENT_GROUP_STATE_REMOVED
}

func (h *Head) addGroupLocked(info *actorv1.PlacementGroupInfo) (*headGroup, error) {
	g := &headGroup{info: info}
	for i, b := range info.GetBundles() {
		set, err := resources.FromFloat(b.GetResources())
		if err != nil {
			return nil, errs.Newf(errs.ErrInvalidOption, "bundle %d: %v", i, err)
		}
		g.bundles = append(g.bundles, set)
	}
	h.pgs.byID[info.GetPlacementGroupId()] = g
	h.pgs.order = append(h.pgs.order, g)
	return g, nil
}

// recoverGroups adds the stored placement groups and takes their placed
// bundles out of their nodes' free pools. It runs before the actors are
// recovered.
func (h *Head) recoverGroups(infos []*actorv1.PlacementGroupInfo) {
	sort.SliceStable(infos, func(i, j int) bool { return infos[i].GetCreatedUnixNano() < infos[j].GetCreatedUnixNano() })
	for _, in := range infos {
		g, err := h.addGroupLocked(in)
		if err != nil {
			h.cfg.Log.Warn("head state: skipping an invalid placement group", "placement_group_id", in.GetPlacementGroupId(), "error", err)
			continue
		}
		if g.removed() {
			continue
		}
		for i, b := range in.GetBundles() {
			if n := h.nodes[b.GetNodeId()]; n != nil && b.GetNodeId() != "" {
				n.Take(g.bundles[i])
			}
		}
	}
}

// putGroupsLocked stores groups with the next write.
func (h *Head) putGroupsLocked(gs ...*headGroup) {
	for _, g := range gs {
		h.dirty.groups = append(h.dirty.groups, g.info)
	}
}

// nodeCostLocked is what an actor with spec takes from its node's free
// pool: nothing when it runs in a live placement group's bundle, which
// reserved its resources already.
func (h *Head) nodeCostLocked(spec *node.Spec) resources.Set {
	return control.Cost(spec, h.pgs.live(spec.PlacementGroup) != nil)
}

// placeGroupLocked reserves g's waiting bundles if they fit now, and
// stores g when it changed.
func (h *Head) placeGroupLocked(g *headGroup) {
	if g.removed() || g.info.GetState() == actorv1.PlacementGroupState_PLACEMENT_GROUP_STATE_CREATED {
		return
	}
	live := h.nodes.open()
	cands := make([]control.Candidate, len(live))
	for i, n := range live {
		cands[i] = control.Candidate{ID: n.info.GetNodeId(), Labels: n.info.GetLabels(), Total: n.Total, Avail: n.Free()}
	}
	placed := make([]string, len(g.bundles))
	for i, b := range g.info.GetBundles() {
		placed[i] = b.GetNodeId()
	}
	assign, reason, _ := control.PlaceBundles(cands, g.bundles, placed, g.info.GetStrategy())
	if assign == nil {
		if g.info.GetPendingReason() != reason {
			g.info.PendingReason = reason
			h.putGroupsLocked(g)
		}
		return
	}
	for i, b := range g.info.GetBundles() {
		if b.GetNodeId() == "" {
			n := live[assign[i]]
			n.Take(g.bundles[i])
			b.NodeId = n.info.GetNodeId()
		}
	}
	g.info.State = actorv1.PlacementGroupState_PLACEMENT_GROUP_STATE_CREATED
	g.info.PendingReason = ""
	h.putGroupsLocked(g)
}

// placeGroupsLocked places every waiting group that fits now, oldest
// first. It runs before waiting actors are placed.
func (h *Head) placeGroupsLocked() {
	for _, g := range h.pgs.order {
		h.placeGroupLocked(g)
	}
}

// reserveBundlesLocked takes the bundles placed on n out of its free
// pool, for a node that registers afresh.
func (h *Head) reserveBundlesLocked(n *headNode) {
	for _, g := range h.pgs.order {
		if g.removed() {
			continue
		}
		for i, b := range g.info.GetBundles() {
			if b.GetNodeId() == n.info.GetNodeId() {
				n.Take(g.bundles[i])
			}
		}
	}
}

// groupsNodeLostLocked unplaces the bundles a lost node held: their groups
// wait to be placed again, their other bundles staying where they are.
func (h *Head) groupsNodeLostLocked(n *headNode) {
	for _, g := range h.pgs.order {
		if g.removed() {
			continue
		}
		changed := false
		for _, b := range g.info.GetBundles() {
			if b.GetNodeId() == n.info.GetNodeId() {
				b.NodeId = ""
				changed = true
			}
		}
		if changed {
			g.info.State = actorv1.PlacementGroupState_PLACEMENT_GROUP_STATE_PENDING
			g.info.PendingReason = fmt.Sprintf("node %s holding some bundles was lost", n.info.GetNodeId())
			h.putGroupsLocked(g)
		}
	}
}

// bundleFreeLocked is what bundle b of g holds that no actor placed in it
// uses.
func (h *Head) bundleFreeLocked(g *headGroup, b int) resources.Set {
	free := g.bundles[b].Clone()
	id := g.info.GetPlacementGroupId()
	for _, a := range h.actors.order {
		if !a.dead() && a.spec.PlacementGroup == id && a.spec.Bundle == b && a.info().GetNodeId() != "" {
			free.Sub(a.spec.Resources)
		}
	}
	return free
}

// chooseInGroupLocked picks the node of the bundle spec names, if the
// bundle has room for the actor now.
func (h *Head) chooseInGroupLocked(class string, spec *node.Spec) (host *headNode, reason string, feasible bool) {
	var bundles []resources.Set
	g := h.pgs.live(spec.PlacementGroup)
	if g != nil {
		bundles = g.bundles
	}
	if why := control.NeverInBundle(spec, bundles); why != "" {
		return nil, why, false
	}
	id := g.info.GetBundles()[spec.Bundle].GetNodeId()
	n := h.nodes[id]
	if id == "" || n == nil || !n.open() {
		return nil, control.BundleNotPlaced(spec, g.info.GetPendingReason()), true
	}
	if !hostsClass(n.info, class) {
		return nil, control.BundleNodeLacksClass(spec, id, class), false
	}
	if why := control.BundleFull(spec, h.bundleFreeLocked(g, spec.Bundle)); why != "" {
		return nil, why, true
	}
	return n, "", true
}

// removeGroupLocked kills the actors placed in g, frees its bundles and
// records it removed.
func (h *Head) removeGroupLocked(g *headGroup, w *write, why string) []func() {
	if g.removed() {
		return nil
	}
	var todo []func()
	id := g.info.GetPlacementGroupId()
	for _, a := range h.actors.order {
		if !a.dead() && a.spec.PlacementGroup == id {
			todo = append(todo, h.killLocked(a, w, errs.Cause{Kind: errs.CauseKilled, Message: why})...)
		}
	}
	for i, b := range g.info.GetBundles() {
		if n := h.nodes[b.GetNodeId()]; n != nil && n.alive() {
			n.Give(g.bundles[i])
		}
		b.NodeId = ""
	}
	g.info.State = actorv1.PlacementGroupState_PLACEMENT_GROUP_STATE_REMOVED
	g.info.PendingReason = ""
	h.putGroupsLocked(g)
	return todo
}

// removeJobGroupsLocked removes the groups of a job that ended.
func (h *Head) removeJobGroupsLocked(j *headJob, w *write) []func() {
	var todo []func()
	for _, g := range h.pgs.order {
		if !g.removed() && g.info.GetJobId() == j.info.GetJobId() {
			todo = append(todo, h.removeGroupLocked(g, w, fmt.Sprintf("placement group %s removed: job %s ended", g.info.GetPlacementGroupId(), j.info.GetJobId()))...)
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
	h.placeGroupLocked(g)
	h.putGroupsLocked(g)
	if !g.removed() && g.info.GetState() != actorv1.PlacementGroupState_PLACEMENT_GROUP_STATE_CREATED {
		h.cfg.Log.Warn("placement group waits", "placement_group_id", in.GetPlacementGroupId(), "reason", in.GetPendingReason())
	}
	out := proto.Clone(g.info).(*actorv1.PlacementGroupInfo)
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
	g := h.pgs.byID[req.Msg.GetPlacementGroupId()]
	if g == nil {
		return nil, errs.Newf(errs.ErrActorNotFound, "no placement group %s", req.Msg.GetPlacementGroupId())
	}
	return connect.NewResponse(&actorv1.GetPlacementGroupResponse{Group: proto.Clone(g.info).(*actorv1.PlacementGroupInfo)}), nil
}

// RemovePlacementGroup frees a group's reservation and kills its actors.
func (h *Head) RemovePlacementGroup(ctx context.Context, req *connect.Request[actorv1.RemovePlacementGroupRequest]) (*connect.Response[actorv1.RemovePlacementGroupResponse], error) {
	h.mu.Lock()
	g := h.pgs.byID[req.Msg.GetPlacementGroupId()]
	if g == nil {
		h.mu.Unlock()
		return nil, errs.Newf(errs.ErrActorNotFound, "no placement group %s", req.Msg.GetPlacementGroupId())
	}
	var w write
	todo := h.removeGroupLocked(g, &w, fmt.Sprintf("placement group %s was removed", g.info.GetPlacementGroupId()))
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
