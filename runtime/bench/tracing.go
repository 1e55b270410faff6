package bench

import (
	"context"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// localSyncTracingOff is LocalSync with no tracer provider given and
// none installed globally: what every call pays for tracing being
// possible.
func localSyncTracingOff() Workload {
	return localSyncTracing("LocalSyncTracingOff", "BaselineChannelRoundTrip",
		"LocalSync with no tracer provider", func() (trace.TracerProvider, func() error) { return nil, nil })
}

// localSyncTracingNoop is LocalSync with a no-op tracer provider passed
// with actor.WithTracerProvider.
func localSyncTracingNoop() Workload {
	return localSyncTracing("LocalSyncTracingNoop", "LocalSyncTracingOff",
		"LocalSync with a no-op tracer provider", func() (trace.TracerProvider, func() error) {
			return noop.NewTracerProvider(), nil
		})
}

// localSyncTracingSampled is LocalSync with an SDK tracer provider that
// samples every call: each call records its client and server spans,
// which a span processor then drops, so that the cost measured is the
// runtime's and the SDK's, not an exporter's.
func localSyncTracingSampled() Workload {
	return localSyncTracing("LocalSyncTracingSampled", "LocalSyncTracingOff",
		"LocalSync with an SDK tracer provider sampling every call, spans dropped when they end",
		func() (trace.TracerProvider, func() error) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
				sdktrace.WithSpanProcessor(dropSpans{}))
			return tp, func() error { return tp.Shutdown(context.Background()) }
		})
}

// localSyncTracing is LocalSync on a system given the tracer provider
// provider returns, if any; the function it returns with it, if any,
// shuts the provider down once the system is.
func localSyncTracing(name, baseline, doc string, provider func() (trace.TracerProvider, func() error)) Workload {
	return Workload{
		Name:     name,
		Baseline: baseline,
		Doc:      doc,
		Setup: func() (*Run, error) {
			tp, shutdown := provider()
			var opts []actor.Option
			if tp != nil {
				opts = append(opts, actor.WithTracerProvider(tp))
			}
			p, err := startProbes(testv1actor.ProbeOptions(), 1, opts...)
			if err != nil {
				if shutdown != nil {
					_ = shutdown()
				}
				return nil, err
			}
			p.stop = shutdown
			return p.syncRun(false), nil
		},
	}
}

// dropSpans is a span processor that drops every span: the SDK still
// samples, records and ends them.
type dropSpans struct{}

func (dropSpans) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (dropSpans) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (dropSpans) Shutdown(context.Context) error                  { return nil }
func (dropSpans) ForceFlush(context.Context) error                { return nil }
