package transport

import "log/slog"

// Option configures [NewHandler] and [Dial].
type Option interface {
	apply(*config)
}

type config struct {
	maxMessageBytes int
	maxBatchBytes   int
	logger          *slog.Logger
}

func newConfig(opts []Option) config {
	c := config{
		maxMessageBytes: 16 << 20,
		maxBatchBytes:   1 << 20,
		logger:          slog.Default(),
	}
	for _, o := range opts {
		o.apply(&c)
	}
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

// WithLogger sets the logger for stream failures. The default is
// slog.Default().
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}
