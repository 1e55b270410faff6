package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// exportedSpan is what the test reads of a span a node wrote to its span
// file (stdouttrace's JSON form of a span).
type exportedSpan struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ TraceID, SpanID string }
	SpanKind    trace.SpanKind
	Attributes  []struct {
		Key   string
		Value struct{ Value any }
	}
}

func (s exportedSpan) attr(key string) any {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value.Value
		}
	}
	return nil
}

// readSpans reads the spans a node has written to path so far.
func readSpans(t *testing.T, path string) []exportedSpan {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var spans []exportedSpan
	dec := json.NewDecoder(f)
	for {
		var s exportedSpan
		err := dec.Decode(&s)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return spans // the last span may be half written
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		spans = append(spans, s)
	}
}

// findSpan returns the span of kind named name in spans, failing unless
// there is exactly one.
func findSpan(t *testing.T, where string, spans []exportedSpan, name string, kind trace.SpanKind) exportedSpan {
	t.Helper()
	var found []exportedSpan
	for _, s := range spans {
		if s.Name == name && s.SpanKind == kind {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s has %d %v spans %q, want 1; all its spans: %+v", where, len(found), kind, name, spans)
	}
	return found[0]
}

// TestTraceAcrossNodes follows one driver call through two node
// processes: the driver calls actor A on node 1, which calls actor B on
// node 2 through the reference in the request. The driver's spans go to
// an in-memory exporter and each node's to a file; all four call spans
// must share the driver's trace, each the child of the one before.
func TestTraceAcrossNodes(t *testing.T) {
	c := newCluster(t)
	dir := t.TempDir()
	files := map[string]string{}
	for _, n := range []string{"node1", "node2"} {
		files[n] = filepath.Join(dir, n+".jsonl")
		p, m := start(t, []string{"TROUPE_TOKEN=" + c.token, "TROUPE_TEST_SPANS=" + files[n]}, listening,
			"start", "--address", c.headAddr, "--node-id", n)
		c.nodes[m[2]], c.addrs[m[2]] = p, m[1]
	}

	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sys, err := actor.Connect(ctx, c.headAddr, actor.WithNamespace("trace"), actor.WithToken(c.token),
		actor.WithTracerProvider(tp), actor.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sys.Shutdown(ctx)
	})
	a := spawn(t, sys, testv1actor.ProbeOptions().Scheduling(actor.NodeAffinity("node1", false)))
	b := spawn(t, sys, testv1actor.ProbeOptions().Scheduling(actor.NodeAffinity("node2", false)))

	exp.Reset() // only the spans of the call below
	res, err := a.Do(ctx, &testv1.DoRequest{Key: "call", Ref: b.ActorRef()}).Get(ctx)
	if err != nil {
		t.Fatalf("A.Do(call B): %v", err)
	}
	if res.GetText() != "node2" {
		t.Fatalf("A's call reached B on node %q, want node2", res.GetText())
	}

	const do = "test.v1.Probe/Do"
	var driverSpans []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == do {
			driverSpans = append(driverSpans, s)
		}
	}
	if len(driverSpans) != 1 || driverSpans[0].SpanKind != trace.SpanKindClient {
		t.Fatalf("driver exported %+v, want one client span %q", exp.GetSpans(), do)
	}
	client := driverSpans[0].SpanContext
	traceID := client.TraceID().String()

	// A node writes a span to its file as the span ends; B's server span
	// and A's client span end around the time the answer reaches the
	// driver, so wait for them.
	var node1, node2 []exportedSpan
	eventually(t, "both nodes to write their spans of the call", func() bool {
		node1, node2 = readSpans(t, files["node1"]), readSpans(t, files["node2"])
		n1, n2 := 0, 0
		for _, s := range node1 {
			if s.Name == do && s.SpanContext.TraceID == traceID {
				n1++
			}
		}
		for _, s := range node2 {
			if s.Name == do && s.SpanContext.TraceID == traceID {
				n2++
			}
		}
		return n1 >= 2 && n2 >= 1
	})

	aServer := findSpan(t, "node1", node1, do, trace.SpanKindServer)
	aClient := findSpan(t, "node1", node1, do, trace.SpanKindClient)
	var bServer exportedSpan
	for _, s := range node2 {
		// B's server span of this call.
		if s.Name == do && s.SpanKind == trace.SpanKindServer && s.SpanContext.TraceID == traceID {
			bServer = s
		}
	}
	chain := []struct {
		what   string
		span   exportedSpan
		parent string
	}{
		{"A's server span (node1)", aServer, client.SpanID().String()},
		{"A's client span to B (node1)", aClient, aServer.SpanContext.SpanID},
		{"B's server span (node2)", bServer, aClient.SpanContext.SpanID},
	}
	for _, l := range chain {
		if l.span.SpanContext.TraceID != traceID {
			t.Errorf("%s is in trace %q, want the driver's %s", l.what, l.span.SpanContext.TraceID, traceID)
		}
		if l.span.Parent.SpanID != l.parent {
			t.Errorf("%s has parent %q, want %s", l.what, l.span.Parent.SpanID, l.parent)
		}
	}
	if got := aServer.attr("troupe.actor.id"); got != a.Ref().ID() {
		t.Errorf("A's server span has troupe.actor.id %v, want %s", got, a.Ref().ID())
	}
	if got := bServer.attr("troupe.actor.id"); got != b.Ref().ID() {
		t.Errorf("B's server span has troupe.actor.id %v, want %s", got, b.Ref().ID())
	}
	if got := aClient.attr("troupe.actor.id"); got != b.Ref().ID() {
		t.Errorf("A's client span targets troupe.actor.id %v, want B, %s", got, b.Ref().ID())
	}
}
