package actor

import (
	"time"
)

// durableConfig is how a system keeps durable actors.
type durableConfig struct {
	dir     string
	store   StateStore
	idle    time.Duration
	records int
}

// DefaultIdleTimeout is how long a durable actor stays active without
// calls, unless WithIdleTimeout says otherwise.
const DefaultIdleTimeout = time.Minute

// WithStateDir keeps durable actors' state in the SQLite file
// troupe-state.db in dir, created if needed and closed by Shutdown.
// Default: the directory troupe/state under os.UserCacheDir, else under
// os.TempDir; the path is logged when the file is first opened. Set it (or
// WithStateStore) for state that matters: the default is per user and
// machine, and cache directories may be cleaned.
func WithStateDir(dir string) Option {
	return optionFunc(func(c *config) { c.durable.dir = dir })
}

// WithStateStore keeps durable actors' state in store, which the caller
// opened (OpenStateFile, OpenStatePostgres) and closes after Shutdown.
// It wins over WithStateDir. Default: see WithStateDir.
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
