package node

// DefaultDeadRetention is how many dead actors a node keeps in its table
// by default, for listings and lookups, before it evicts the oldest dead.
// Ray keeps up to 100,000 destroyed actors for its state API
// (RAY_maximum_gcs_destroyed_actor_cached_count); a node here is also a
// single process that lists every actor it retains, so it keeps a tenth of
// that: enough to inspect recent deaths, at a bounded cost of a few MB.
const DefaultDeadRetention = 10_000

// SetDeadRetention sets how many dead actors the node keeps in its table,
// evicting the oldest dead beyond that at once; 0 keeps none. A negative
// keep is taken as 0. Evicted actors are no longer found by id nor listed;
// handles that still hold them see their death as before.
func (n *Node) SetDeadRetention(keep int) {
	n.mu.Lock()
	n.deadCap = max(keep, 0)
	n.evictLocked()
	n.mu.Unlock()
}

// DeadRetention returns how many dead actors the node keeps.
func (n *Node) DeadRetention() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.deadCap
}

// retire records that a, which has just died, is the newest dead actor
// of the node, and evicts the oldest dead beyond the node's retention.
func (n *Node) retire(a *Actor) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.actors[a.ID] != a {
		return // forgotten, or replaced under its id
	}
	if _, ok := n.deadElems[a]; ok {
		return
	}
	n.deadElems[a] = n.dead.PushBack(a)
	n.evictLocked()
}

// evictLocked drops the oldest dead actors until no more than the
// retention are left.
func (n *Node) evictLocked() {
	for n.dead.Len() > n.deadCap {
		a := n.dead.Remove(n.dead.Front()).(*Actor)
		delete(n.deadElems, a)
		if n.actors[a.ID] == a {
			delete(n.actors, a.ID)
		}
	}
}

// unretireLocked forgets that a is a retained dead actor, when it leaves
// the table otherwise.
func (n *Node) unretireLocked(a *Actor) {
	if e, ok := n.deadElems[a]; ok {
		n.dead.Remove(e)
		delete(n.deadElems, a)
	}
}
