package head

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"testing"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

func openTestHead(t *testing.T, dir string, keep int) *Head {
	t.Helper()
	h, err := New(Config{StateDir: dir, Log: slog.New(slog.DiscardHandler), HTTPClient: http.DefaultClient,
		NewID: func() string { return "unused" }, DeadActorRetention: &keep})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// addTestActor records a live actor, as SpawnActor does before placing it.
func addTestActor(h *Head, id string, created int64) *headActor {
	spec, _ := node.SpecFromProto(nil)
	spec.Name, spec.Namespace = id, "default"
	in := &actorv1.ActorInfo{ActorId: id, Class: "test.v1.Probe", State: actorv1.ActorState_ACTOR_STATE_ALIVE,
		Name: id, Namespace: "default", Spec: cluster.SpecToProto(spec), CreatedUnixNano: created}
	a := &headActor{rec: &actorv1.ActorRecord{Info: in}, spec: spec}
	h.mu.Lock()
	h.actors.add(a)
	h.names.Bind(&a.spec, a)
	stored := h.persistLocked(&write{actors: []*actorv1.ActorRecord{a.rec}})
	h.mu.Unlock()
	<-stored
	return a
}

func kill(h *Head, ids ...string) {
	h.mu.Lock()
	var w write
	for _, id := range ids {
		h.deadLocked(h.actors.byID[id], &w, errs.Cause{Kind: errs.CauseKilled, Message: "killed by the test"})
	}
	stored := h.persistLocked(&w)
	h.mu.Unlock()
	<-stored
}

func listed(t *testing.T, h *Head) []string {
	t.Helper()
	res, err := h.ListActors(context.Background(), connect.NewRequest(&actorv1.ListActorsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range res.Msg.GetActors() {
		ids = append(ids, in.GetActorId())
	}
	return ids
}

// The head keeps the newest dead up to its retention, by time of death,
// in memory and in its store; a restart with a lower retention evicts
// more, and one with a higher retention does not bring evicted actors
// back. Dead actors stored before deaths were numbered count as oldest.
func TestHeadDeadRetention(t *testing.T) {
	dir := t.TempDir()
	h := openTestHead(t, dir, 3)
	// A dead actor as an older head stored it: no numbered death.
	legacy := addTestActor(h, "legacy", 0)
	legacy.info().State = actorv1.ActorState_ACTOR_STATE_DEAD
	h.mu.Lock()
	h.names.Free(&legacy.spec, legacy)
	h.persistLocked(&write{actors: []*actorv1.ActorRecord{legacy.rec}})
	h.mu.Unlock()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}

	h = openTestHead(t, dir, 3)
	for i := range 6 {
		addTestActor(h, fmt.Sprintf("a%d", i), int64(i+1))
	}
	kill(h, "a4", "a0")
	if got, want := listed(t, h), []string{"legacy", "a0", "a1", "a2", "a3", "a4", "a5"}; !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	kill(h, "a2", "a1") // the legacy actor and a4 are evicted
	if got, want := listed(t, h), []string{"a0", "a1", "a2", "a3", "a5"}; !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	for _, id := range []string{"legacy", "a4"} {
		_, err := h.GetActor(context.Background(), connect.NewRequest(&actorv1.GetActorRequest{ActorId: id}))
		if connect.CodeOf(cluster.ToWire(err)) != connect.CodeNotFound {
			t.Fatalf("GetActor(%s), evicted = %v, want not found", id, err)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}

	h = openTestHead(t, dir, 1) // keeps a1, the last to die
	if got, want := listed(t, h), []string{"a1", "a3", "a5"}; !slices.Equal(got, want) {
		t.Fatalf("after a restart with retention 1: listed %v, want %v", got, want)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}

	h = openTestHead(t, dir, 10)
	defer h.Close()
	if got, want := listed(t, h), []string{"a1", "a3", "a5"}; !slices.Equal(got, want) {
		t.Fatalf("after a restart with retention 10: listed %v, want %v", got, want)
	}
	w, err := h.st.load()
	if err != nil {
		t.Fatal(err)
	}
	if len(w.actors) != 3 || len(w.deaths) != 1 || w.deaths[0].id != "a1" {
		t.Fatalf("stored %d actors and deaths %v; want 3 actors and a1's death", len(w.actors), w.deaths)
	}
	// New deaths are numbered after the recovered ones.
	kill(h, "a3")
	if w, err = h.st.load(); err != nil {
		t.Fatal(err)
	}
	if len(w.deaths) != 2 || w.deaths[1].id != "a3" || w.deaths[1].seq <= w.deaths[0].seq {
		t.Fatalf("stored deaths %v, want a1 then a3", w.deaths)
	}
}

// With many evictions h.actors.order is compacted and keeps no evicted actor.
func TestHeadCompactsOrder(t *testing.T) {
	h := openTestHead(t, t.TempDir(), 0)
	defer h.Close()
	for i := range 50 {
		id := fmt.Sprintf("a%d", i)
		addTestActor(h, id, int64(i))
		kill(h, id)
	}
	addTestActor(h, "live", 100)
	h.mu.Lock()
	n, stale := len(h.actors.order), h.actors.staleRefs
	h.mu.Unlock()
	if n > 2*stale+1 || len(h.actors.byID) != 1 {
		t.Fatalf("order holds %d actors (%d stale), the table %d; want compaction", n, stale, len(h.actors.byID))
	}
	if got := listed(t, h); !slices.Equal(got, []string{"live"}) {
		t.Fatalf("listed %v, want [live]", got)
	}
}
