package actor

import (
	"context"
	_ "unsafe" // for go:linkname

	"github.com/troupehq/troupe/runtime/internal/actorbridge"
	"github.com/troupehq/troupe/runtime/internal/cluster/caller"
	"github.com/troupehq/troupe/runtime/internal/resources"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
)

// nodeConfig resolves a cluster node's options for the node entry point
// (package runtime/cluster), which reaches it by go:linkname (see package
// actorbridge) so that only programs that import it link it. ownCA, when
// not "", is a PEM file trusted beside the system's certificate
// authorities unless opts choose the node's TLS themselves.
//
//go:linkname nodeConfig
//lint:ignore U1000 called from package runtime/cluster through the linkname
func nodeConfig(opts []Option, ownCA string) (*actorbridge.Config, error) {
	cfg := newConfig(opts)
	if ownCA != "" && cfg.cluster.tls == nil && cfg.cluster.caFile == "" {
		cfg.cluster.caFile = ownCA
	}
	tlsConf, err := cfg.cluster.clientTLS()
	if err != nil {
		return nil, err
	}
	retention, err := cfg.deadActorRetention()
	if err != nil {
		return nil, err
	}
	return &actorbridge.Config{Log: cfg.log, Token: cfg.cluster.token, NodeID: cfg.nodeID, Labels: cfg.labels,
		TLS: tlsConf, DeadActorRetention: retention, Options: &cfg}, nil
}

// nodeSystem makes the system of a cluster node configured by c (made by
// nodeConfig), whose control plane is the head client reaches, for the
// node entry point, which reaches it by go:linkname. The system is no
// job: the actors spawned on it belong to their owner's job. On error the
// caller still owns client.
//
//go:linkname nodeSystem
//lint:ignore U1000 called from package runtime/cluster through the linkname
func nodeSystem(ctx context.Context, c *actorbridge.Config, client *caller.Client) (*System, *actorbridge.System, error) {
	cfg := c.Options.(*config)
	cfg.nodeID = c.NodeID
	var total resources.Set
	var p *clusterPlane
	s, err := newSystem(ctx, cfg, func(s *System, t resources.Set) plane {
		total, p = t, newClusterPlane(s, t, client, false)
		return p
	})
	if err != nil {
		return nil, nil, err
	}
	s.job = "" // a node is not a job: actors spawned here belong to their owner's job
	return s, &actorbridge.System{Node: s.node, Total: total, Durable: p,
		SetGauges: func(g *telemetry.Source) { p.gauges.Store(g) }}, nil
}
