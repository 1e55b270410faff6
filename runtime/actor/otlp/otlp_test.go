package otlp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	counterv1 "github.com/troupehq/troupe/examples/counter/gen/counter/v1"
	"github.com/troupehq/troupe/examples/counter/gen/counter/v1/counterv1actor"
	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/actor/otlp"
)

type counter struct{ n int64 }

func (c *counter) Increment(_ context.Context, req *counterv1.IncrementRequest) (*counterv1.IncrementResponse, error) {
	c.n += req.GetBy()
	return &counterv1.IncrementResponse{Value: c.n}, nil
}

func (c *counter) Get(context.Context, *counterv1.GetRequest) (*counterv1.GetResponse, error) {
	return &counterv1.GetResponse{Value: c.n}, nil
}

// collector is an OTLP/HTTP endpoint that counts the non-empty exports it
// receives per path.
type collector struct {
	mu    sync.Mutex
	posts map[string]int
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if len(body) > 0 {
		c.mu.Lock()
		c.posts[r.URL.Path]++
		c.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (c *collector) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.posts[path]
}

// A system given no provider sends its spans and metrics where the
// OTEL_* environment says once the program calls Setup: the road a node
// process takes. Shutdown flushes them.
func TestSetupExportsASystemsSpansAndMetrics(t *testing.T) {
	col := &collector{posts: map[string]int{}}
	srv := httptest.NewServer(col)
	defer srv.Close()
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_METRICS_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)

	ctx := t.Context()
	shutdown, err := otlp.Setup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := actor.Start(ctx, actor.WithClasses(counterv1actor.RegisterCounter(
		func(context.Context, *counterv1.CounterInit) (counterv1actor.CounterActor, error) {
			return &counter{}, nil
		})))
	if err != nil {
		t.Fatal(err)
	}
	c, err := counterv1actor.CounterOptions().Spawn(ctx, sys, &counterv1.CounterInit{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Increment(ctx, &counterv1.IncrementRequest{By: 1}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sys.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if col.count("/v1/traces") == 0 || col.count("/v1/metrics") == 0 {
		t.Fatalf("exports received: %v; want spans at /v1/traces and metrics at /v1/metrics", col.posts)
	}
}

// With no exporter named, Setup installs nothing and its shutdown is a
// no-op; a bad exporter name is an error.
func TestSetupWithoutConfiguration(t *testing.T) {
	for _, k := range []string{"OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"} {
		t.Setenv(k, "")
	}
	if otlp.Configured("TRACES") || otlp.Configured("METRICS") {
		t.Fatal("Configured with an empty environment")
	}
	tp, err := otlp.NewTracerProvider(t.Context())
	if tp != nil || err != nil {
		t.Fatalf("NewTracerProvider = %v, %v; want nil, nil", tp, err)
	}
	shutdown, err := otlp.Setup(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OTEL_TRACES_EXPORTER", "carrier-pigeon")
	if _, err := otlp.Setup(t.Context()); err == nil {
		t.Fatal("Setup with an unknown exporter succeeded")
	}
}
