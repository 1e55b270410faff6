package head

import (
	"sort"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
)

// The head's tables. Each is guarded by Head.mu; what a change writes to
// the store is collected in a write and handed to the committer.

// nodeTable is the nodes by id, dead ones included.
type nodeTable map[string]*headNode

// open returns the nodes new actors and bundles may be placed on, in id
// order.
func (t nodeTable) open() []*headNode {
	var out []*headNode
	for _, n := range t {
		if n.open() {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].info.GetNodeId() < out[j].info.GetNodeId() })
	return out
}

// live returns the node id if it heartbeats (draining or not), else nil.
func (t nodeTable) live(id string) *headNode {
	if n := t[id]; n != nil && n.alive() {
		return n
	}
	return nil
}

// list describes every node, in id order.
func (t nodeTable) list() []*actorv1.NodeInfo {
	out := make([]*actorv1.NodeInfo, 0, len(t))
	for _, n := range t {
		out = append(out, n.describe())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetNodeId() < out[j].GetNodeId() })
	return out
}

// jobTable is the jobs by id, ended ones included.
type jobTable map[string]*headJob

// list describes every job, in id order.
func (t jobTable) list() []*actorv1.JobInfo {
	out := make([]*actorv1.JobInfo, 0, len(t))
	for _, j := range t {
		out = append(out, j.describe())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetJobId() < out[j].GetJobId() })
	return out
}

// actorTable is the actors: by id, in creation order, by the request that
// spawned them, and the dead ones the head retains (retain.go).
type actorTable struct {
	byID   map[string]*headActor
	order  []*headActor // creation order
	spawns map[string]*headActor
	// dead are the dead actors still in byID, oldest death first, and
	// deadCap how many of them the head keeps.
	dead      []*headActor
	deadCap   int
	deathSeq  uint64 // the last death's number, in the store's dead bucket
	staleRefs int    // evicted actors still in order
}

func newActorTable(deadCap int) actorTable {
	return actorTable{byID: map[string]*headActor{}, spawns: map[string]*headActor{}, deadCap: deadCap}
}

// add records a new (or recovered) actor.
func (t *actorTable) add(a *headActor) {
	t.byID[a.info().GetActorId()] = a
	if id := a.rec.GetSpawnRequestId(); id != "" {
		t.spawns[id] = a
	}
	t.order = append(t.order, a)
}

// on returns the live actors recorded on node id, oldest first.
func (t *actorTable) on(id string) []*headActor {
	var out []*headActor
	for _, a := range t.order {
		if !a.dead() && a.info().GetNodeId() == id {
			out = append(out, a)
		}
	}
	return out
}

// load counts the live actors of each node, for placement.
func (t *actorTable) load() map[string]int {
	load := map[string]int{}
	for _, a := range t.order {
		if !a.dead() {
			load[a.info().GetNodeId()]++
		}
	}
	return load
}
