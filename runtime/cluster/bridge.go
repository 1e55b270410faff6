package cluster

import (
	"context"
	_ "unsafe" // for go:linkname

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/internal/actorbridge"
	"github.com/troupehq/troupe/runtime/internal/cluster/caller"
)

// Package actor's unexported nodeConfig and nodeSystem, reached by a
// linkname so that only programs importing this package link them (see
// package actorbridge). The signatures match theirs.

//go:linkname nodeConfig github.com/troupehq/troupe/runtime/actor.nodeConfig
func nodeConfig(opts []actor.Option, ownCA string) (*actorbridge.Config, error)

//go:linkname nodeSystem github.com/troupehq/troupe/runtime/actor.nodeSystem
func nodeSystem(ctx context.Context, c *actorbridge.Config, client *caller.Client) (*actor.System, *actorbridge.System, error)
