package telemetry

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

func clearEnv(t *testing.T) {
	for _, k := range []string{"OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"} {
		t.Setenv(k, "")
	}
}

// The hot path of a call costs nothing when nothing records: no
// allocation, no clock read, no attributes. Tests in this package run
// before any global provider is installed, except TestGlobalInstalledLater.
func TestNothingRecordedCostsNoAllocations(t *testing.T) {
	clearEnv(t)
	global, err := New(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer global.Shutdown(context.Background())
	noop, err := New(context.Background(), Config{TracerProvider: tracenoop.NewTracerProvider()})
	if err != nil {
		t.Fatal(err)
	}
	defer noop.Shutdown(context.Background())
	actor := &Actor{ID: "a1", Class: "counter.v1.Counter"}
	for name, tel := range map[string]*Telemetry{"nil": nil, "unset global": global, "noop provider": noop} {
		if tel.Tracing() || tel.Metering() {
			t.Errorf("%s: Tracing %v, Metering %v; want both false", name, tel.Tracing(), tel.Metering())
		}
		ctx := context.Background()
		allocs := testing.AllocsPerRun(100, func() {
			cctx, span := tel.StartClient(ctx, "/counter.v1.Counter/Increment", actor)
			if span != nil || cctx != ctx {
				t.Fatalf("%s: StartClient made a span", name)
			}
			if tel.Measure(cctx) {
				t.Fatalf("%s: Measure is true", name)
			}
			sctx, server := tel.StartServer(cctx, "/counter.v1.Counter/Increment", actor, time.Time{})
			server.End(nil)
			tel.EndCall(nil, "/counter.v1.Counter/Increment", "counter.v1.Counter", time.Time{}, nil)
			_ = sctx
		})
		if allocs != 0 {
			t.Errorf("%s: a call's telemetry allocates %v times, want 0", name, allocs)
		}
	}
}

func TestPropagationRoundTrip(t *testing.T) {
	clearEnv(t)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	tel, err := New(context.Background(), Config{TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := tel.StartClient(context.Background(), "/counter.v1.Counter/Increment", &Actor{ID: "a1", Class: "counter.v1.Counter"})
	md := tel.Inject(ctx)
	if md["traceparent"] == "" {
		t.Fatalf("Inject = %v, want a traceparent (the default propagator is W3C trace context)", md)
	}
	remote := trace.SpanContextFromContext(tel.Extract(context.Background(), md))
	if !remote.IsRemote() || remote.TraceID() != span.SpanContext().TraceID() || remote.SpanID() != span.SpanContext().SpanID() {
		t.Errorf("Extract = %v, want the client span %v", remote, span.SpanContext())
	}
	if got := tel.Inject(context.Background()); got != nil {
		t.Errorf("Inject without a span = %v, want nil", got)
	}
	tel.EndCall(span, "/counter.v1.Counter/Increment", "", time.Time{}, errors.New("x"))
}

// The global provider is followed: a program that installs its SDK after
// Start still gets spans.
func TestGlobalInstalledLater(t *testing.T) {
	clearEnv(t)
	if !isUnsetGlobal(otel.GetTracerProvider()) {
		t.Skip("a global provider was installed by an earlier run of this test")
	}
	tel, err := New(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if tel.Tracing() {
		t.Fatal("Tracing before any provider was installed")
	}
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	otel.SetTracerProvider(tp)
	defer otel.SetTracerProvider(tracenoop.NewTracerProvider())
	if !tel.Tracing() {
		t.Fatal("not Tracing after the global provider was installed")
	}
	_, span := tel.StartClient(context.Background(), "/counter.v1.Counter/Get", &Actor{ID: "a1", Class: "counter.v1.Counter"})
	tel.EndCall(span, "/counter.v1.Counter/Get", "", time.Time{}, nil)
	if got := exp.GetSpans(); len(got) != 1 || got[0].Name != "counter.v1.Counter/Get" {
		t.Errorf("spans = %v, want one named counter.v1.Counter/Get", got.Snapshots())
	}
}

func TestEnvironmentBuildsProviders(t *testing.T) {
	clearEnv(t)
	t.Setenv("OTEL_TRACES_EXPORTER", "console")
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	tel, err := New(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if tel.traceMode != on || len(tel.owned) != 1 {
		t.Errorf("with OTEL_TRACES_EXPORTER=console: trace mode %v, %d owned providers; want on, 1", tel.traceMode, len(tel.owned))
	}
	if tel.meterMode != global {
		t.Errorf("with OTEL_METRICS_EXPORTER=none: meter mode %v, want the global", tel.meterMode)
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
