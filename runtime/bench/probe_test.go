package bench

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// probe is the Probe actor the benchmarks call. Add does what the
// baselines' servers do: add to a sum and answer with it. The sum is
// atomic because LocalConcurrent16 runs Add on 16 goroutines at once.
type probe struct{ sum atomic.Int64 }

func (p *probe) Add(_ context.Context, r *testv1.AddRequest) (*testv1.AddResponse, error) {
	return &testv1.AddResponse{Value: p.sum.Add(r.GetBy())}, nil
}

func (p *probe) Get(context.Context, *testv1.GetRequest) (*testv1.GetResponse, error) {
	return &testv1.GetResponse{Value: p.sum.Load()}, nil
}

func (p *probe) Do(context.Context, *testv1.DoRequest) (*testv1.DoResponse, error) {
	return &testv1.DoResponse{}, nil
}

func (p *probe) Read(context.Context, *testv1.DoRequest) (*testv1.DoResponse, error) {
	return &testv1.DoResponse{}, nil
}

func (p *probe) Io(context.Context, *testv1.DoRequest) (*testv1.DoResponse, error) {
	return &testv1.DoResponse{}, nil
}

func (p *probe) Retried(context.Context, *testv1.DoRequest) (*testv1.DoResponse, error) {
	return &testv1.DoResponse{}, nil
}

type (
	probeHandle  = *testv1actor.ProbeHandle
	probeSpawner = *actor.Spawner[*testv1.ProbeInit, *testv1actor.ProbeHandle]
	addFuture    = *actor.Future[*testv1.AddResponse]
)

// newSystem starts an embedded system hosting Probe. constructed, if not
// nil, is called by every Probe constructor before it returns. The caller
// shuts the system down, with stopSystem.
func newSystem(tb testing.TB, constructed func()) *actor.System {
	tb.Helper()
	factory := func(context.Context, *testv1.ProbeInit) (testv1actor.ProbeActor, error) {
		if constructed != nil {
			constructed()
		}
		return new(probe), nil
	}
	sys, err := actor.Start(context.Background(), actor.WithClasses(testv1actor.RegisterProbe(factory)))
	if err != nil {
		tb.Fatalf("actor.Start: %v", err)
	}
	return sys
}

// startSystem starts an embedded system hosting Probe, shut down when tb
// ends.
func startSystem(tb testing.TB) *actor.System {
	tb.Helper()
	sys := newSystem(tb, nil)
	tb.Cleanup(func() { stopSystem(tb, sys) })
	return sys
}

func stopSystem(tb testing.TB, sys *actor.System) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sys.Shutdown(ctx); err != nil {
		tb.Errorf("Shutdown: %v", err)
	}
}

// spawnReady spawns n Probe actors and returns once each has been
// constructed and has answered a call.
func spawnReady(tb testing.TB, sys *actor.System, spawner probeSpawner, n int) []probeHandle {
	tb.Helper()
	ctx := context.Background()
	hs := make([]probeHandle, n)
	for i := range hs {
		h, err := spawner.Spawn(ctx, sys, nil)
		if err != nil {
			tb.Fatalf("Spawn: %v", err)
		}
		hs[i] = h
	}
	for _, h := range hs {
		if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
			tb.Fatalf("first call: %v", err)
		}
	}
	return hs
}

// checkSum fails tb unless the actors' sums add up to want: every call
// the benchmark counted reached an actor once.
func checkSum(tb testing.TB, hs []probeHandle, want int) {
	tb.Helper()
	ctx := context.Background()
	var got int64
	for _, h := range hs {
		resp, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
		if err != nil {
			tb.Fatalf("Get: %v", err)
		}
		got += resp.GetValue()
	}
	if got != int64(want) {
		tb.Fatalf("the actors added %d, want %d", got, want)
	}
}

// waitAll waits for every future of a batch, in the order they were
// made, as ray.get on a list does, and checks that each call succeeded.
func waitAll(ctx context.Context, futs []addFuture) error {
	for _, f := range futs {
		if _, err := f.Get(ctx); err != nil {
			return err
		}
	}
	return nil
}
