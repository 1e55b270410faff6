package actor

import (
	"context"

	"github.com/troupehq/troupe/runtime/internal/errs"
)

// A KillOption changes what Kill does.
type KillOption interface {
	applyKill(*killConfig)
}

type killConfig struct{ noRestart bool }

type killFunc func(*killConfig)

func (f killFunc) applyKill(c *killConfig) { f(c) }

// NoRestart kills the actor for good, even if it has restarts left.
func NoRestart() KillOption { return killFunc(func(c *killConfig) { c.noRestart = true }) }

// Kill stops the actor h names at once: queued calls fail with
// ErrActorDied (cause: killed), the running call's ctx is cancelled. With
// restarts left and without NoRestart the actor is restarted and calls
// with retries left wait for it. A killed named actor's name is free
// again. Killing a dead actor does nothing.
func (s *System) Kill(ctx context.Context, h Handle, opts ...KillOption) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	var ref *Ref
	if h != nil {
		ref = h.Ref()
	}
	if ref == nil {
		return errs.Newf(errs.ErrActorNotFound, "Kill: nil actor handle")
	}
	var cfg killConfig
	for _, o := range opts {
		if o != nil {
			o.applyKill(&cfg)
		}
	}
	if s.tel.Tracing() {
		s.tel.Kill(ctx, ref.telemetry(), !cfg.noRestart)
	}
	return s.plane.kill(ctx, ref, !cfg.noRestart)
}

// killCause is the death cause of an actor killed by Kill.
func killCause(restart bool) errs.Cause {
	msg := "killed by Kill"
	if !restart {
		msg += " (no restart)"
	}
	return errs.Cause{Kind: errs.CauseKilled, Message: msg}
}
