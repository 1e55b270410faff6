// Package actorbridge holds what package actor hands the node entry point
// (package runtime/cluster) and does not export: a node's configuration
// and the parts of a cluster node's system the node agent serves.
//
// Package runtime/cluster reaches the two functions that make them,
// package actor's nodeConfig and nodeSystem, by go:linkname rather than
// through function variables set in an init: a variable set in an init
// would link them, and the cluster plane they reach, into every program
// that imports package actor, where now only programs that import
// runtime/cluster link them. Their signatures in both packages must
// match; runtime/cluster's tests call both.
package actorbridge

import (
	"crypto/tls"
	"log/slog"

	"github.com/troupehq/troupe/runtime/internal/cluster/agent"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
)

// Config is package actor's configuration of a node, resolved from its
// options.
type Config struct {
	Log *slog.Logger
	// Token is WithToken's cluster token, "" without one.
	Token string
	// NodeID is WithNodeID's id, "" for a random one. The entry point
	// may set it before NewSystem (a head keeps its first one).
	NodeID string
	// Labels are WithLabels'.
	Labels map[string]string
	// TLS is how the node reaches the head and other nodes, nil for
	// cleartext HTTP/2.
	TLS *tls.Config
	// DeadActorRetention is WithDeadActorRetention's n, or the default.
	DeadActorRetention int
	// Options is package actor's own configuration, opaque here.
	Options any
}

// System is what the node agent serves of a cluster node's system.
type System struct {
	// Node is the system's node, which the node agent serves.
	Node *node.Node
	// Total is the node's resources.
	Total resources.Set
	// Durable routes the calls to durable actors the agent receives.
	Durable agent.DurableHost
	// SetGauges gives the system's gauges the node's view of the head.
	SetGauges func(*telemetry.Source)
}
