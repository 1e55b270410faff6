// Command testnode is the node binary of the cluster tests: it hosts the
// runtime's test Probe class through cluster.RunNode, or, as "driver", joins
// a cluster, spawns two actors and waits to be killed. It exits when its
// stdin closes, so it never outlives the test that started it.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/actor/sqlite"
	"github.com/troupehq/troupe/runtime/cluster"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

func main() {
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	if len(os.Args) > 1 && os.Args[1] == "driver" {
		err := driver(ctx, os.Args[2], os.Args[3], log) // returns only on failure
		fmt.Fprintln(os.Stderr, "driver:", err)
		os.Exit(1)
	}
	opts := []actor.Option{actor.WithLogger(log), actor.WithClasses(testv1actor.RegisterProbe(newProbe))}
	if path := os.Getenv(ledgerEnv); path != "" {
		store, err := sqlite.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testnode:", err)
			os.Exit(1)
		}
		opts = append(opts, actor.WithClasses(testv1actor.RegisterLedger(ledger{}, createLedger)), actor.WithStateStore(store))
		if d, err := time.ParseDuration(os.Getenv(ledgerIdleEnv)); err == nil {
			opts = append(opts, actor.WithIdleTimeout(d))
		}
	}
	if path := os.Getenv(spansEnv); path != "" {
		tp, err := spanFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testnode:", err)
			os.Exit(1)
		}
		opts = append(opts, actor.WithTracerProvider(tp))
	}
	err := cluster.RunNode(ctx, os.Args[1:], opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testnode:", err)
		os.Exit(1)
	}
}

// ledgerEnv names the SQLite file holding durable state: with it, the node
// hosts the durable Ledger class too, its state in that file, which the
// cluster's nodes share.
const ledgerEnv = "TROUPE_TEST_LEDGER_DB"

// ledgerIdleEnv sets the node's idle timeout of durable actors.
const ledgerIdleEnv = "TROUPE_TEST_LEDGER_IDLE"

// ledger is the durable Ledger: Add notes the node that ran it.
type ledger struct{}

func (ledger) Add(ctx context.Context, st *testv1.LedgerState, r *testv1.LedgerAddRequest) (*testv1.LedgerValue, error) {
	st.Value += r.GetBy()
	st.Adds++
	if sys := actor.SystemFrom(ctx); sys != nil {
		st.Note = sys.NodeID()
	}
	return &testv1.LedgerValue{Value: st.GetValue(), Adds: st.GetAdds(), Note: st.GetNote()}, nil
}

func createLedger(_ context.Context, _ string, init *testv1.LedgerInit) (*testv1.LedgerState, error) {
	return &testv1.LedgerState{Value: init.GetStart()}, nil
}

func (ledger) Get(_ context.Context, st *testv1.LedgerState, _ *testv1.LedgerGetRequest) (*testv1.LedgerValue, error) {
	return &testv1.LedgerValue{Value: st.GetValue(), Adds: st.GetAdds(), Note: st.GetNote()}, nil
}

func (l ledger) Hold(ctx context.Context, st *testv1.LedgerState, _ *testv1.LedgerHoldRequest) (*testv1.LedgerValue, error) {
	return l.Get(ctx, st, nil)
}

func (ledger) Touch(_ context.Context, st *testv1.LedgerState, r *testv1.LedgerHoldRequest) (*testv1.LedgerValue, error) {
	st.Note = r.GetKey()
	return &testv1.LedgerValue{Value: st.GetValue(), Note: st.GetNote()}, nil
}

// spansEnv names a file the node writes its spans to, one JSON object
// (stdouttrace's form of a span) a line, as each span ends.
const spansEnv = "TROUPE_TEST_SPANS"

// spanFile returns a tracer provider sampling every span and appending it
// to the file at path as it ends, so the file is complete even if the
// node is killed.
func spanFile(path string) (*sdktrace.TracerProvider, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	exp, err := stdouttrace.New(stdouttrace.WithWriter(f))
	if err != nil {
		return nil, err
	}
	return sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)), nil
}

// driver joins the cluster at addr in namespace ns, spawns an owned actor
// and a detached named one, prints their ids and waits.
func driver(ctx context.Context, addr, ns string, log *slog.Logger) error {
	sys, err := actor.Connect(ctx, addr, actor.WithNamespace(ns), actor.WithLogger(log))
	if err != nil {
		return err
	}
	owned, err := testv1actor.ProbeOptions().Spawn(ctx, sys, &testv1.ProbeInit{Label: "owned"})
	if err != nil {
		return err
	}
	kept, err := testv1actor.ProbeOptions().Name("keeper").Lifetime(actor.Detached).Spawn(ctx, sys, &testv1.ProbeInit{Label: "kept", Start: 41})
	if err != nil {
		return err
	}
	for _, h := range []*testv1actor.ProbeHandle{owned, kept} {
		if _, err := h.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); err != nil {
			return err
		}
	}
	fmt.Printf("driver owned=%s detached=%s\n", owned.Ref().ID(), kept.Ref().ID())
	select {}
}

// probe is the test Probe: a counter, and Do hooks by key.
type probe struct {
	n     int64
	label string
	last  map[int64]int64 // "order": the last n of each caller
	// stubborn is 1 while a "stubborn" waits for its ctx to end, 2 once
	// it saw it end; "stubborn state" reads it, from the io group while
	// "stubborn" still runs.
	stubborn atomic.Int64
}

func newProbe(_ context.Context, init *testv1.ProbeInit) (testv1actor.ProbeActor, error) {
	return &probe{n: init.GetStart(), label: init.GetLabel()}, nil
}

func (p *probe) Add(_ context.Context, r *testv1.AddRequest) (*testv1.AddResponse, error) {
	p.n += r.GetBy()
	return &testv1.AddResponse{Value: p.n}, nil
}

func (p *probe) Get(context.Context, *testv1.GetRequest) (*testv1.GetResponse, error) {
	return &testv1.GetResponse{Value: p.n, Label: p.label}, nil
}

// Do: "node" answers the hosting node's id, "pid" the process id, "sleep"
// sleeps arg milliseconds, "panic" panics, "spawn" spawns a child Probe
// and answers its id, "ledger" adds arg to the durable Ledger "race"
// (answering its value and the node that ran the add), "order" checks each caller's calls arrive in order
// (see below), "call" does "node" on the Probe in r.Ref and answers
// what it did, "stubborn" adds 1 to the counter, waits for its ctx to
// end and then takes arg more milliseconds before it returns (a method
// slow to stop), "stubborn state" answers 1 while a "stubborn" waits for
// its ctx to end and 2 once it saw it end;
// anything else echoes arg.
func (p *probe) Do(ctx context.Context, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	switch r.GetKey() {
	case "node":
		return &testv1.DoResponse{Text: actor.SystemFrom(ctx).NodeID()}, nil
	case "pid":
		return &testv1.DoResponse{Value: int64(os.Getpid())}, nil
	case "sleep":
		select {
		case <-time.After(time.Duration(r.GetArg()) * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &testv1.DoResponse{Value: r.GetArg()}, nil
	case "panic":
		panic("asked to panic")
	case "stubborn":
		p.n++
		p.stubborn.Store(1)
		<-ctx.Done()
		p.stubborn.Store(2)
		time.Sleep(time.Duration(r.GetArg()) * time.Millisecond)
		return &testv1.DoResponse{}, nil
	case "stubborn state":
		return &testv1.DoResponse{Value: p.stubborn.Load()}, nil
	case "order":
		// arg is caller*1e6 + n: a caller's n must grow from call to call.
		caller, n := r.GetArg()/1e6, r.GetArg()%1e6
		if last, ok := p.last[caller]; ok && n <= last {
			return nil, fmt.Errorf("caller %d: call %d ran after call %d", caller, n, last)
		}
		if p.last == nil {
			p.last = map[int64]int64{}
		}
		p.last[caller] = n
		return &testv1.DoResponse{Value: n}, nil
	case "call":
		// Do "node" on the Probe r.Ref names, answering its node's id.
		peer, err := testv1actor.ProbeFromRef(ctx, actor.SystemFrom(ctx), r.GetRef())
		if err != nil {
			return nil, err
		}
		return peer.Do(ctx, &testv1.DoRequest{Key: "node"}).Get(ctx)
	case "ledger":
		// Add arg to the durable Ledger "race", answering its value and
		// the node that ran the add.
		l, err := testv1actor.GetOrCreateLedger(ctx, actor.SystemFrom(ctx), "race", nil)
		if err != nil {
			return nil, err
		}
		v, err := l.Add(ctx, &testv1.LedgerAddRequest{By: r.GetArg()}).Get(ctx)
		if err != nil {
			return nil, err
		}
		return &testv1.DoResponse{Value: v.GetValue(), Text: v.GetNote()}, nil
	case "spawn":
		child, err := testv1actor.ProbeOptions().Spawn(ctx, actor.SystemFrom(ctx), &testv1.ProbeInit{Label: "child"})
		if err != nil {
			return nil, err
		}
		return &testv1.DoResponse{Text: child.Ref().ID()}, nil
	}
	return &testv1.DoResponse{Value: r.GetArg()}, nil
}

func (p *probe) Read(ctx context.Context, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	return p.Do(ctx, r)
}

func (p *probe) Io(ctx context.Context, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	return p.Do(ctx, r)
}

func (p *probe) Retried(ctx context.Context, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	return p.Do(ctx, r)
}
