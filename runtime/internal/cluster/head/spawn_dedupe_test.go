package head

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// A spawn sent again with its request id, to the same head or to the head
// restarted on its state, gets the actor the first one created; another
// request id is another actor.
func TestSpawnRequestIDIsOneActor(t *testing.T) {
	dir := t.TempDir()
	ids := 0
	newID := func() string { ids++; return fmt.Sprintf("id%d", ids) }
	open := func() *Head {
		h, err := New(Config{StateDir: dir, Log: slog.New(slog.DiscardHandler), HTTPClient: http.DefaultClient, NewID: newID})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	spec, _ := node.SpecFromProto(nil)
	spec.Namespace = "default"
	spawn := func(h *Head, reqID string) string {
		t.Helper()
		res, err := h.SpawnActor(context.Background(), connect.NewRequest(&actorv1.SpawnActorRequest{
			Class: "test.v1.Probe", Spec: cluster.SpecToProto(spec), RequestId: reqID}))
		if err != nil {
			t.Fatal(err)
		}
		return res.Msg.GetActor().GetActorId()
	}
	h := open()
	first := spawn(h, "r1")
	if again := spawn(h, "r1"); again != first {
		t.Fatalf("spawn sent again = actor %s, want %s", again, first)
	}
	if other := spawn(h, "r2"); other == first {
		t.Fatalf("another request id got the same actor %s", other)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h = open()
	defer h.Close()
	if again := spawn(h, "r1"); again != first {
		t.Fatalf("spawn sent again to the restarted head = actor %s, want %s", again, first)
	}
	list, err := h.ListActors(context.Background(), connect.NewRequest(&actorv1.ListActorsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.Msg.GetActors()); n != 2 {
		t.Fatalf("the head lists %d actors, want 2", n)
	}
}
