package transport

import "log/slog"

// Option configures [NewHandler] and [Dial].
type Option interface {
	apply(*config)
}

type config struct {
	maxMessageBytes int
	maxBatchBytes   int
	callWindow      int // calls in flight per stream
	maxCallsRunning int // calls in flight on the node, from every stream
	logger          *slog.Logger
}

const (
	// DefaultCallWindow is how many calls a node lets each stream have in
	// flight unless configured otherwise.
	DefaultCallWindow = 10_000
	// DefaultMaxCallsInFlight is how many calls a node lets all its
	// streams together have in flight unless configured otherwise.
	DefaultMaxCallsInFlight = 100_000
	// minCallWindow is the smallest window a node grants, and the credit
	// a caller assumes on a new stream until the node's grant arrives.
	minCallWindow = 64
	// windowHeader carries the node's window in the stream's response
	// headers.
	windowHeader = "Troupe-Call-Window"
)

func newConfig(opts []Option) config {
	c := config{
		maxMessageBytes: 16 << 20,
		maxBatchBytes:   1 << 20,
		callWindow:      DefaultCallWindow,
		maxCallsRunning: DefaultMaxCallsInFlight,
		logger:          slog.Default(),
	}
	for _, o := range opts {
		o.apply(&c)
	}
	c.maxCallsRunning = max(c.maxCallsRunning, minCallWindow)
	c.callWindow = min(max(c.callWindow, minCallWindow), c.maxCallsRunning)
	if c.maxBatchBytes > c.maxMessageBytes/2 {
		c.maxBatchBytes = c.maxMessageBytes / 2
	}
	return c
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithMaxMessageBytes limits the size of one stream message, in either
// direction. A stream message bigger than this ends the stream; a single
// call or result that cannot fit fails alone with resource_exhausted. Both
// ends of a stream should use the same value. The default is 16 MiB.
func WithMaxMessageBytes(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxMessageBytes = n
		}
	})
}

// WithMaxBatchBytes is how many bytes of calls or results the writer puts
// in one stream message before it starts the next. It is capped at half of
// the maximum message size. The default is 1 MiB.
func WithMaxBatchBytes(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxBatchBytes = n
		}
	})
}

// WithCallWindow is, for [NewHandler], how many calls each stream may have
// in flight on the node: sent and not yet answered or cancelled. The node
// tells the caller when the stream opens; the caller's [Conn] sends no
// more than that and keeps the rest queued on its side, each until it can
// go or its ctx ends. A call beyond the window (from a caller that does not
// keep to it) is answered at once with resource_exhausted. The default is
// [DefaultCallWindow]; it is at least 64 and at most the node's
// [WithMaxCallsInFlight]. Dial ignores it.
func WithCallWindow(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.callWindow = n
		}
	})
}

// WithMaxCallsInFlight is, for [NewHandler], how many calls all of the
// node's streams together may have in flight, so that many streams cannot
// multiply the window. A call that arrives with the node at this limit is
// answered at once with resource_exhausted and never reaches an actor. The
// default is [DefaultMaxCallsInFlight]. Dial ignores it.
func WithMaxCallsInFlight(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxCallsRunning = n
		}
	})
}

// WithLogger sets the logger for stream failures. The default is
// slog.Default().
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}
