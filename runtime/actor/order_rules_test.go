package actor_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

func TestStateKeptAcrossCalls(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions(), "", &testv1.ProbeInit{Start: 10})
		for i, want := range []int64{11, 13, 16} {
			resp, err := h.Add(ctx, &testv1.AddRequest{By: int64(i + 1)}).Get(ctx)
			if err != nil || resp.GetValue() != want {
				t.Fatalf("Add #%d = %v, %v; want %d", i, resp, err, want)
			}
		}
		got, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
		if err != nil || got.GetValue() != 16 {
			t.Fatalf("Get = %v, %v; want 16", got, err)
		}
	})
}

// "order": Do with arg caller*1e6+seq checks that each caller's calls run
// in the order it made them (seq 0, 1, 2, ...); key "report" answers the
// calls run, and in Text the first violation.
var _ = behave("order", &behaviour{do: func(_ context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	l := &p.local // serial: no lock needed, but the report reads it too
	var out testv1.DoResponse
	l.locked(func() {
		if r.GetKey() == "report" {
			out.Value = l.ran
			if len(l.seen) > 0 {
				out.Text = fmt.Sprintf("caller %d: call %d ran when %d was due", l.seen[0], l.seen[1], l.seen[2])
			}
			return
		}
		if l.last == nil {
			l.last = map[int64]int64{}
		}
		caller, seq := r.GetArg()/1e6, r.GetArg()%1e6
		if seq != l.last[caller] && l.seen == nil {
			l.seen = []int64{caller, seq, l.last[caller]}
		}
		l.last[caller] = seq + 1
		l.ran++
	})
	return &out, nil
}})

func TestOneCallerRunsInOrder(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions(), "order", nil)
		const n = 10000
		futs := make([]*actor.Future[*testv1.DoResponse], n)
		for i := range futs {
			futs[i] = h.Do(ctx, &testv1.DoRequest{Arg: int64(i)})
		}
		for _, f := range futs {
			if _, err := f.Get(ctx); err != nil {
				t.Fatal(err)
			}
		}
		r, err := h.Do(ctx, &testv1.DoRequest{Key: "report"}).Get(ctx)
		if err != nil || r.GetValue() != n || r.GetText() != "" {
			t.Fatalf("ran %d calls, want %d in order: %s (%v)", r.GetValue(), n, r.GetText(), err)
		}
	})
}

func TestEachCallerKeepsItsOrder(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		const callers, perCaller = 8, 500
		h := m.spawn(t, testv1actor.ProbeOptions(), "order", nil)
		var wg sync.WaitGroup
		for c := range callers {
			wg.Go(func() { callInOrder(ctx, t, h, c, perCaller) })
		}
		wg.Wait()
		r, err := h.Do(ctx, &testv1.DoRequest{Key: "report"}).Get(ctx)
		if err != nil || r.GetValue() != callers*perCaller || r.GetText() != "" {
			t.Fatalf("ran %d calls, want %d each in its caller's order: %s (%v)", r.GetValue(), callers*perCaller, r.GetText(), err)
		}
	})
}

// Calls of one caller keep their order when made from many drivers at
// once: each driver is a caller of its own.
func TestCallersOnManyDriversKeepTheirOrder(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().Name("ordered"), "order", nil)
		const drivers, perDriver = 3, 300
		var wg sync.WaitGroup
		for d := range drivers {
			sys := m.sys
			if m.cluster {
				sys = shared.get(t).connectNS(t, m.sys.Namespace())
			}
			wg.Go(func() {
				dh, err := testv1actor.GetProbe(ctx, sys, "ordered")
				if err != nil {
					t.Error(err)
					return
				}
				callInOrder(ctx, t, dh, d, perDriver)
			})
		}
		wg.Wait()
		r, err := h.Do(ctx, &testv1.DoRequest{Key: "report"}).Get(ctx)
		if err != nil || r.GetValue() != drivers*perDriver || r.GetText() != "" {
			t.Fatalf("ran %d calls, want %d each in its driver's order: %s (%v)", r.GetValue(), drivers*perDriver, r.GetText(), err)
		}
	})
}

// callInOrder makes n calls to the "order" behaviour as caller c, all at
// once, numbered in the order made, and waits for them.
func callInOrder(ctx context.Context, t *testing.T, h *testv1actor.ProbeHandle, c, n int) {
	futs := make([]*actor.Future[*testv1.DoResponse], n)
	for i := range futs {
		futs[i] = h.Do(ctx, &testv1.DoRequest{Arg: int64(c*1e6 + i)})
	}
	for _, f := range futs {
		if _, err := f.Get(ctx); err != nil {
			t.Error(err)
			return
		}
	}
}
