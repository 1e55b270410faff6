package actor_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// testCtx is a rule's ctx: long enough for a cluster under -race, short
// enough that a hang fails the test.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// "barrier": Do waits until arg calls of the instance run at once.
var _ = behave("barrier", &behaviour{do: barrierHook})

func barrierHook(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	return &testv1.DoResponse{}, p.local.barrier(ctx, r.GetArg())
}

func TestMaxConcurrencyOverlaps(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		const n = 4
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().MaxConcurrency(n), "barrier", nil)
		futs := make([]*actor.Future[*testv1.DoResponse], n)
		for i := range futs {
			futs[i] = h.Do(ctx, &testv1.DoRequest{Arg: n}) // returns only if all four run at once
		}
		for _, f := range futs {
			if _, err := f.Get(ctx); err != nil {
				t.Fatalf("calls did not all reach the barrier: %v", err)
			}
		}
	})
}

// "overlap": Do counts the calls running at once; key "max" answers the most.
var _ = behave("overlap", &behaviour{do: overlapHook})

func overlapHook(_ context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	if r.GetKey() == "max" {
		var out testv1.DoResponse
		p.local.locked(func() { out.Value = p.local.max })
		return &out, nil
	}
	p.local.enter()
	defer p.local.leave()
	return &testv1.DoResponse{}, nil
}

func TestSerialNeverOverlaps(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions(), "overlap", nil)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 200 {
					if _, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		r, err := h.Do(ctx, &testv1.DoRequest{Key: "max"}).Get(ctx)
		if err != nil || r.GetValue() != 1 {
			t.Fatalf("serial actor ran %d methods at once (%v)", r.GetValue(), err)
		}
	})
}

// "rw": Read and Do note any reader overlapping a writer; Read with arg 1
// waits until three such readers run at once; Do with key "bad" answers the
// overlaps seen.
var _ = behave("rw", &behaviour{
	read: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		l := &p.local
		l.locked(func() {
			l.readers++
			if l.writers != 0 {
				l.bad++
			}
		})
		defer l.locked(func() { l.readers-- })
		if r.GetArg() == 1 {
			return &testv1.DoResponse{}, l.barrier(ctx, 3)
		}
		return &testv1.DoResponse{}, nil
	},
	do: func(_ context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		l := &p.local
		if r.GetKey() == "bad" {
			var out testv1.DoResponse
			l.locked(func() { out.Value = l.bad })
			return &out, nil
		}
		l.locked(func() {
			l.writers++
			if l.readers != 0 || l.writers != 1 {
				l.bad++
			}
		})
		defer l.locked(func() { l.writers-- })
		return &testv1.DoResponse{}, nil
	},
})

func TestReadersOverlapNeverWriters(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions(), "rw", nil)
		// Three readers that wait for each other: they can only finish together.
		var together []*actor.Future[*testv1.DoResponse]
		for range 3 {
			together = append(together, h.Read(ctx, &testv1.DoRequest{Arg: 1}))
		}
		for _, f := range together {
			if _, err := f.Get(ctx); err != nil {
				t.Fatalf("readers did not overlap: %v", err)
			}
		}
		// Readers and writers interleaved from many goroutines never overlap.
		var wg sync.WaitGroup
		for g := range 6 {
			wg.Go(func() {
				for i := range 200 {
					var err error
					if (g+i)%3 == 0 {
						_, err = h.Do(ctx, &testv1.DoRequest{}).Get(ctx)
					} else {
						_, err = h.Read(ctx, &testv1.DoRequest{}).Get(ctx)
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if r, err := h.Do(ctx, &testv1.DoRequest{Key: "bad"}).Get(ctx); err != nil || r.GetValue() != 0 {
			t.Fatalf("a reader and a writer overlapped %d times (%v)", r.GetValue(), err)
		}
	})
}

// "io-gate": Io counts the calls running at once and waits at gate "io";
// Do with key "max" answers the most Io calls at once.
var _ = behave("io-gate", &behaviour{
	io: func(ctx context.Context, p *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
		p.local.enter()
		defer p.local.leave()
		return &testv1.DoResponse{}, pass(ctx, p, "io")
	},
	do: overlapHook,
})

func TestConcurrencyGroups(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions(), "io-gate", nil)
		var futs []*actor.Future[*testv1.DoResponse]
		for range 3 {
			futs = append(futs, h.Io(ctx, &testv1.DoRequest{}))
		}
		m.arrived(t, "io", 2) // the io group has two slots
		// The default group is not blocked by the io group.
		if _, err := h.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); err != nil {
			t.Fatal(err)
		}
		// On a cluster the counts are the node's last report (every
		// heartbeat); the calls stay where they are until the gate opens.
		eventually(t, "2 io calls running and 1 queued in the listing", func() bool {
			info := stateOf(t, m.sys, h.Ref().ID())
			return info.RunningCalls == 2 && info.PendingCalls == 1
		})
		m.open(t, "io")
		for _, f := range futs {
			if _, err := f.Get(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if r, err := h.Do(ctx, &testv1.DoRequest{Key: "max"}).Get(ctx); err != nil || r.GetValue() != 2 {
			t.Fatalf("io group ran %d at once, want 2 (%v)", r.GetValue(), err)
		}
	})
}

// "hold": Do with arg 0 waits at gate "g"; Do with key "ran" answers how
// many other Do calls ran; any other Do answers its arg.
var _ = behave("hold", &behaviour{
	do: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		switch {
		case r.GetKey() == "ran":
			var out testv1.DoResponse
			p.local.locked(func() { out.Value = p.local.ran })
			return &out, nil
		case r.GetArg() == 0:
			if err := pass(ctx, p, "g"); err != nil {
				return nil, err
			}
			return &testv1.DoResponse{}, nil
		}
		p.local.locked(func() { p.local.ran++ })
		return &testv1.DoResponse{Value: r.GetArg()}, nil
	},
	retried: func(_ context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		return &testv1.DoResponse{Value: r.GetArg()}, nil
	},
})

func TestMaxPendingCalls(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().MaxPendingCalls(10), "hold", nil)
		futs := []*actor.Future[*testv1.DoResponse]{h.Do(ctx, &testv1.DoRequest{Arg: 0})}
		m.arrived(t, "g", 1)
		for i := 1; i < 10; i++ {
			futs = append(futs, h.Do(ctx, &testv1.DoRequest{Arg: int64(i)}))
		}
		over := h.Do(ctx, &testv1.DoRequest{Arg: 10})
		if m.embedded() {
			select {
			case <-over.Done():
			default:
				t.Fatal("the 11th call did not fail at once")
			}
		}
		// On either side it fails while the gate holds the queue full.
		_, err := over.Get(ctx)
		if !errors.Is(err, actor.ErrPendingCallsLimit) || connect.CodeOf(err) != connect.CodeResourceExhausted {
			t.Fatalf("11th call = %v; want ErrPendingCallsLimit, resource_exhausted", err)
		}
		m.open(t, "g")
		for i, f := range futs {
			if r, err := f.Get(ctx); err != nil || r.GetValue() != int64(i) {
				t.Fatalf("queued call %d = %v, %v", i, r, err)
			}
		}
		if r, err := h.Do(ctx, &testv1.DoRequest{Key: "ran"}).Get(ctx); err != nil || r.GetValue() != 9 {
			t.Fatalf("%d calls ran after the held one, want 9 (%v)", r.GetValue(), err)
		}
	})
}
