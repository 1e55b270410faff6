package actor

import (
	"log/slog"
	"maps"
	"time"

	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// An Option configures a System at Start.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	namespace string
	log       *slog.Logger
	classes   []Registration
	cpus      *float64
	gpus      *float64
	memory    *float64
	resources map[string]float64
	labels    map[string]string
	nodeID    string
	cluster   clusterConfig
	durable   durableConfig
	// deadRetention is WithDeadActorRetention's n; nil is the default.
	deadRetention *int
	// stopTimeout is WithStopTimeout's d; nil is the default.
	stopTimeout *time.Duration

	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	propagator     propagation.TextMapPropagator
	prometheusAddr string

	interceptors []Interceptor
	// pendingTimeout is WithPendingTimeout's d; 0 is off.
	pendingTimeout time.Duration
}

// WithClasses registers actor classes, so that this process's node can
// host them. Generated RegisterFoo functions return the Registration.
func WithClasses(classes ...Registration) Option {
	return optionFunc(func(c *config) { c.classes = append(c.classes, classes...) })
}

// WithNamespace sets the namespace of the names this system's actors take
// and look up. Default "default".
func WithNamespace(namespace string) Option {
	return optionFunc(func(c *config) { c.namespace = namespace })
}

// WithLogger sets the logger of the runtime. Default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.log = l })
}

// WithNumCPUs sets the node's logical CPU. Default: its cores.
func WithNumCPUs(n float64) Option {
	return optionFunc(func(c *config) { c.cpus = &n })
}

// WithNumGPUs sets the node's logical GPU. Default: the NVIDIA devices
// found, else 0.
func WithNumGPUs(n float64) Option {
	return optionFunc(func(c *config) { c.gpus = &n })
}

// WithMemory sets the node's logical memory in bytes. Default: the
// machine's physical memory.
func WithMemory(bytes uint64) Option {
	return optionFunc(func(c *config) { m := float64(bytes); c.memory = &m })
}

// WithResources adds custom resources to the node, such as
// {"writer_node": 1}. Default none. The keys CPU, GPU and memory set those.
func WithResources(r map[string]float64) Option {
	return optionFunc(func(c *config) {
		if c.resources == nil {
			c.resources = map[string]float64{}
		}
		maps.Copy(c.resources, r)
	})
}

// WithLabels sets the node's labels, matched by label selectors.
// Default none.
func WithLabels(labels map[string]string) Option {
	return optionFunc(func(c *config) {
		if c.labels == nil {
			c.labels = map[string]string{}
		}
		maps.Copy(c.labels, labels)
	})
}

// WithNodeID sets the node's id. Default: a random id.
func WithNodeID(id string) Option {
	return optionFunc(func(c *config) { c.nodeID = id })
}

// WithTracerProvider sets where the spans of spawns and calls go. Default:
// the otel global provider, which records nothing until one is installed
// (also after Start). The runtime builds no exporter: otlp.Setup
// (runtime/actor/otlp) installs globals that export where the OTEL_*
// environment says.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) { c.tracerProvider = tp })
}

// WithMeterProvider sets where the call, actor and resource metrics go.
// Default: with WithPrometheus, a provider serving the Prometheus
// endpoint (shut down by Shutdown), else the otel global provider, as for
// WithTracerProvider. It cannot be combined with WithPrometheus.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.meterProvider = mp })
}

// WithPropagator sets how trace context travels between nodes. Default:
// the otel global propagator, or W3C trace context and baggage when the
// global one carries nothing.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) { c.propagator = p })
}

// WithPrometheus serves the node's metrics for Prometheus at /metrics on
// addr, such as "127.0.0.1:9464" (":0" picks a free port; MetricsAddr
// says which), until Shutdown. Default: no endpoint.
func WithPrometheus(addr string) Option {
	return optionFunc(func(c *config) { c.prometheusAddr = addr })
}

// DefaultDeadActorRetention is how many dead actors each table keeps
// unless WithDeadActorRetention says otherwise.
const DefaultDeadActorRetention = node.DefaultDeadRetention

// WithDeadActorRetention caps the dead actors kept for listings and
// lookups: each table that records actors (a node's, and a cluster head's,
// in memory and in its store) keeps at most n dead actors and evicts the
// oldest dead, by time of death, beyond that. 0 keeps none; a negative n
// is an ErrInvalidOption at Start, Connect or cluster.StartNode. Live actors are
// never evicted.
//
// Default DefaultDeadActorRetention, 10,000. Without a cap a system that
// spawns and ends many short-lived actors would grow without bound, and
// so would its listings. Ray caps the destroyed actors it keeps for its
// state API the same way, at 100,000 per cluster
// (RAY_maximum_gcs_destroyed_actor_cached_count); 10,000 per table is
// enough to look into recent deaths while keeping what a node or head
// holds, stores and lists for them to a few megabytes.
//
// An evicted actor is gone from ListActors, and looking it up by id or
// name fails with ErrActorNotFound. Handles to it keep failing as they did
// once it died: with ErrActorDied from a handle in the process that hosted
// it, and with ErrActorDied or ErrActorNotFound from elsewhere in a
// cluster, promptly.
func WithDeadActorRetention(n int) Option {
	return optionFunc(func(c *config) { c.deadRetention = &n })
}

// deadActorRetention returns the retention cfg asks for, checked.
func (c *config) deadActorRetention() (int, error) {
	if c.deadRetention == nil {
		return DefaultDeadActorRetention, nil
	}
	if n := *c.deadRetention; n < 0 {
		return 0, errs.Newf(errs.ErrInvalidOption, "WithDeadActorRetention(%d): the number of dead actors kept cannot be negative", n)
	}
	return *c.deadRetention, nil
}

// DefaultStopTimeout is how long an actor's Stop hook may run unless
// WithStopTimeout says otherwise.
const DefaultStopTimeout = node.DefaultStopTimeout

// WithStopTimeout bounds each actor's Stop(ctx) hook: its ctx ends after
// d, and the runtime waits no longer for it. A hook still running then is
// left to finish on its own; the actor's cause of death and the log say
// so. d must be positive (otherwise Start, Connect and cluster.StartNode fail with
// ErrInvalidOption).
//
// Default DefaultStopTimeout, 10 seconds: Kubernetes gives a stopping pod
// 30 seconds for all its cleanup, and one actor's hook should take a
// fraction of that. Whatever the timeout, System.Shutdown returns when
// its ctx ends.
func WithStopTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.stopTimeout = &d })
}

// stopTimeoutOf returns the stop timeout cfg asks for, checked.
func (c *config) stopTimeoutOf() (time.Duration, error) {
	if c.stopTimeout == nil {
		return DefaultStopTimeout, nil
	}
	if d := *c.stopTimeout; d <= 0 {
		return 0, errs.Newf(errs.ErrInvalidOption, "WithStopTimeout(%v): the timeout must be positive", d)
	}
	return *c.stopTimeout, nil
}

// pendingTimeoutOf returns the pending timeout cfg asks for, checked.
func (c *config) pendingTimeoutOf() (time.Duration, error) {
	if c.pendingTimeout < 0 {
		return 0, errs.Newf(errs.ErrInvalidOption, "WithPendingTimeout(%v): the timeout cannot be negative", c.pendingTimeout)
	}
	return c.pendingTimeout, nil
}

// nodeSettings returns the node's dead actor retention and stop timeout,
// checked.
func (c *config) nodeSettings() (retention int, stopTimeout time.Duration, err error) {
	if retention, err = c.deadActorRetention(); err != nil {
		return 0, 0, err
	}
	if stopTimeout, err = c.stopTimeoutOf(); err != nil {
		return 0, 0, err
	}
	return retention, stopTimeout, nil
}
