// Command testnode is the node binary of the cluster tests: it hosts the
// runtime's test Probe class through actor.RunNode, or, as "driver", joins
// a cluster, spawns two actors and waits to be killed. It exits when its
// stdin closes, so it never outlives the test that started it.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
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
		if err := driver(ctx, os.Args[2], os.Args[3], log); err != nil {
			fmt.Fprintln(os.Stderr, "driver:", err)
			os.Exit(1)
		}
		return
	}
	err := actor.RunNode(ctx, os.Args[1:], actor.WithLogger(log),
		actor.WithClasses(testv1actor.RegisterProbe(newProbe)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "testnode:", err)
		os.Exit(1)
	}
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
// and answers its id; anything else echoes arg.
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
