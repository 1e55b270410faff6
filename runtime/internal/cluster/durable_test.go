package cluster_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/internal/cluster/caller"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// addLedgerNode starts a node hosting the durable Ledger with its state in
// the SQLite file db, and returns its id.
func (c *testCluster) addLedgerNode(db string, env ...string) string {
	c.t.Helper()
	p, m := start(c.t, append([]string{"TROUPE_TOKEN=" + c.token, "TROUPE_TEST_LEDGER_DB=" + db}, env...), listening,
		"start", "--address", c.headAddr)
	c.nodes[m[2]] = p
	c.addrs[m[2]] = m[1]
	return m[2]
}

// durableActivations asks the head which nodes activate durable actors.
func (c *testCluster) durableActivations() []*actorv1.DurableActivation {
	c.t.Helper()
	cl := caller.NewClient(c.headAddr, c.token, nil, slog.New(slog.DiscardHandler))
	defer cl.Close()
	res, err := cl.Head.ListDurable(context.Background(), connect.NewRequest(&actorv1.ListDurableRequest{}))
	if err != nil {
		c.t.Fatalf("ListDurable: %v", err)
	}
	return res.Msg.GetActivations()
}

// Two drivers race to activate one durable actor and call it concurrently:
// the cluster activates it on one node, every call runs there, and none is
// lost. When that node is killed, the next call activates the actor on the
// other node with its committed state.
func TestDurableOneActivationClusterWide(t *testing.T) {
	c := newCluster(t) // the head does not host the Ledger: killing its owner must not kill the head
	db := filepath.Join(t.TempDir(), "ledger.db")
	nodes := []string{c.addLedgerNode(db), c.addLedgerNode(db)}
	drivers := []*actor.System{c.connect("one"), c.connect("two")}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const perDriver = 100
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		ran   = map[string]int{} // node that ran an Add: count
		errs  []error
		ready = make(chan struct{})
	)
	for _, sys := range drivers {
		h, err := testv1actor.GetOrCreateLedger(ctx, sys, "race", &testv1.LedgerInit{})
		if err != nil {
			t.Fatalf("GetOrCreateLedger: %v", err)
		}
		for range perDriver {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-ready
				v, err := h.Add(ctx, &testv1.LedgerAddRequest{By: 1}).Get(ctx)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				ran[v.GetNote()]++
			}()
		}
	}
	close(ready)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d adds failed, first: %v", len(errs), errs[0])
	}
	if len(ran) != 1 {
		t.Fatalf("adds ran on several nodes: %v", ran)
	}
	acts := c.durableActivations()
	if len(acts) != 1 || acts[0].GetId() != "race" || acts[0].GetClass() != testv1actor.LedgerClassName {
		t.Fatalf("activations = %v, want one of race", acts)
	}
	owner := acts[0].GetNodeId()
	if ran[owner] != 2*perDriver {
		t.Fatalf("adds ran %v, want all %d on the owner %s", ran, 2*perDriver, owner)
	}
	h2, err := testv1actor.GetOrCreateLedger(ctx, drivers[1], "race", nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := h2.Get(ctx, &testv1.LedgerGetRequest{}).Get(ctx); err != nil || v.GetValue() != 2*perDriver {
		t.Fatalf("Get = %v, %v; want %d", v, err, 2*perDriver)
	}

	// kill -9 the owner: the next call activates the actor on the other node.
	other := nodes[0]
	if other == owner {
		other = nodes[1]
	}
	c.nodes[owner].kill()
	h1, err := testv1actor.GetOrCreateLedger(ctx, drivers[0], "race", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The call carries a key: if it was in flight on the lost node, its
	// retry is applied once.
	kctx := actor.WithCallKey(ctx, "test", 1)
	var v *testv1.LedgerValue
	for {
		v, err = h1.Add(kctx, &testv1.LedgerAddRequest{By: 1}).Get(kctx)
		if err == nil || ctx.Err() != nil {
			break
		}
		t.Logf("add after the kill: %v (retrying)", err)
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("add after the kill: %v", err)
	}
	if v.GetValue() != 2*perDriver+1 || v.GetNote() != other {
		t.Fatalf("add after the kill = %v, want value %d on node %s", v, 2*perDriver+1, other)
	}
	acts = c.durableActivations()
	if len(acts) != 1 || acts[0].GetNodeId() != other {
		t.Fatalf("activations after the kill = %v, want one on %s", acts, other)
	}
	if v, err := h2.Get(ctx, &testv1.LedgerGetRequest{}).Get(ctx); err != nil || v.GetValue() != 2*perDriver+1 {
		t.Fatalf("Get after the kill = %v, %v; want %d", v, err, 2*perDriver+1)
	}
	// A call from an actor on a node that does not host the class (the
	// head) goes to the same activation.
	p := spawn(t, drivers[0], testv1actor.ProbeOptions().Scheduling(actor.NodeAffinity(c.headID, false)))
	res, err := p.Do(ctx, &testv1.DoRequest{Key: "ledger", Arg: 1}).Get(ctx)
	if err != nil || res.GetValue() != 2*perDriver+2 || res.GetText() != other {
		t.Fatalf("add from the head's actor = %v, %v; want value %d on node %s", res, err, 2*perDriver+2, other)
	}
	if acts := c.durableActivations(); len(acts) != 1 || acts[0].GetNodeId() != other {
		t.Fatalf("activations at the end = %v, want one on %s", acts, other)
	}
}

// A node's idle deactivation releases the actor at the head; the next call
// activates it again with its state.
func TestDurableIdleReleasesActivation(t *testing.T) {
	c := newCluster(t)
	db := filepath.Join(t.TempDir(), "ledger.db")
	c.addLedgerNode(db, "TROUPE_TEST_LEDGER_IDLE=100ms")
	sys := c.connect("idle")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := testv1actor.GetOrCreateLedger(ctx, sys, "sleepy", &testv1.LedgerInit{Start: 5})
	if err != nil {
		t.Fatal(err)
	}
	for want := int64(6); want <= 7; want++ {
		v, err := h.Add(ctx, &testv1.LedgerAddRequest{By: 1}).Get(ctx)
		if err != nil || v.GetValue() != want {
			t.Fatalf("Add = %v, %v; want %d", v, err, want)
		}
		if acts := c.durableActivations(); len(acts) != 1 {
			t.Fatalf("activations = %v, want one", acts)
		}
		eventually(t, "the idle actor's release", func() bool { return len(c.durableActivations()) == 0 })
	}
}

// One caller's calls to a durable actor that is not active yet run in the
// order they were made: those that reach its node while it asks the head
// queue behind the activation.
func TestDurableCallsKeepOrderThroughActivation(t *testing.T) {
	c := newCluster(t)
	c.addLedgerNode(filepath.Join(t.TempDir(), "ledger.db"))
	sys := c.connect("order")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h, err := testv1actor.GetOrCreateLedger(ctx, sys, "order", &testv1.LedgerInit{})
	if err != nil {
		t.Fatalf("GetOrCreateLedger: %v", err)
	}
	const calls = 50
	futs := make([]*actor.Future[*testv1.LedgerValue], calls)
	for i := range futs {
		futs[i] = h.Add(ctx, &testv1.LedgerAddRequest{By: 1})
	}
	for i, f := range futs {
		v, err := f.Get(ctx)
		if err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
		if v.GetValue() != int64(i+1) {
			t.Fatalf("add %d saw value %d, want %d: the calls ran out of order", i, v.GetValue(), i+1)
		}
	}
}
