// Package cluster runs actors across processes: the head (control plane:
// nodes, actors, names, jobs, scheduling, persisted in bbolt), the node
// agent that hosts actors the head places on it and serves their calls over
// the transport, and the caller side that resolves an actor's node from the
// head once and calls that node directly, re-resolving and retrying when
// the actor moves.
package cluster
