package actor_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// "pool-work": Do answers arg*10 and counts it in counter "ran-KEY". An
// instance labelled "slow" first waits at gate KEY; one labelled "stuck"
// waits at gate KEY and never answers. A call that finds another of the
// instance running fails: the pool must send one call at a time.
var _ = behave("pool-work", &behaviour{do: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	overlap := false
	p.local.locked(func() { overlap = p.local.now > 0 })
	p.local.enter()
	defer p.local.leave()
	if overlap {
		return nil, errors.New("two calls of the pool in flight on one actor")
	}
	switch p.init.GetLabel() {
	case "slow":
		if err := pass(ctx, p, r.GetKey()); err != nil {
			return nil, err
		}
	case "stuck":
		if err := pass(ctx, p, r.GetKey()); err != nil {
			return nil, err
		}
		return nil, errors.New("the stuck actor was let through")
	}
	if _, err := count(ctx, p.init, "ran-"+r.GetKey(), 1); err != nil {
		return nil, err
	}
	return &testv1.DoResponse{Value: r.GetArg() * 10}, nil
}})

// poolOf spawns one "pool-work" Probe per label, each able to run four
// calls at once, and makes a pool of them in that order.
func poolOf(t *testing.T, m *mode, labels ...string) (*actor.Pool[*testv1actor.ProbeHandle], []*testv1actor.ProbeHandle) {
	t.Helper()
	var hs []*testv1actor.ProbeHandle
	for _, l := range labels {
		hs = append(hs, m.spawn(t, testv1actor.ProbeOptions().MaxConcurrency(4), "pool-work", &testv1.ProbeInit{Label: l}))
	}
	p, err := actor.NewPool(hs...)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	return p, hs
}

// work is the pool's function: Do with key gate and arg v.
func work(gate string) func(context.Context, *testv1actor.ProbeHandle, int64) *actor.Future[*testv1.DoResponse] {
	return func(ctx context.Context, h *testv1actor.ProbeHandle, v int64) *actor.Future[*testv1.DoResponse] {
		return h.Do(ctx, &testv1.DoRequest{Key: gate, Arg: v})
	}
}

func values(n int) []int64 {
	vs := make([]int64, n)
	for i := range vs {
		vs[i] = int64(i)
	}
	return vs
}

func TestPoolMapOrderedAndUnordered(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		p, _ := poolOf(t, m, "slow", "fast")

		// Unordered: value 0 goes to the slow actor, which waits until the
		// fast one's five results were returned; results come as they finish.
		var got []int64
		for r, err := range actor.MapUnordered(ctx, p, work("unordered"), values(6)) {
			if err != nil {
				t.Fatalf("MapUnordered: %v", err)
			}
			got = append(got, r.GetValue())
			if len(got) == 5 {
				m.open(t, "unordered")
			}
		}
		if want := []int64{10, 20, 30, 40, 50, 0}; !slices.Equal(got, want) {
			t.Errorf("MapUnordered returned %v, want %v (by completion)", got, want)
		}

		// Ordered: the slow actor is let through only after the fast one
		// finished two later values; results still come in input order.
		go func() {
			m.coordCall(t, "arrived/ran-ordered", 2)
			m.open(t, "ordered")
		}()
		got = nil
		for r, err := range actor.Map(ctx, p, work("ordered"), values(6)) {
			if err != nil {
				t.Fatalf("Map: %v", err)
			}
			got = append(got, r.GetValue())
		}
		if want := []int64{0, 10, 20, 30, 40, 50}; !slices.Equal(got, want) {
			t.Errorf("Map returned %v, want %v (by input)", got, want)
		}
	})
}

func TestPoolOneCallPerActor(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		p, _ := poolOf(t, m, "a", "b", "c")
		n := 0
		for _, err := range actor.MapUnordered(ctx, p, work("bp"), values(60)) {
			if err != nil {
				t.Fatalf("a call failed (the actor checks it runs one at a time): %v", err)
			}
			n++
		}
		if n != 60 {
			t.Fatalf("got %d results, want 60", n)
		}
		if p.HasFree() != true || p.Len() != 3 {
			t.Errorf("after Map: HasFree %v, Len %d; want true, 3", p.HasFree(), p.Len())
		}
	})
}

func TestPoolActorKilledMidMap(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		p, hs := poolOf(t, m, "a", "stuck", "b", "c")
		const n = 40
		seen := map[int64]int{}
		for r, err := range actor.Map(ctx, p, work("kill"), values(n)) {
			if err != nil {
				t.Fatalf("Map: %v", err)
			}
			seen[r.GetValue()/10]++
			if len(seen) == 1 {
				// The stuck actor holds value 1; kill it while it does.
				m.coordCall(t, "arrived/kill", 1)
				if err := m.sys.Kill(ctx, hs[1], actor.NoRestart()); err != nil {
					t.Fatalf("Kill: %v", err)
				}
			}
		}
		for v := range int64(n) {
			if seen[v] != 1 {
				t.Errorf("value %d: %d results, want exactly 1", v, seen[v])
			}
		}
		if ran := m.counter(t, "ran-kill"); ran != n {
			t.Errorf("the live actors ran %d calls, want %d", ran, n)
		}
		if p.Len() != 3 {
			t.Errorf("Len after the kill = %d, want 3: the dead actor leaves", p.Len())
		}
	})
}

func TestPoolNoActorLeft(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		p, hs := poolOf(t, m, "a", "b")
		for _, h := range hs {
			if err := m.sys.Kill(ctx, h, actor.NoRestart()); err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		for _, err := range actor.Map(ctx, p, work("dead"), values(3)) {
			n++
			if !errors.Is(err, actor.ErrPoolEmpty) || !errors.Is(err, actor.ErrActorDied) {
				t.Errorf("result %d: %v, want ErrPoolEmpty wrapping ErrActorDied", n, err)
			}
		}
		if n != 3 || p.Len() != 0 {
			t.Errorf("%d results, Len %d; want 3, 0", n, p.Len())
		}
		b, err := actor.NewBatch(p, work("dead"))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Submit(ctx, 1); !errors.Is(err, actor.ErrPoolEmpty) {
			t.Errorf("Submit to an empty pool: %v, want ErrPoolEmpty", err)
		}
	})
}

func TestPoolBatchNextOrderedAndUnordered(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		p, _ := poolOf(t, m, "slow", "fast")
		b, err := actor.NewBatch(p, work("batch"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Next(ctx); err == nil || b.HasNext() {
			t.Fatalf("Next with nothing submitted: %v, HasNext %v; want an error, false", err, b.HasNext())
		}
		// 0 waits on the slow actor; 1, 2 run on the fast one in turn:
		// the third Submit waits for the fast actor to be idle again.
		for v := range int64(3) {
			if err := b.Submit(ctx, v); err != nil {
				t.Fatalf("Submit(%d): %v", v, err)
			}
		}
		if r, err := b.NextUnordered(ctx); err != nil || r.GetValue() != 10 {
			t.Fatalf("NextUnordered = %v, %v; want 10 (the fast actor's first)", r.GetValue(), err)
		}
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := b.Next(short); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Next while value 0 waits: %v, want deadline exceeded", err)
		}
		m.open(t, "batch")
		if r, err := b.Next(ctx); err != nil || r.GetValue() != 0 {
			t.Fatalf("Next = %v, %v; want 0", r.GetValue(), err)
		}
		if r, err := b.Next(ctx); err != nil || r.GetValue() != 20 {
			t.Fatalf("Next = %v, %v; want 20", r.GetValue(), err)
		}
		if b.HasNext() {
			t.Error("HasNext after every result was returned")
		}
	})
}

func TestPoolBadInput(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	if _, err := actor.NewPool[*testv1actor.ProbeHandle](); !errors.Is(err, actor.ErrInvalidOption) {
		t.Errorf("NewPool(): %v", err)
	}
	if _, err := actor.NewPool((*testv1actor.ProbeHandle)(nil)); !errors.Is(err, actor.ErrInvalidOption) {
		t.Errorf("NewPool(nil): %v", err)
	}
	var nilPool *actor.Pool[*testv1actor.ProbeHandle]
	for _, err := range actor.Map(ctx, nilPool, work("x"), values(2)) {
		if !errors.Is(err, actor.ErrInvalidOption) {
			t.Errorf("Map on a nil pool: %v", err)
		}
	}
	var zero actor.Pool[*testv1actor.ProbeHandle]
	if zero.Len() != 0 || zero.HasFree() {
		t.Error("a zero Pool is not empty")
	}
	if _, err := actor.NewBatch[*testv1actor.ProbeHandle, int64, *testv1.DoResponse](&zero, nil); !errors.Is(err, actor.ErrInvalidOption) {
		t.Errorf("NewBatch with a nil function: %v", err)
	}
	if err := zero.SetRetries(-1); !errors.Is(err, actor.ErrInvalidOption) {
		t.Errorf("SetRetries(-1): %v", err)
	}
	sys := start(t, nil)
	h := spawn(t, sys, testv1actor.ProbeOptions(), &testv1.ProbeInit{})
	p, err := actor.NewPool(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Push(h); !errors.Is(err, actor.ErrInvalidOption) {
		t.Errorf("Push of a member: %v", err)
	}
	if got, ok := p.Pop(); !ok || got != h || p.Len() != 0 {
		t.Errorf("Pop = %v, %v; Len %d", got, ok, p.Len())
	}
	if err := p.Push(h); err != nil || p.Len() != 1 {
		t.Errorf("Push back: %v, Len %d", err, p.Len())
	}
	nilFuture := func(context.Context, *testv1actor.ProbeHandle, int64) *actor.Future[*testv1.DoResponse] { return nil }
	for _, err := range actor.Map(ctx, p, nilFuture, values(2)) {
		if !errors.Is(err, actor.ErrInvalidOption) {
			t.Errorf("a nil future: %v", err)
		}
	}
}

// TestPoolMapCancelLeavesNoGoroutines is not parallel: it counts the
// process's goroutines.
func TestPoolMapCancelLeavesNoGoroutines(t *testing.T) {
	m := &mode{name: "embedded", sys: start(t, nil)}
	ctx := testCtx(t)
	p, _ := poolOf(t, m, "stuck", "stuck")
	cancelled := func(gate string) {
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			m.coordCall(t, "arrived/"+gate, 2) // both actors hold a call
			cancel()
		}()
		var errs []error
		for _, err := range actor.Map(cctx, p, work(gate), values(10)) {
			errs = append(errs, err)
		}
		<-done
		if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
			t.Fatalf("Map after cancel returned %v, want one canceled error", errs)
		}
	}
	// The first run starts the runtime's own worker goroutines, which stay
	// parked for later calls; they are not counted.
	cancelled("warm")
	waitFor(t, func() bool { return p.HasFree() && p.Len() == 2 })
	base := goroutines()
	cancelled("cancel")
	// The cancelled calls end and free their actors; no goroutine is left.
	waitFor(t, func() bool { return p.HasFree() && p.Len() == 2 && goroutines() <= base })
}

// goroutines counts the process's goroutines but the runtime's parked
// call workers.
func goroutines() int {
	buf := make([]byte, 1<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if !strings.Contains(g, "(*workerPool).work") {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds, for up to ten seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("condition not met in 10s; goroutines:\n%s", buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not synchronising
	}
}

func TestPoolRetriesBound(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		p, hs := poolOf(t, m, "stuck", "a")
		if err := p.SetRetries(0); err != nil {
			t.Fatal(err)
		}
		go func() {
			m.coordCall(t, "arrived/noretry", 1)
			_ = m.sys.Kill(ctx, hs[0], actor.NoRestart())
		}()
		var died, ok int
		for r, err := range actor.Map(ctx, p, work("noretry"), values(2)) {
			switch {
			case errors.Is(err, actor.ErrActorDied) && !errors.Is(err, actor.ErrPoolEmpty):
				died++
			case err == nil && r.GetValue() == 10:
				ok++
			default:
				t.Errorf("unexpected result %v, %v", r, err)
			}
		}
		if died != 1 || ok != 1 || p.Len() != 1 {
			t.Errorf("with no retries: %d died, %d answered, Len %d; want 1, 1, 1", died, ok, p.Len())
		}
	})
}
