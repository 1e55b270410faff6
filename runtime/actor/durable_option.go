package actor

import (
	"time"
)

// durableConfig is how a system keeps durable actors.
type durableConfig struct {
	store   StateStore
	idle    time.Duration
	records int
}

// DefaultIdleTimeout is how long a durable actor stays active without
// calls, unless WithIdleTimeout says otherwise.
const DefaultIdleTimeout = time.Minute

// WithStateStore keeps durable actors' state in store, which the caller
// opened and closes after Shutdown; several systems may share one:
//
//	store, err := sqlite.Open("state.db") // runtime/actor/sqlite
//	...
//	sys, err := actor.Start(ctx, actor.WithStateStore(store), actor.WithClasses(...))
//
// Default: none. A system that registers a durable class (WithClasses)
// needs one: without it Start, and RunNode, fail with ErrInvalidOption.
// The runtime links no database of its own; the stores are packages a
// program imports when it uses them (runtime/actor/sqlite,
// runtime/actor/postgres).
func WithStateStore(store StateStore) Option {
	return optionFunc(func(c *config) { c.durable.store = store })
}

// WithIdleTimeout sets how long a durable actor stays active, its state
// cached, without calls; it is deactivated between d and 2d after its last
// call, and activated again by the next. Default DefaultIdleTimeout.
func WithIdleTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.durable.idle = d })
}

// WithCallRecords sets how many results of keyed calls (WithCallKey) each
// durable actor keeps per caller: a retry of one of a caller's last n
// calls returns the recorded result. Default 128.
func WithCallRecords(n int) Option {
	return optionFunc(func(c *config) { c.durable.records = n })
}
