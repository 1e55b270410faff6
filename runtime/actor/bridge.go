package actor

import (
	"context"
	"fmt"

	"github.com/troupehq/troupe/runtime/internal/actorbridge"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/resources"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
)

// The node entry point (package runtime/cluster) builds a node's system
// with these, reached through actorbridge, so that they stay unexported
// here and package actor does not link the head.
func init() {
	actorbridge.NewConfig = bridgeConfig
	actorbridge.NewSystem = bridgeSystem
}

func bridgeConfig(opts any, ownCA string) (*actorbridge.Config, error) {
	o, ok := opts.([]Option)
	if !ok {
		return nil, fmt.Errorf("actorbridge: options are %T, want []actor.Option", opts)
	}
	cfg := newConfig(o)
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

func bridgeSystem(ctx context.Context, c *actorbridge.Config, client *cluster.Client) (*actorbridge.System, error) {
	cfg, ok := c.Options.(*config)
	if !ok {
		return nil, fmt.Errorf("actorbridge: a config not made by NewConfig")
	}
	cfg.nodeID = c.NodeID
	var total resources.Set
	var p *clusterPlane
	s, err := newSystem(ctx, cfg, func(s *System, t resources.Set) plane {
		total, p = t, newClusterPlane(s, t, client, false)
		return p
	})
	if err != nil {
		return nil, err
	}
	s.job = "" // a node is not a job: actors spawned here belong to their owner's job
	return &actorbridge.System{System: s, Node: s.node, Total: total, Durable: p,
		SetGauges: func(g *telemetry.Source) { p.gauges.Store(g) }}, nil
}
