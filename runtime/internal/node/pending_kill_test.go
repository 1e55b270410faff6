package node

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/runtime/internal/errs"
)

// Killing an actor not placed yet, without NoRestart, spends a restart:
// it stays queued for placement while it has one left, and dies (its
// queued calls failing with actor-died, cause killed) when it has none.
func TestKillUnplacedActorSpendsARestart(t *testing.T) {
	n := New("n1", slog.New(slog.DiscardHandler))
	c := echoClass()
	if err := n.Register(c, func(context.Context, proto.Message) (any, error) { return struct{}{}, nil }); err != nil {
		t.Fatal(err)
	}
	spec, _ := SpecFromProto(nil)
	spec.MaxRestarts = 1
	a, err := n.NewActor(context.Background(), "a1", c, spec, c.NewInit(), "job", nil)
	if err != nil {
		t.Fatal(err)
	}
	var call Call
	call.Init(context.Background(), c.Methods[0], c.NewInit())
	a.Submit(&call)
	killed := errs.Cause{Kind: errs.CauseKilled, Message: "killed by Kill"}

	a.Kill(killed, true, false)
	if in := a.Info(); in.State != PendingCreation || in.Restarts != 1 {
		t.Fatalf("after a kill with a restart left: %v, %d restarts; want PENDING_CREATION, 1", in.State, in.Restarts)
	}
	a.Kill(killed, true, false)
	if in := a.Info(); in.State != Dead || in.Cause.Kind != errs.CauseKilled {
		t.Fatalf("after a kill with no restart left: %v (%v); want DEAD, killed", in.State, in.Cause)
	}
	if err := call.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := call.Result(); !errors.Is(err, errs.ErrActorDied) {
		t.Fatalf("call queued while it waited: %v, want actor-died", err)
	}
}
