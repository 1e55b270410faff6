package cluster_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// A node stopped with SIGTERM drains: the head places nothing more on it,
// its idle actors restart elsewhere within a second, a running call
// finishes, and the node exits 0.
func TestSIGTERMDrainsNode(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	a := c.addNode("--labels", "role=worker")
	b := c.addNode("--labels", "role=worker")
	sys := c.connect("drain")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	onB := func() *actor.Spawner[*testv1.ProbeInit, *testv1actor.ProbeHandle] {
		return testv1actor.ProbeOptions().MaxRestarts(1).LabelSelector(worker).Scheduling(actor.NodeAffinity(b, true))
	}
	idle := spawn(t, sys, onB())
	busy := spawn(t, sys, onB())
	for _, h := range []*testv1actor.ProbeHandle{idle, busy} {
		if got := nodeOf(t, h); got != b {
			t.Fatalf("actor on %s, want %s", got, b)
		}
	}
	const callMs = 2000
	call := busy.Do(ctx, &testv1.DoRequest{Key: "sleep", Arg: callMs})
	eventually(t, "the long call to run", func() bool { return info(t, sys, busy.Ref().ID()).RunningCalls == 1 })

	p := c.nodes[b]
	drained := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		in := info(t, sys, idle.Ref().ID())
		if in.State == actor.Alive && in.Node != "" && in.Node != b {
			break
		}
		if time.Since(drained) > time.Second {
			t.Fatalf("1s after the drain the idle actor is %v on %q, want alive on another node", in.State, in.Node)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// While the busy actor's call runs, B drains: nothing new lands there.
	for range 4 {
		h := spawn(t, sys, testv1actor.ProbeOptions().LabelSelector(worker))
		if got := info(t, sys, h.Ref().ID()).Node; got != a {
			t.Fatalf("actor spawned during the drain placed on %s, want %s", got, a)
		}
	}
	if time.Since(drained) > callMs*time.Millisecond {
		t.Fatalf("the drain checks took longer than the running call")
	}
	if res, err := call.Get(ctx); err != nil || res.GetValue() != callMs {
		t.Fatalf("call running at the drain = %v, %v; want it to finish", res, err)
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the node did not exit on SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("node exited with %d, want 0", code)
	}
	eventually(t, "the busy actor to restart elsewhere", func() bool {
		in := info(t, sys, busy.Ref().ID())
		return in.State == actor.Alive && in.Node != b && in.Restarts == 1
	})
}
