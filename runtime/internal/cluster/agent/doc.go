// Package agent is a node's side of a cluster: it registers the node with
// the head and heartbeats, creates and stops the actors the head places
// on it, serves their calls over the transport and drains the node when
// it shuts down.
package agent
