package actor_test

import (
	"context"
	"testing"

	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// "writer-waits": Read with arg 1 waits at gate "g"; Read and Io record
// their key in log "order" as they run.
var _ = behave("writer-waits", &behaviour{
	read: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		if r.GetArg() == 1 {
			if err := pass(ctx, p, "g"); err != nil {
				return nil, err
			}
		}
		return &testv1.DoResponse{}, record(ctx, p, "order", r.GetKey())
	},
	io: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		return &testv1.DoResponse{}, record(ctx, p, "order", r.GetKey())
	},
})

// A mutating call that waits only because readers run holds back the
// readers that come after it, whichever group they are in, so a stream of
// readers cannot starve a writer. Here the writer is Io (group "io") and
// the readers are Read (the default group): without the rule the second
// reader would join the first and run before the writer.
func TestWaitingWriterHoldsBackLaterReaders(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions(), "writer-waits", nil)
		first := h.Read(ctx, &testv1.DoRequest{Arg: 1, Key: "first reader"})
		m.arrived(t, "g", 1) // the first reader runs and holds
		writer := h.Io(ctx, &testv1.DoRequest{Key: "writer"})
		// The writer must have reached the actor before the second reader:
		// on a cluster, calls from one caller arrive in order.
		second := h.Read(ctx, &testv1.DoRequest{Key: "second reader"})
		m.open(t, "g")
		for _, f := range []interface {
			Get(context.Context) (*testv1.DoResponse, error)
		}{first, writer, second} {
			if _, err := f.Get(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := m.log(t, "order"), "first reader,writer,second reader"; got != want {
			t.Fatalf("order = %q, want %q: a reader overtook a waiting writer", got, want)
		}
	})
}
