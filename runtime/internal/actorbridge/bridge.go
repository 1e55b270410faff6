// Package actorbridge lends the node entry point (package
// runtime/cluster) the parts of package actor it needs and package actor
// does not export: its configuration and the making of a cluster node's
// system. Package actor sets the functions below in its init, the way
// protobuf's internal packages reach unexported code; package
// runtime/cluster, which imports package actor, calls them. Nothing else
// sets or calls them.
package actorbridge

import (
	"context"
	"crypto/tls"
	"log/slog"

	"github.com/troupehq/troupe/runtime/internal/cluster"
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

// System is the system of a cluster node, as package actor made it.
type System struct {
	// System is the *actor.System.
	System any
	// Node is the system's node, which the node agent serves.
	Node *node.Node
	// Total is the node's resources.
	Total resources.Set
	// Durable routes the calls to durable actors the agent receives.
	Durable cluster.DurableHost
	// SetGauges gives the system's gauges the node's view of the head.
	SetGauges func(*telemetry.Source)
}

// Set by package actor's init.
var (
	// NewConfig applies opts, a []actor.Option. ownCA, when not "", is
	// a PEM file trusted beside the system's certificate authorities
	// unless opts choose the node's TLS themselves.
	NewConfig func(opts any, ownCA string) (*Config, error)
	// NewSystem makes the system of a cluster node configured by cfg,
	// whose control plane is the head client reaches. The system is no
	// job: the actors spawned on it belong to their owner's job. On
	// error the caller still owns client.
	NewSystem func(ctx context.Context, cfg *Config, client *cluster.Client) (*System, error)
)
