package head

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
)

// A node's reports travel on requests of their own and can arrive out of
// order: one older than what the head knows (fewer restarts, or an
// earlier step of the same life) changes nothing, and newer ones apply.
func TestStaleReportIsIgnored(t *testing.T) {
	h := openTestHead(t, t.TempDir(), 10)
	t.Cleanup(func() { _ = h.Close() })
	a := addTestActor(h, "a1", 1)
	report := func(state actorv1.ActorState, restarts int32) {
		t.Helper()
		_, err := h.ReportActor(context.Background(), connect.NewRequest(&actorv1.ReportActorRequest{
			NodeId: a.info().GetNodeId(),
			Actor:  &actorv1.HostedActor{ActorId: "a1", State: state, Restarts: restarts},
		}))
		if err != nil {
			t.Fatal(err)
		}
	}
	want := func(state actorv1.ActorState, restarts int32) {
		t.Helper()
		h.mu.Lock()
		got, n := a.info().GetState(), a.info().GetRestarts()
		h.mu.Unlock()
		if got != state || n != restarts {
			t.Fatalf("head has %v after %d restarts, want %v after %d", got, n, state, restarts)
		}
	}
	const (
		alive      = actorv1.ActorState_ACTOR_STATE_ALIVE
		restarting = actorv1.ActorState_ACTOR_STATE_RESTARTING
	)
	report(restarting, 2)
	report(alive, 2)
	want(alive, 2)
	report(restarting, 2) // the earlier step of life 2, overtaken
	want(alive, 2)
	report(alive, 1) // an earlier life
	want(alive, 2)
	report(restarting, 3) // the next life
	want(restarting, 3)
}
