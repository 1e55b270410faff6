// Command tracing traces one request through actors: the driver calls a
// Coordinator, which calls three Workers at once. Every call is a client
// span at the handle and a server span around the method, and the calls
// an actor makes from its method nest under that method's span, so the
// request is one trace. The spans go to the stdout exporter, written to a
// buffer here; the program reads them back and prints the trace's tree.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"sort"
	"strings"

	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	tracingv1 "github.com/troupehq/troupe/examples/tracing/gen/tracing/v1"
	"github.com/troupehq/troupe/examples/tracing/gen/tracing/v1/tracingv1actor"
	"github.com/troupehq/troupe/runtime/actor"
)

// worker implements tracingv1actor.WorkerActor.
type worker struct{ name string }

func newWorker(_ context.Context, init *tracingv1.WorkerInit) (tracingv1actor.WorkerActor, error) {
	return &worker{name: init.GetName()}, nil
}

func (w *worker) Work(_ context.Context, req *tracingv1.WorkRequest) (*tracingv1.WorkResponse, error) {
	return &tracingv1.WorkResponse{Result: w.name + ":" + strings.ToUpper(req.GetPart())}, nil
}

// coordinator implements tracingv1actor.CoordinatorActor.
type coordinator struct {
	workers []*tracingv1actor.WorkerHandle
}

func newCoordinator(ctx context.Context, init *tracingv1.CoordinatorInit) (tracingv1actor.CoordinatorActor, error) {
	sys := actor.SystemFrom(ctx)
	c := &coordinator{}
	for i := range int(init.GetWorkers()) {
		name := fmt.Sprintf("worker-%d", i)
		w, err := tracingv1actor.WorkerOptions().Name(name).Spawn(ctx, sys, &tracingv1.WorkerInit{Name: name})
		if err != nil {
			return nil, err
		}
		c.workers = append(c.workers, w)
	}
	return c, nil
}

// Run calls the workers with the method's ctx: it carries Run's server
// span, so each Work call becomes its child.
func (c *coordinator) Run(ctx context.Context, req *tracingv1.RunRequest) (*tracingv1.RunResponse, error) {
	if len(req.GetParts()) > len(c.workers) {
		return nil, fmt.Errorf("%d parts for %d workers", len(req.GetParts()), len(c.workers))
	}
	futs := make([]*actor.Future[*tracingv1.WorkResponse], len(req.GetParts()))
	for i, part := range req.GetParts() {
		futs[i] = c.workers[i].Work(ctx, &tracingv1.WorkRequest{Part: part})
	}
	resp := &tracingv1.RunResponse{}
	for _, f := range futs {
		r, err := f.Get(ctx)
		if err != nil {
			return nil, err
		}
		resp.Results = append(resp.Results, r.GetResult())
	}
	return resp, nil
}

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	// A real program would export to a collector: with otlp.Setup
	// (runtime/actor/otlp) it exports where OTEL_TRACES_EXPORTER and the
	// other OTEL_* variables say, and passes no provider at all. The syncer
	// exports each span as it ends.
	var buf bytes.Buffer
	exp, err := stdouttrace.New(stdouttrace.WithWriter(&buf))
	if err != nil {
		return err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))

	sys, err := actor.Start(ctx, actor.WithTracerProvider(tp), actor.WithClasses(
		tracingv1actor.RegisterCoordinator(newCoordinator),
		tracingv1actor.RegisterWorker(newWorker),
	))
	if err != nil {
		return err
	}
	coord, err := tracingv1actor.CoordinatorOptions().Name("coordinator").Spawn(ctx, sys, &tracingv1.CoordinatorInit{Workers: 3})
	if err != nil {
		return errors.Join(err, sys.Shutdown(ctx))
	}

	// The driver's own span: the actor calls made under it join its trace.
	reqCtx, span := tp.Tracer("example/driver").Start(ctx, "driver request")
	resp, err := coord.Run(reqCtx, &tracingv1.RunRequest{Parts: []string{"alpha", "beta", "gamma"}}).Get(reqCtx)
	span.End()
	traceID := span.SpanContext().TraceID()
	if err := errors.Join(err, sys.Shutdown(ctx), tp.Shutdown(ctx)); err != nil {
		return err
	}
	fmt.Println("results:", strings.Join(resp.GetResults(), " "))

	spans, err := decode(&buf)
	if err != nil {
		return err
	}
	printTree(spans, traceID.String())
	return nil
}

// exported is the part of a span the stdout exporter writes that the tree
// needs.
type exported struct {
	Name        string
	SpanKind    trace.SpanKind
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ SpanID string }
	Attributes  []struct {
		Key   string
		Value struct{ Value any }
	}
}

func (s *exported) attr(key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return fmt.Sprint(kv.Value.Value)
		}
	}
	return ""
}

// label is a span's line in the tree: its name, its kind and the actor
// it calls (client) or runs on (server).
func (s *exported) label() string {
	switch s.SpanKind {
	case trace.SpanKindClient:
		return fmt.Sprintf("%s (client -> %s)", s.Name, s.attr("troupe.actor.name"))
	case trace.SpanKindServer:
		return fmt.Sprintf("%s (server on %s)", s.Name, s.attr("troupe.actor.name"))
	}
	return s.Name
}

func decode(r io.Reader) ([]*exported, error) {
	var spans []*exported
	dec := json.NewDecoder(r)
	for {
		s := new(exported)
		err := dec.Decode(s)
		if err == io.EOF {
			return spans, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decoding the exported spans: %w", err)
		}
		spans = append(spans, s)
	}
}

// printTree prints the spans of one trace indented under their parents,
// siblings sorted by label so the output is the same on every run.
func printTree(all []*exported, traceID string) {
	children := map[string][]*exported{}
	var roots []*exported
	ids := map[string]bool{}
	n := 0
	for _, s := range all {
		if s.SpanContext.TraceID == traceID {
			ids[s.SpanContext.SpanID] = true
		}
	}
	for _, s := range all {
		if s.SpanContext.TraceID != traceID {
			continue // the spawns' traces
		}
		n++
		if ids[s.Parent.SpanID] {
			children[s.Parent.SpanID] = append(children[s.Parent.SpanID], s)
		} else {
			roots = append(roots, s)
		}
	}
	fmt.Printf("trace %s\n", traceID)
	fmt.Printf("%d spans in the trace:\n", n)
	var walk func(list []*exported, depth int)
	walk = func(list []*exported, depth int) {
		sort.SliceStable(list, func(i, j int) bool { return list[i].label() < list[j].label() })
		for _, s := range list {
			fmt.Printf("%s%s\n", strings.Repeat("  ", depth), s.label())
			walk(children[s.SpanContext.SpanID], depth+1)
		}
	}
	walk(roots, 0)
}
