package actor_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	counterv1 "github.com/troupehq/troupe/examples/counter/gen/counter/v1"
	"github.com/troupehq/troupe/examples/counter/gen/counter/v1/counterv1actor"
	"github.com/troupehq/troupe/runtime/actor"
)

// exampleCounter implements counterv1actor.CounterActor.
type exampleCounter struct{ n int64 }

func newExampleCounter(_ context.Context, init *counterv1.CounterInit) (counterv1actor.CounterActor, error) {
	return &exampleCounter{n: init.GetStart()}, nil
}

func (c *exampleCounter) Increment(_ context.Context, r *counterv1.IncrementRequest) (*counterv1.IncrementResponse, error) {
	c.n += r.GetBy()
	return &counterv1.IncrementResponse{Value: c.n}, nil
}

func (c *exampleCounter) Get(context.Context, *counterv1.GetRequest) (*counterv1.GetResponse, error) {
	return &counterv1.GetResponse{Value: c.n}, nil
}

// Every call is a client span at the handle and a server span around the
// method, named after the procedure; a spawn is a span too.
func ExampleWithTracerProvider() {
	ctx := context.Background()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(ctx)

	sys, err := actor.Start(ctx, actor.WithTracerProvider(tp),
		actor.WithClasses(counterv1actor.RegisterCounter(newExampleCounter)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sys.Shutdown(ctx)
	c, err := counterv1actor.CounterOptions().Spawn(ctx, sys, &counterv1.CounterInit{})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := c.Increment(ctx, &counterv1.IncrementRequest{By: 1}).Get(ctx); err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range exp.GetSpans() {
		fmt.Println(s.SpanKind, s.Name)
	}
	// Output:
	// internal troupe.spawn counter.v1.Counter
	// server counter.v1.Counter/Increment
	// client counter.v1.Counter/Increment
}

// WithPrometheus serves the node's metrics; troupe.calls is
// troupe_calls_total there.
func ExampleWithPrometheus() {
	ctx := context.Background()
	sys, err := actor.Start(ctx, actor.WithPrometheus("127.0.0.1:0"),
		actor.WithClasses(counterv1actor.RegisterCounter(newExampleCounter)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sys.Shutdown(ctx)
	c, err := counterv1actor.CounterOptions().Spawn(ctx, sys, &counterv1.CounterInit{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		if _, err := c.Increment(ctx, &counterv1.IncrementRequest{By: 1}).Get(ctx); err != nil {
			fmt.Println(err)
			return
		}
	}

	resp, err := http.Get("http://" + sys.MetricsAddr() + "/metrics")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "troupe_calls_total{") {
			_, value, _ := strings.Cut(line, "} ")
			method := line[strings.Index(line, `rpc_method="`)+len(`rpc_method="`):]
			method, _, _ = strings.Cut(method, `"`)
			fmt.Println(method, value)
		}
	}
	// Output:
	// counter.v1.Counter/Increment 3
}
