// Package cluster holds what the roles of a cluster share on the wire:
// specs, states, causes and errors as protobuf, the token and TLS setup,
// the heartbeat loop and the durable actors' call keys. The roles live in
// its subpackages: head (the control plane, persisted in bbolt), agent
// (the node side: hosts the actors the head places and serves their
// calls) and caller (resolves an actor's node from the head and calls
// that node directly, re-resolving and retrying when the actor moves).
// The tests here run real head, node and driver processes.
package cluster
