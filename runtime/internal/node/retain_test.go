package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/troupehq/troupe/runtime/internal/errs"
)

func retainNode(t *testing.T, keep int) (*Node, *Class) {
	t.Helper()
	n := New("n1", slog.New(slog.DiscardHandler))
	c := echoClass()
	if err := n.Register(c, func(context.Context, proto.Message) (any, error) { return struct{}{}, nil }); err != nil {
		t.Fatal(err)
	}
	n.SetDeadRetention(keep)
	return n, c
}

func spawnEcho(t *testing.T, n *Node, c *Class, id string) *Actor {
	t.Helper()
	spec, _ := SpecFromProto(nil)
	a, err := n.NewActor(context.Background(), id, c, spec, c.NewInit(), "job", nil)
	if err != nil {
		t.Fatal(err)
	}
	n.Place(a)
	return a
}

func ids(actors []*Actor) []string {
	out := make([]string, len(actors))
	for i, a := range actors {
		out[i] = a.ID
	}
	return out
}

var killed = errs.Cause{Kind: errs.CauseKilled, Message: "killed by the test"}

// The node keeps the newest dead up to its retention, by time of death,
// and handles to evicted actors still see their death.
func TestDeadRetentionEvictsOldestDeath(t *testing.T) {
	n, c := retainNode(t, 2)
	var actors []*Actor
	for i := range 5 {
		actors = append(actors, spawnEcho(t, n, c, fmt.Sprintf("a%d", i)))
	}
	// Die in the order a3, a0, a4, a1: a3 and a0 are evicted.
	for _, i := range []int{3, 0, 4, 1} {
		actors[i].Kill(killed, false, false)
	}
	if got, want := fmt.Sprint(ids(n.Actors())), "[a1 a2 a4]"; got != want {
		t.Fatalf("Actors() = %s, want %s", got, want)
	}
	for _, id := range []string{"a0", "a3"} {
		if _, ok := n.Actor(id); ok {
			t.Errorf("Actor(%s) found an evicted actor", id)
		}
	}
	var call Call
	call.Init(context.Background(), c.Methods[0], wrapperspb.Int64(1))
	actors[0].Submit(&call)
	if err := call.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := call.Result(); !errors.Is(err, errs.ErrActorDied) {
		t.Fatalf("call to an evicted actor = %v, want actor died", err)
	}

	// Lowering the retention evicts at once; 0 keeps none.
	n.SetDeadRetention(1)
	if got, want := fmt.Sprint(ids(n.Actors())), "[a1 a2]"; got != want {
		t.Fatalf("Actors() with retention 1 = %s, want %s", got, want)
	}
	n.SetDeadRetention(0)
	actors[2].Kill(killed, false, false)
	if got := n.Actors(); len(got) != 0 {
		t.Fatalf("Actors() with retention 0 = %v, want none", ids(got))
	}
}

// Forgotten and replaced dead actors leave the retention: they do not
// take the place of other dead actors.
func TestDeadRetentionForgetAndReplace(t *testing.T) {
	n, c := retainNode(t, 1)
	a := spawnEcho(t, n, c, "a")
	b := spawnEcho(t, n, c, "b")
	b.Kill(killed, false, false)
	n.Forget(b)
	a.Kill(killed, false, false)
	if got, want := fmt.Sprint(ids(n.Actors())), "[a]"; got != want {
		t.Fatalf("Actors() = %s, want %s", got, want)
	}
	// a is recreated under its id (as a cluster node does when the head
	// places it here again): the new one is live, and the next death does
	// not evict it.
	a2 := spawnEcho(t, n, c, "a")
	d := spawnEcho(t, n, c, "d")
	d.Kill(killed, false, false)
	if got, ok := n.Actor("a"); !ok || got != a2 {
		t.Fatalf("Actor(a) = %v, %v; want the recreated actor", got, ok)
	}
	if got, want := fmt.Sprint(ids(n.Actors())), "[a d]"; got != want {
		t.Fatalf("Actors() = %s, want %s", got, want)
	}
	if n.dead.Len() != 1 || len(n.deadElems) != 1 {
		t.Fatalf("retained dead: list %d, index %d; want 1", n.dead.Len(), len(n.deadElems))
	}
}

// A node starts with the default retention.
func TestDeadRetentionDefault(t *testing.T) {
	if got := New("n", slog.New(slog.DiscardHandler)).DeadRetention(); got != DefaultDeadRetention {
		t.Fatalf("DeadRetention() = %d, want %d", got, DefaultDeadRetention)
	}
}
