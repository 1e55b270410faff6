package actor_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// allProbe answers Do with its arg, fails the key "fail" with
// failed_precondition, and holds the key "hold" at g.
func allProbe(g *gate) *behaviour {
	return &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		switch r.GetKey() {
		case "fail":
			return nil, connect.NewError(connect.CodeFailedPrecondition, errors.New("no such thing"))
		case "hold":
			if err := g.pass(ctx); err != nil {
				return nil, err
			}
		}
		return &testv1.DoResponse{Value: r.GetArg()}, nil
	}}
}

func TestAllReturnsResultsInOrder(t *testing.T) {
	sys := start(t, allProbe(nil))
	ctx := context.Background()
	var futs []*actor.Future[*testv1.DoResponse]
	for i := range 20 {
		h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
		futs = append(futs, h.Do(ctx, &testv1.DoRequest{Arg: int64(i)}))
	}
	got, err := actor.All(ctx, futs...)
	if err != nil {
		t.Fatalf("All: %v", err)
	}
	if len(got) != len(futs) {
		t.Fatalf("All returned %d results, want %d", len(got), len(futs))
	}
	for i, r := range got {
		if r.GetValue() != int64(i) {
			t.Errorf("result %d = %d, want %d", i, r.GetValue(), i)
		}
	}
}

// One failure among many: All returns its error without waiting for the
// calls still running, which go on.
func TestAllReturnsFirstFailureWithoutWaiting(t *testing.T) {
	g := newGate(10)
	defer g.open()
	sys := start(t, allProbe(g))
	ctx := context.Background()
	var futs []*actor.Future[*testv1.DoResponse]
	for i := range 10 {
		h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
		key := "hold"
		if i == 7 {
			key = "fail"
		}
		futs = append(futs, h.Do(ctx, &testv1.DoRequest{Key: key, Arg: int64(i)}))
	}
	g.wait(t, 9) // nine calls are running and held
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := actor.All(wctx, futs...)
	if connect.CodeOf(err) != connect.CodeFailedPrecondition || got != nil {
		t.Fatalf("All = %v, %v; want no results and the failure (failed_precondition)", got, err)
	}
	if wctx.Err() != nil {
		t.Fatal("All waited for the held calls")
	}
	g.open()
	for i, f := range futs {
		if i == 7 {
			continue
		}
		if r, err := f.Get(wctx); err != nil || r.GetValue() != int64(i) {
			t.Errorf("held call %d = %v, %v; want it to go on and answer %d", i, r, err, i)
		}
	}
}

func TestAllEndsWithCtx(t *testing.T) {
	g := newGate(1)
	defer g.open()
	sys := start(t, allProbe(g))
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	ctx := context.Background()
	held := h.Do(ctx, &testv1.DoRequest{Key: "hold"})
	g.wait(t, 1)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := actor.All(cctx, h.Do(ctx, &testv1.DoRequest{Arg: 1}), held)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if connect.CodeOf(err) != connect.CodeCanceled || !errors.Is(err, context.Canceled) {
			t.Fatalf("All after cancel = %v; want canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("All did not return when its ctx ended")
	}
}

func TestAllOfNothing(t *testing.T) {
	got, err := actor.All[*testv1.DoResponse](context.Background())
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("All() = %#v, %v; want an empty slice and no error", got, err)
	}
	if _, err := actor.All(context.Background(), (*actor.Future[*testv1.DoResponse])(nil)); !errors.Is(err, actor.ErrInvalidOption) {
		t.Fatalf("All(nil future) = %v; want ErrInvalidOption", err)
	}
}
