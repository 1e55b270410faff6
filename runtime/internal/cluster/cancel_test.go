package cluster_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// Future.Cancel of a call running on another node ends the method's ctx
// there and the caller sees canceled at once; when the actor is then
// killed with restarts and the call's retries left, the call is not
// retried on the restarted actor.
func TestFutureCancelOfRemoteCall(t *testing.T) {
	c := newCluster(t)
	c.addNode("--labels", "role=worker")
	sys := c.connect("cancel")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	h := spawn(t, sys, testv1actor.ProbeOptions().LabelSelector(worker).MaxRestarts(1).MaxTaskRetries(-1))
	id := h.Ref().ID()
	// The method adds 1, waits for its ctx to end, then lingers a minute:
	// it is still running when the kill comes.
	fut := h.Do(ctx, &testv1.DoRequest{Key: "stubborn", Arg: 60_000})
	stubborn := func() int64 {
		res, err := h.Io(ctx, &testv1.DoRequest{Key: "stubborn state"}).Get(ctx)
		if err != nil {
			t.Fatalf("Io: %v", err)
		}
		return res.GetValue()
	}
	eventually(t, "the call to run", func() bool { return stubborn() == 1 })
	fut.Cancel()
	if _, err := fut.Get(ctx); connect.CodeOf(err) != connect.CodeCanceled {
		t.Fatalf("cancelled remote call = %v; want canceled", err)
	}
	eventually(t, "the method to see its ctx end", func() bool { return stubborn() == 2 })

	if err := sys.Kill(ctx, h); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the restart", func() bool {
		in := info(t, sys, id)
		return in.State == actor.Alive && in.Restarts == 1
	})
	res, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
	if err != nil {
		t.Fatalf("call on the restarted actor: %v", err)
	}
	if res.GetValue() != 0 {
		t.Fatalf("restarted actor's counter = %d, want 0: the cancelled call was retried", res.GetValue())
	}
}
