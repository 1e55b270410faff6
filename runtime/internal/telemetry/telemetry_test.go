package telemetry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
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

// The runtime builds no exporter from the OTEL_* environment: that is the
// program's choice (runtime/actor/otlp). With one named, telemetry is what
// it is without: it uses the global providers and owns nothing.
func TestEnvironmentBuildsNoExporter(t *testing.T) {
	clearEnv(t)
	plain, err := New(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Shutdown(context.Background())
	t.Setenv("OTEL_TRACES_EXPORTER", "console")
	t.Setenv("OTEL_METRICS_EXPORTER", "console")
	tel, err := New(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	if tel.traceMode != plain.traceMode || tel.meterMode != plain.meterMode || len(tel.owned) != 0 {
		t.Errorf("with OTEL_*_EXPORTER=console: trace mode %v, meter mode %v, %d owned providers; want %v, %v as without, and none owned",
			tel.traceMode, tel.meterMode, len(tel.owned), plain.traceMode, plain.meterMode)
	}
}

// attrValue returns the value of key in kv, and how many times it is
// there.
func attrValue(kv []attribute.KeyValue, key attribute.Key) (string, int) {
	var v string
	n := 0
	for _, a := range kv {
		if a.Key == key {
			v = a.Value.String()
			n++
		}
	}
	return v, n
}

// A call's spans carry its status code once: ok, or the code of the
// error that replaced it.
func TestCallStatusCode(t *testing.T) {
	clearEnv(t)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	tel, err := New(context.Background(), Config{TracerProvider: tp, MeterProvider: metricnoop.NewMeterProvider()})
	if err != nil {
		t.Fatal(err)
	}
	a := &Actor{ID: "a1", Class: "counter.v1.Counter"}
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{connect.NewError(connect.CodeNotFound, errors.New("no such thing")), "not_found"},
		{errors.New("plain"), "unknown"},
	} {
		exp.Reset()
		ctx, span := tel.StartClient(context.Background(), "/counter.v1.Counter/Get", a)
		_, server := tel.StartServer(ctx, "/counter.v1.Counter/Get", a, time.Now())
		server.End(c.err)
		tel.EndCall(span, "/counter.v1.Counter/Get", "", time.Time{}, c.err)
		spans := exp.GetSpans()
		if len(spans) != 2 {
			t.Fatalf("error %v: %d spans, want 2", c.err, len(spans))
		}
		for _, s := range spans {
			if got, n := attrValue(s.Attributes, semconv.RPCResponseStatusCodeKey); got != c.want || n != 1 {
				t.Errorf("error %v: %s span has rpc.response.status_code %q %d times, want %q once", c.err, s.SpanKind, got, n, c.want)
			}
			if wantErr := c.err != nil; (s.Status.Code == codes.Error) != wantErr {
				t.Errorf("error %v: %s span status %v", c.err, s.SpanKind, s.Status)
			}
		}
	}
}

// Client spans share the attributes of their target and method, built
// once; each still gets its own target's.
func TestClientAttributesPerTarget(t *testing.T) {
	clearEnv(t)
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	tel, err := New(context.Background(), Config{TracerProvider: tp, JobID: "job-1"})
	if err != nil {
		t.Fatal(err)
	}
	// More targets than slots, each called twice, so that some replace
	// others.
	for round := range 2 {
		for i := range 3 * clientAttrSlots {
			a := &Actor{ID: fmt.Sprintf("a%d", i), Class: "counter.v1.Counter", Node: "n1"}
			if i%2 == 0 {
				a.Name = "named"
			}
			if i%3 == 0 {
				a.Job = "job-2"
			}
			procedure := "/counter.v1.Counter/Get"
			if i%5 == 0 {
				procedure = "/counter.v1.Counter/Increment"
			}
			kv := tel.clientAttrs.get(procedure, a, tel.job)
			want := a.attrs(rpcSystem, rpcMethod(procedure), statusOK)
			if a.Job == "" {
				want = append(want, tel.job)
			}
			if !slices.Equal(kv, want) {
				t.Fatalf("round %d: attributes of %+v %s = %v, want %v", round, a, procedure, kv, want)
			}
			if cap(kv) != len(kv) {
				t.Fatalf("attributes have room to append to: cap %d, len %d", cap(kv), len(kv))
			}
		}
	}
}

// A traced call allocates at most one object more than the SDK needs for
// its two spans: the server span's attributes, which hold its queue time.
func TestTracedCallAllocations(t *testing.T) {
	clearEnv(t)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(tracetest.NewNoopExporter())))
	defer tp.Shutdown(context.Background())
	tel, err := New(context.Background(), Config{TracerProvider: tp, MeterProvider: metricnoop.NewMeterProvider(), NodeID: "n1", JobID: "job-1"})
	if err != nil {
		t.Fatal(err)
	}
	const procedure = "/counter.v1.Counter/Increment"
	ctx := context.Background()
	runtime := testing.AllocsPerRun(100, func() {
		a := Actor{ID: "a1", Class: "counter.v1.Counter", Job: "job-1", Node: "n1"}
		cctx, span := tel.StartClient(ctx, procedure, &a)
		_, server := tel.StartServer(cctx, procedure, &a, time.Now())
		server.End(nil)
		tel.EndCall(span, procedure, a.Class, time.Time{}, nil)
	})

	// The same spans and attributes, prebuilt, straight on the SDK.
	tracer := tp.Tracer("bare")
	a := Actor{ID: "a1", Class: "counter.v1.Counter", Job: "job-1", Node: "n1"}
	client := a.attrs(rpcSystem, rpcMethod(procedure), statusOK)
	server := a.attrs(rpcSystem, rpcMethod(procedure), statusOK, QueuedNanos.Int64(1))
	bare := testing.AllocsPerRun(100, func() {
		cctx, cs := tracer.Start(ctx, SpanName(procedure), clientOpts...)
		cs.SetAttributes(client...)
		_, ss := tracer.Start(cctx, SpanName(procedure), serverOpts...)
		ss.SetAttributes(server...)
		ss.End()
		cs.End()
	})
	t.Logf("traced call: %v allocations, bare SDK: %v", runtime, bare)
	if runtime > bare+1 {
		t.Errorf("a traced call allocates %v times, the SDK alone %v: want at most one more", runtime, bare)
	}
}
