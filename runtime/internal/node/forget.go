package node

// Forget drops a dead actor from the node's table, so that actors the node
// creates and ends often (activations of durable actors) do not pile up in
// it nor take the place of other dead actors the node retains. Handles to
// the actor still see its death.
func (n *Node) Forget(a *Actor) {
	if a.State() != Dead {
		return
	}
	n.mu.Lock()
	if n.actors[a.ID] == a {
		delete(n.actors, a.ID)
	}
	n.unretireLocked(a)
	n.mu.Unlock()
}
