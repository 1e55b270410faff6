// Package telemetry traces and measures a node's spawns and calls with
// OpenTelemetry: a client span at the handle, a server span around the
// method, spans for spawns, restarts and kills, call counters and
// latencies, and gauges of the node's actors and resources.
//
// A nil *Telemetry, and one whose providers record nothing, cost a
// branch or two per call: no allocation, no clock read, no attributes.
package telemetry

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"net/http"
	"reflect"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Scope is the instrumentation scope of every span and instrument.
const Scope = "github.com/troupehq/troupe/runtime"

// Config says where spans and measurements go.
type Config struct {
	// TracerProvider receives the spans. Nil: the global provider, the
	// one installed at New, or if none is yet, the one installed later.
	// The runtime builds no exporter of its own: the program picks them
	// (runtime/actor/otlp builds them from the OTEL_* environment).
	TracerProvider trace.TracerProvider
	// MeterProvider receives the measurements. Nil: an SDK provider
	// serving Prometheus when PrometheusAddr is set, else as
	// TracerProvider.
	MeterProvider metric.MeterProvider
	// Propagator carries trace context across processes. Nil: the global
	// propagator, or W3C trace context and baggage when the global one
	// carries nothing.
	Propagator propagation.TextMapPropagator
	// PrometheusAddr, if set, serves the node's metrics at /metrics on
	// this address. It cannot be combined with MeterProvider.
	PrometheusAddr string
	// NodeID and JobID label the node's spans.
	NodeID, JobID string
	Log           *slog.Logger
}

// mode says whether a signal is on, off, or follows the global provider
// until one is installed.
type mode uint8

const (
	off mode = iota
	on
	global
)

// Telemetry instruments one node.
type Telemetry struct {
	tracer     trace.Tracer
	traceMode  mode
	unsetTP    trace.TracerProvider // the global before any SDK was installed
	meterMode  mode
	unsetMP    metric.MeterProvider
	propagator propagation.TextMapPropagator
	node, job  attribute.KeyValue

	clientAttrs clientAttrCache
	metrics
	owned   []func(context.Context) error // shut down at Shutdown, in order
	server  *http.Server
	addr    string
	log     *slog.Logger
	sources []metric.Registration
}

// New builds the node's telemetry over the providers cfg gives or the
// globals, and the Prometheus endpoint if cfg.PrometheusAddr is set.
func New(ctx context.Context, cfg Config) (t *Telemetry, err error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.PrometheusAddr != "" && cfg.MeterProvider != nil {
		return nil, errors.New("a meter provider and a Prometheus address cannot both be set: add a Prometheus reader to the provider instead")
	}
	t = &Telemetry{
		clientAttrs: clientAttrCache{seed: maphash.MakeSeed()},
		node:        NodeID.String(cfg.NodeID),
		job:         JobID.String(cfg.JobID),
		log:         cfg.Log,
	}
	defer func() {
		if err != nil {
			_ = t.Shutdown(context.WithoutCancel(ctx))
			t = nil
		}
	}()

	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	switch {
	case isUnsetGlobal(tp):
		// Nothing installed yet: follow the global, which forwards to the
		// provider installed later.
		t.traceMode, t.unsetTP = global, tp
	case isNoop(tp):
		t.traceMode = off
	default:
		t.traceMode = on
	}
	t.tracer = tp.Tracer(Scope)

	mp := cfg.MeterProvider
	if mp == nil && cfg.PrometheusAddr != "" {
		if mp, err = t.prometheusMeterProvider(cfg.PrometheusAddr); err != nil {
			return nil, err
		}
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	switch {
	case isUnsetGlobal(mp):
		// Nothing installed yet: follow the global, which forwards to the
		// provider installed later.
		t.meterMode, t.unsetMP = global, mp
	case isNoop(mp):
		t.meterMode = off
	default:
		t.meterMode = on
	}
	if err := t.metrics.init(mp.Meter(Scope)); err != nil {
		return nil, err
	}

	t.propagator = cfg.Propagator
	if t.propagator == nil {
		t.propagator = otel.GetTextMapPropagator()
		if len(t.propagator.Fields()) == 0 {
			t.propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
		}
	}
	return t, nil
}

// Shutdown stops the metrics endpoint and shuts down the provider New
// built for it. Providers passed in are left to their owner.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	var errList []error
	for _, r := range t.sources {
		errList = append(errList, r.Unregister())
	}
	t.sources = nil
	for _, f := range t.owned {
		errList = append(errList, f(ctx))
	}
	t.owned = nil
	return errors.Join(errList...)
}

// Tracing reports whether spans may be recorded now. It is cheap enough
// for every call.
func (t *Telemetry) Tracing() bool {
	if t == nil {
		return false
	}
	switch t.traceMode {
	case on:
		return true
	case global:
		tp := otel.GetTracerProvider()
		return tp != t.unsetTP && !isNoop(tp)
	}
	return false
}

// Metering reports whether measurements may be recorded now.
func (t *Telemetry) Metering() bool {
	if t == nil {
		return false
	}
	switch t.meterMode {
	case on:
		return true
	case global:
		mp := otel.GetMeterProvider()
		return mp != t.unsetMP && !isNoop(mp)
	}
	return false
}

// Measure reports whether a call submitted with ctx should note when it
// was queued: its span records, it comes from another node with the
// caller's span context and tracing is on here (its server span starts
// under that context), or metrics are on.
func (t *Telemetry) Measure(ctx context.Context) bool {
	if t == nil {
		return false
	}
	span := trace.SpanFromContext(ctx)
	return t.Metering() || span.IsRecording() || span.SpanContext().IsRemote() && t.Tracing()
}

// isUnsetGlobal reports whether p is the otel global's stand-in, which
// drops everything until an SDK provider is installed.
func isUnsetGlobal(p any) bool {
	rt := reflect.TypeOf(p)
	return rt != nil && rt.Kind() == reflect.Pointer && rt.Elem().PkgPath() == "go.opentelemetry.io/otel/internal/global"
}

func isNoop(p any) bool {
	switch p.(type) {
	case tracenoop.TracerProvider, *tracenoop.TracerProvider, metricnoop.MeterProvider, *metricnoop.MeterProvider:
		return true
	}
	return false
}
