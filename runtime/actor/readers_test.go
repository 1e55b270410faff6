package actor_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// A mutating call that waits only because readers run holds back the
// readers that come after it, whichever group they are in, so a stream of
// readers cannot starve a writer. Here the writer is Io (group "io") and
// the readers are Read (the default group): without the rule the second
// reader would join the first and run before the writer.
func TestWaitingWriterHoldsBackLaterReaders(t *testing.T) {
	t.Parallel()
	g := newGate(1)
	var mu sync.Mutex
	var order []string
	record := func(s string) {
		mu.Lock()
		order = append(order, s)
		mu.Unlock()
	}
	sys := start(t, &behaviour{
		read: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
			if r.GetArg() == 1 {
				if err := g.pass(ctx); err != nil {
					return nil, err
				}
			}
			record(r.GetKey())
			return &testv1.DoResponse{}, nil
		},
		io: func(_ context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
			record(r.GetKey())
			return &testv1.DoResponse{}, nil
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	first := h.Read(ctx, &testv1.DoRequest{Arg: 1, Key: "first reader"})
	g.wait(t, 1) // the first reader runs and holds
	writer := h.Io(ctx, &testv1.DoRequest{Key: "writer"})
	second := h.Read(ctx, &testv1.DoRequest{Key: "second reader"})
	g.open()
	for _, f := range []interface {
		Get(context.Context) (*testv1.DoResponse, error)
	}{first, writer, second} {
		if _, err := f.Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"first reader", "writer", "second reader"}
	if !slices.Equal(order, want) {
		t.Fatalf("order = %q, want %q: a reader overtook a waiting writer", order, want)
	}
}
