package actor_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/internal/testprom"
	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// traced starts a system whose spans go, synchronously, to the returned
// in-memory exporter.
func traced(t *testing.T, b *behaviour, opts ...actor.Option) (*actor.System, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return start(t, b, append([]actor.Option{actor.WithTracerProvider(tp)}, opts...)...), exp
}

func attr(s tracetest.SpanStub, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func attrString(s tracetest.SpanStub, key string) string {
	v, _ := attr(s, attribute.Key(key))
	return v.String()
}

// inTrace returns the spans of one trace, by name.
func inTrace(spans tracetest.SpanStubs, id trace.TraceID) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		if s.SpanContext.TraceID() == id {
			out = append(out, s)
		}
	}
	return out
}

func TestOneDriverCallIsOneTrace(t *testing.T) {
	var workers []*testv1actor.ProbeHandle
	b := &behaviour{do: func(ctx context.Context, _ *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
		// The coordinator calls the three workers at once, then waits.
		futs := make([]*actor.Future[*testv1.AddResponse], len(workers))
		for i, w := range workers {
			futs[i] = w.Add(ctx, &testv1.AddRequest{By: int64(i + 1)})
		}
		var sum int64
		for _, f := range futs {
			r, err := f.Get(ctx)
			if err != nil {
				return nil, err
			}
			sum += r.GetValue()
		}
		return &testv1.DoResponse{Value: sum}, nil
	}}
	sys, exp := traced(t, b)
	ctx := context.Background()
	for i := range 3 {
		workers = append(workers, spawn(t, sys, testv1actor.ProbeOptions().Name(fmt.Sprintf("worker-%d", i)), nil))
	}
	coord := spawn(t, sys, testv1actor.ProbeOptions().Name("coordinator"), nil)

	resp, err := coord.Do(ctx, &testv1.DoRequest{}).Get(ctx)
	if err != nil || resp.GetValue() != 6 {
		t.Fatalf("Do = %v, %v; want 6", resp, err)
	}

	all := exp.GetSpans()
	var root tracetest.SpanStub
	for _, s := range all {
		if s.Name == "test.v1.Probe/Do" && s.SpanKind == trace.SpanKindClient {
			root = s
		}
	}
	if !root.SpanContext.IsValid() {
		t.Fatalf("no client span for Do among %d spans", len(all))
	}
	if root.Parent.IsValid() {
		t.Errorf("the driver's client span has parent %v, want none", root.Parent.SpanID())
	}
	spans := inTrace(all, root.SpanContext.TraceID())
	if len(spans) != 8 {
		names := make([]string, len(spans))
		for i, s := range spans {
			names[i] = s.Name + " " + s.SpanKind.String()
		}
		t.Fatalf("trace has %d spans %v, want 8: Do client and server, 3 Add clients and servers", len(spans), names)
	}
	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID()] = s
	}
	parentOf := func(s tracetest.SpanStub) tracetest.SpanStub { return byID[s.Parent.SpanID()] }

	var doServer tracetest.SpanStub
	var addClients, addServers []tracetest.SpanStub
	for _, s := range spans {
		switch {
		case s.Name == "test.v1.Probe/Do" && s.SpanKind == trace.SpanKindServer:
			doServer = s
		case s.Name == "test.v1.Probe/Add" && s.SpanKind == trace.SpanKindClient:
			addClients = append(addClients, s)
		case s.Name == "test.v1.Probe/Add" && s.SpanKind == trace.SpanKindServer:
			addServers = append(addServers, s)
		}
	}
	if got := parentOf(doServer); got.SpanContext.SpanID() != root.SpanContext.SpanID() {
		t.Errorf("Do server span's parent is %q, want the driver's client span", got.Name)
	}
	if len(addClients) != 3 || len(addServers) != 3 {
		t.Fatalf("%d Add client and %d Add server spans, want 3 and 3", len(addClients), len(addServers))
	}
	for _, c := range addClients {
		if parentOf(c).SpanContext.SpanID() != doServer.SpanContext.SpanID() {
			t.Errorf("Add client span's parent is %q (%s), want the coordinator's server span", parentOf(c).Name, parentOf(c).SpanKind)
		}
	}
	var served []string
	clientOf := map[trace.SpanID]bool{}
	for _, s := range addServers {
		p := parentOf(s)
		if p.Name != "test.v1.Probe/Add" || p.SpanKind != trace.SpanKindClient || clientOf[p.SpanContext.SpanID()] {
			t.Errorf("Add server span's parent is %q (%s), want its own Add client span", p.Name, p.SpanKind)
		}
		clientOf[p.SpanContext.SpanID()] = true
		served = append(served, attrString(s, "troupe.actor.name"))
		if _, ok := attr(s, "troupe.call.queued_ns"); !ok {
			t.Errorf("Add server span has no troupe.call.queued_ns")
		}
	}
	slices.Sort(served)
	if want := []string{"worker-0", "worker-1", "worker-2"}; !slices.Equal(served, want) {
		t.Errorf("Add server spans ran on %v, want %v", served, want)
	}

	// The attributes a backend filters on.
	for key, want := range map[string]string{
		"rpc.system.name":          "connectrpc",
		"rpc.method":               "test.v1.Probe/Do",
		"rpc.response.status_code": "ok",
		"troupe.actor.id":          coord.Ref().ID(),
		"troupe.actor.class":       "test.v1.Probe",
		"troupe.actor.name":        "coordinator",
		"troupe.node.id":           sys.NodeID(),
		"troupe.job.id":            sys.Job(),
	} {
		for _, s := range []tracetest.SpanStub{root, doServer} {
			if got := attrString(s, key); got != want {
				t.Errorf("%s span: %s = %q, want %q", s.SpanKind, key, got, want)
			}
		}
	}

	// Every spawn is a span naming the actor it made.
	var spawned []string
	for _, s := range all {
		if s.Name == "troupe.spawn test.v1.Probe" {
			spawned = append(spawned, attrString(s, "troupe.actor.id"))
		}
	}
	if len(spawned) != 4 || !slices.Contains(spawned, coord.Ref().ID()) {
		t.Errorf("spawn spans name actors %v, want 4 including the coordinator %s", spawned, coord.Ref().ID())
	}
}

func TestSpanStatusOfErrorsAndPanics(t *testing.T) {
	b := &behaviour{do: func(_ context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		switch r.GetKey() {
		case "panic":
			panic("boom in Do")
		case "error":
			return nil, connect.NewError(connect.CodeNotFound, errors.New("no such thing"))
		}
		return &testv1.DoResponse{}, nil
	}}
	sys, exp := traced(t, b)
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(1), nil)

	if _, err := h.Do(ctx, &testv1.DoRequest{Key: "error"}).Get(ctx); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("error call: %v, want not_found", err)
	}
	for _, s := range exp.GetSpans() {
		if s.Name != "test.v1.Probe/Do" {
			continue
		}
		if s.Status.Code != codes.Error || !strings.Contains(s.Status.Description, "no such thing") {
			t.Errorf("%s span status = %v %q, want Error with the message", s.SpanKind, s.Status.Code, s.Status.Description)
		}
		if got := attrString(s, "rpc.response.status_code"); got != "not_found" {
			t.Errorf("%s span rpc.response.status_code = %q, want not_found", s.SpanKind, got)
		}
	}
	exp.Reset()

	_, err := h.Do(ctx, &testv1.DoRequest{Key: "panic"}).Get(ctx)
	if !errors.Is(err, actor.ErrActorDied) {
		t.Fatalf("panicking call: %v, want ErrActorDied", err)
	}
	var server, client tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		switch {
		case s.Name == "test.v1.Probe/Do" && s.SpanKind == trace.SpanKindServer:
			server = s
		case s.Name == "test.v1.Probe/Do" && s.SpanKind == trace.SpanKindClient:
			client = s
		}
	}
	if server.Status.Code != codes.Error || !strings.Contains(server.Status.Description, "boom in Do") {
		t.Errorf("server span status = %v %q, want Error with the panic", server.Status.Code, server.Status.Description)
	}
	var exception bool
	for _, e := range server.Events {
		if e.Name == "exception" {
			for _, kv := range e.Attributes {
				exception = exception || (kv.Key == "exception.message" && kv.Value.AsString() == "boom in Do")
			}
		}
	}
	if !exception {
		t.Errorf("server span events %v lack an exception with the panic message", server.Events)
	}
	if client.Status.Code != codes.Error || attrString(client, "rpc.response.status_code") == "ok" {
		t.Errorf("client span status = %v, code %q; want Error", client.Status.Code, attrString(client, "rpc.response.status_code"))
	}

	// The actor restarts after the panic, under its spawn's trace.
	eventually(t, "the restart span", func() bool {
		for _, s := range exp.GetSpans() {
			if s.Name == "troupe.restart test.v1.Probe" && attrString(s, "troupe.actor.id") == h.Ref().ID() {
				return true
			}
		}
		return false
	})
}

func TestPrometheusEndpointCountsCalls(t *testing.T) {
	sys := start(t, nil, actor.WithPrometheus("127.0.0.1:0"), actor.WithNumCPUs(4))
	addr := sys.MetricsAddr()
	if addr == "" {
		t.Fatal("MetricsAddr is empty with WithPrometheus")
	}
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().NumCPUs(1), nil)
	for range 5 {
		if _, err := h.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
			t.Fatal(err)
		}
	}

	for method, want := range map[string]float64{"test.v1.Probe/Add": 5, "test.v1.Probe/Get": 2} {
		got := testprom.Scrape(t, addr, "troupe_calls_total", `rpc_method="`+method+`"`, `rpc_response_status_code="ok"`, `troupe_actor_class="test.v1.Probe"`)
		if len(got) != 1 || got[0] != want {
			t.Errorf("troupe_calls_total for %s = %v, want [%v]", method, got, want)
		}
	}
	if got := testprom.Scrape(t, addr, "troupe_call_duration_seconds_count", `rpc_method="test.v1.Probe/Add"`); len(got) != 1 || got[0] != 5 {
		t.Errorf("troupe_call_duration_seconds_count for Add = %v, want [5]", got)
	}
	if got := testprom.Scrape(t, addr, "troupe_actors", `troupe_actor_state="ALIVE"`, `troupe_actor_class="test.v1.Probe"`); len(got) != 1 || got[0] != 1 {
		t.Errorf("troupe_actors ALIVE = %v, want [1]", got)
	}
	if got := testprom.Scrape(t, addr, "troupe_node_resources_total", `troupe_resource_name="CPU"`); len(got) != 1 || got[0] != 4 {
		t.Errorf("troupe_node_resources_total CPU = %v, want [4]", got)
	}
	if got := testprom.Scrape(t, addr, "troupe_node_resources_used", `troupe_resource_name="CPU"`); len(got) != 1 || got[0] != 1 {
		t.Errorf("troupe_node_resources_used CPU = %v, want [1]", got)
	}

	// The Go runtime's and the process's own metrics sit beside the
	// node's.
	if got := testprom.Scrape(t, addr, "go_goroutines"); len(got) != 1 || got[0] < 1 {
		t.Errorf("go_goroutines = %v, want one value ≥ 1", got)
	}
	if got := testprom.Scrape(t, addr, "process_resident_memory_bytes"); len(got) != 1 || got[0] < 1<<20 {
		t.Errorf("process_resident_memory_bytes = %v, want one value ≥ 1 MiB", got)
	}

	if err := sys.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
		resp.Body.Close()
		t.Errorf("the metrics endpoint still answers after Shutdown")
	}
}

func TestMetricsOfQueuesRestartsAndErrors(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	g := newGate(1)
	b := &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		switch r.GetKey() {
		case "hold":
			return &testv1.DoResponse{}, g.pass(ctx)
		case "panic":
			panic("boom")
		}
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("bad"))
	}}
	sys := start(t, b, actor.WithMeterProvider(mp))
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(1), nil)

	held := h.Do(ctx, &testv1.DoRequest{Key: "hold"})
	g.wait(t, 1)
	queued := []*actor.Future[*testv1.AddResponse]{h.Add(ctx, &testv1.AddRequest{By: 1}), h.Add(ctx, &testv1.AddRequest{By: 1})}
	rm := collect(t, reader)
	if got := gauge(rm, "troupe.actor.queue_depth", "troupe.actor.class", "test.v1.Probe"); got != 2 {
		t.Errorf("queue depth with two calls queued behind a running one = %d, want 2", got)
	}
	g.open()
	if _, err := held.Get(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range queued {
		if _, err := f.Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Do(ctx, &testv1.DoRequest{Key: "invalid"}).Get(ctx); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("error call: %v", err)
	}
	if _, err := h.Do(ctx, &testv1.DoRequest{Key: "panic"}).Get(ctx); err == nil {
		t.Fatal("panicking call succeeded")
	}
	eventually(t, "the restart to be counted", func() bool {
		return sum(collect(t, reader), "troupe.actor.restarts", "troupe.actor.class", "test.v1.Probe") == 1
	})

	rm = collect(t, reader)
	calls := map[string]int64{}
	for _, dp := range find(rm, "troupe.calls").(metricdata.Sum[int64]).DataPoints {
		m, _ := dp.Attributes.Value("rpc.method")
		c, _ := dp.Attributes.Value("rpc.response.status_code")
		calls[m.AsString()+" "+c.AsString()] += dp.Value
	}
	want := map[string]int64{
		"test.v1.Probe/Do ok":               1,
		"test.v1.Probe/Add ok":              2,
		"test.v1.Probe/Do invalid_argument": 1,
		"test.v1.Probe/Do aborted":          1, // the call the panic killed: actor died
	}
	for k, n := range want {
		if calls[k] != n {
			t.Errorf("troupe.calls %s = %d, want %d (all: %v)", k, calls[k], n, calls)
		}
	}
	var waits uint64
	for _, dp := range find(rm, "troupe.call.queue_wait").(metricdata.Histogram[float64]).DataPoints {
		waits += dp.Count
	}
	if waits != 5 {
		t.Errorf("troupe.call.queue_wait has %d samples, want one per call that started: 5", waits)
	}
	if got := gauge(rm, "troupe.actors.pending", "troupe.actor.class", "test.v1.Probe"); got != 0 {
		t.Errorf("troupe.actors.pending = %d, want 0", got)
	}
}

func collect(t *testing.T, r sdkmetric.Reader) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

func find(rm metricdata.ResourceMetrics, name string) metricdata.Aggregation {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m.Data
			}
		}
	}
	return nil
}

func gauge(rm metricdata.ResourceMetrics, name string, key attribute.Key, value string) int64 {
	g, _ := find(rm, name).(metricdata.Gauge[int64])
	var n int64
	for _, dp := range g.DataPoints {
		if v, ok := dp.Attributes.Value(key); ok && v.AsString() == value {
			n += dp.Value
		}
	}
	return n
}

func sum(rm metricdata.ResourceMetrics, name string, key attribute.Key, value string) int64 {
	s, _ := find(rm, name).(metricdata.Sum[int64])
	var n int64
	for _, dp := range s.DataPoints {
		if v, ok := dp.Attributes.Value(key); ok && v.AsString() == value {
			n += dp.Value
		}
	}
	return n
}

func TestCallsWorkWithNoTelemetryConfigured(t *testing.T) {
	for _, k := range []string{"OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"} {
		t.Setenv(k, "")
	}
	sys := start(t, nil)
	if sys.MetricsAddr() != "" {
		t.Errorf("MetricsAddr = %q without WithPrometheus, want empty", sys.MetricsAddr())
	}
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	for i := range 3 {
		resp, err := h.Add(ctx, &testv1.AddRequest{By: 2}).Get(ctx)
		if err != nil || resp.GetValue() != int64(2*(i+1)) {
			t.Fatalf("Add = %v, %v; want %d", resp, err, 2*(i+1))
		}
	}
}

func TestPrometheusAndMeterProviderConflict(t *testing.T) {
	mp := sdkmetric.NewMeterProvider()
	defer mp.Shutdown(context.Background())
	_, err := actor.Start(context.Background(), actor.WithMeterProvider(mp), actor.WithPrometheus("127.0.0.1:0"))
	if !errors.Is(err, actor.ErrInvalidOption) {
		t.Fatalf("Start with both = %v, want ErrInvalidOption", err)
	}
}

// BenchmarkCall is the baseline of BenchmarkCallTraced: a call and its
// result, with no telemetry configured.
func BenchmarkCall(b *testing.B) {
	sys := start(b, nil)
	benchCalls(b, sys)
}

// BenchmarkCallTraced is a call with every span recorded and metrics on.
func BenchmarkCallTraced(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(discard{}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	sys := start(b, nil, actor.WithTracerProvider(tp), actor.WithMeterProvider(mp))
	benchCalls(b, sys)
}

func benchCalls(b *testing.B, sys *actor.System) {
	ctx := context.Background()
	h := spawn(b, sys, testv1actor.ProbeOptions(), nil)
	req := &testv1.AddRequest{By: 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Add(ctx, req).Get(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// discard is a span processor that drops ended spans.
type discard struct{}

func (discard) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discard) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discard) Shutdown(context.Context) error                  { return nil }
func (discard) ForceFlush(context.Context) error                { return nil }
