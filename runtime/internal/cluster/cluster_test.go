package cluster_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

var worker = map[string]string{"role": "worker"}

// An actor that needs a custom resource lands on the node that has it, and
// a driver's calls reach it there; SPREAD spreads actors evenly.
func TestPlacementAndSpread(t *testing.T) {
	c := newCluster(t)
	writer := c.addNode("--resources", `{"writer_node": 1}`, "--labels", "role=worker")
	other := c.addNode("--labels", "role=worker")
	sys := c.connect("placement")
	ctx := context.Background()

	w := spawn(t, sys, testv1actor.ProbeOptions().Resources(map[string]float64{"writer_node": 1}))
	if got := nodeOf(t, w); got != writer {
		t.Fatalf("the writer actor runs on node %s, want %s (the one with writer_node)", got, writer)
	}
	res, err := w.Add(ctx, &testv1.AddRequest{By: 2}).Get(ctx)
	if err != nil || res.GetValue() != 2 {
		t.Fatalf("Add = %v, %v; want 2", res, err)
	}
	eventually(t, "the listing to show the writer ALIVE on its node", func() bool {
		in := info(t, sys, w.Ref().ID())
		return in.Node == writer && in.State == actor.Alive && in.PID != 0
	})

	// The only writer_node is held: a second writer waits, with a reason.
	w2 := spawn(t, sys, testv1actor.ProbeOptions().Resources(map[string]float64{"writer_node": 1}))
	if in := info(t, sys, w2.Ref().ID()); in.State != actor.PendingCreation || in.PendingReason == "" {
		t.Fatalf("second writer: %+v; want PENDING_CREATION with a reason", in)
	}
	// Its calls wait; when the first writer dies it is placed.
	fut := w2.Add(ctx, &testv1.AddRequest{By: 5})
	if err := sys.Kill(ctx, w, actor.NoRestart()); err != nil {
		t.Fatal(err)
	}
	if res, err := fut.Get(ctx); err != nil || res.GetValue() != 5 {
		t.Fatalf("call to the pending writer = %v, %v", res, err)
	}
	if got := nodeOf(t, w2); got != writer {
		t.Fatalf("second writer on %s, want %s", got, writer)
	}

	counts := map[string]int{}
	for range 6 {
		h := spawn(t, sys, testv1actor.ProbeOptions().Scheduling(actor.Spread).LabelSelector(worker))
		counts[nodeOf(t, h)]++
	}
	if counts[writer] != 3 || counts[other] != 3 {
		t.Fatalf("SPREAD placed %v; want 3 on each of %s and %s", counts, writer, other)
	}
}

// Hard affinity to a dead node fails as unschedulable; soft falls back.
func TestNodeAffinity(t *testing.T) {
	c := newCluster(t)
	a := c.addNode("--labels", "role=worker")
	b := c.addNode("--labels", "role=worker")
	sys := c.connect("affinity")
	ctx := context.Background()

	h := spawn(t, sys, testv1actor.ProbeOptions().Scheduling(actor.NodeAffinity(b, false)))
	if got := nodeOf(t, h); got != b {
		t.Fatalf("hard affinity to %s placed the actor on %s", b, got)
	}
	c.nodes[b].kill()
	eventually(t, "hard affinity to the dead node to fail as unschedulable", func() bool {
		_, err := testv1actor.ProbeOptions().Scheduling(actor.NodeAffinity(b, false)).Spawn(ctx, sys, nil)
		return errors.Is(err, actor.ErrUnschedulable) && connect.CodeOf(err) == connect.CodeFailedPrecondition
	})
	soft := spawn(t, sys, testv1actor.ProbeOptions().Scheduling(actor.NodeAffinity(b, true)).LabelSelector(worker))
	if got := nodeOf(t, soft); got != a {
		t.Fatalf("soft affinity to the dead node placed the actor on %s, want %s", got, a)
	}
	if _, err := testv1actor.ProbeOptions().Scheduling(actor.NodeAffinity("no-such-node", false)).Spawn(ctx, sys, nil); !errors.Is(err, actor.ErrUnschedulable) {
		t.Fatalf("hard affinity to an unknown node: %v, want ErrUnschedulable", err)
	}
}

// kill -9 of a node during a stream of calls: actors with restarts come
// back on the other node; with unlimited task retries every call
// succeeds, without any the calls caught fail with actor-died or
// actor-unavailable, and no call hangs.
func TestNodeKilledDuringCalls(t *testing.T) {
	c := newCluster(t)
	a := c.addNode("--labels", "role=worker")
	b := c.addNode("--labels", "role=worker")
	sys := c.connect("failover")

	on := func(node string) *actor.Spawner[*testv1.ProbeInit, *testv1actor.ProbeHandle] {
		return testv1actor.ProbeOptions().MaxRestarts(2).LabelSelector(worker).Scheduling(actor.NodeAffinity(node, true))
	}
	retried := spawn(t, sys, on(b).MaxTaskRetries(-1))
	plain := spawn(t, sys, on(b).MaxTaskRetries(0))
	ordered := spawn(t, sys, on(b).MaxTaskRetries(-1))
	for _, h := range []*testv1actor.ProbeHandle{retried, plain, ordered} {
		if got := nodeOf(t, h); got != b {
			t.Fatalf("actor placed on %s, want %s", got, b)
		}
	}

	type outcome struct {
		ok   int
		errs []error
	}
	var mu sync.Mutex
	results := map[*testv1actor.ProbeHandle]*outcome{retried: {}, plain: {}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for h, out := range results {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					_, err := h.Do(ctx, &testv1.DoRequest{Key: "sleep", Arg: 5}).Get(ctx)
					cancel()
					mu.Lock()
					if err != nil {
						out.errs = append(out.errs, err)
					} else {
						out.ok++
					}
					mu.Unlock()
				}
			}()
		}
	}
	// Two callers keep 16 calls each in flight to one actor; the actor
	// fails a call that arrives after a later one of its caller, so the
	// calls sent again after the node's loss must go in their order.
	var orderedOK [2]int
	var orderErrs []error
	for caller := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var window []*actor.Future[*testv1.DoResponse]
			for n := int64(1); ; n++ {
				select {
				case <-stop:
					for _, f := range window {
						_, err := f.Get(ctx)
						mu.Lock()
						if err != nil {
							orderErrs = append(orderErrs, err)
						}
						mu.Unlock()
					}
					return
				default:
				}
				window = append(window, ordered.Do(ctx, &testv1.DoRequest{Key: "order", Arg: int64(caller)*1e6 + n}))
				if len(window) < 16 {
					continue
				}
				_, err := window[0].Get(ctx)
				window = window[1:]
				mu.Lock()
				if err != nil {
					orderErrs = append(orderErrs, err)
				} else {
					orderedOK[caller]++
				}
				mu.Unlock()
			}
		}()
	}
	eventually(t, "calls to flow", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return results[retried].ok > 20 && results[plain].ok > 20 && orderedOK[0] > 20 && orderedOK[1] > 20
	})
	c.nodes[b].kill()
	eventually(t, "the actors to be back on the other node", func() bool {
		for _, h := range []*testv1actor.ProbeHandle{retried, plain, ordered} {
			in := info(t, sys, h.Ref().ID())
			if in.State != actor.Alive || in.Node != a || in.Restarts != 1 {
				return false
			}
		}
		return true
	})
	mu.Lock()
	before, orderedBefore := results[retried].ok, orderedOK
	mu.Unlock()
	eventually(t, "calls to succeed on the restarted actors", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return results[retried].ok > before+20 && orderedOK[0] > orderedBefore[0]+20 && orderedOK[1] > orderedBefore[1]+20
	})
	close(stop)
	wg.Wait()

	if len(orderErrs) > 0 {
		t.Fatalf("%d pipelined calls failed or ran out of their caller's order across the node's loss; first: %v", len(orderErrs), orderErrs[0])
	}

	if errs := results[retried].errs; len(errs) > 0 {
		t.Fatalf("with max_task_retries -1, %d calls failed; first: %v", len(errs), errs[0])
	}
	if got := nodeOf(t, retried); got != a {
		t.Fatalf("restarted actor runs on %s, want %s", got, a)
	}
	for _, err := range results[plain].errs {
		if !errors.Is(err, actor.ErrActorDied) && !errors.Is(err, actor.ErrActorUnavailable) {
			t.Fatalf("with max_task_retries 0, a call failed with %v (%v); want actor-died or actor-unavailable", err, connect.CodeOf(err))
		}
	}
	if len(results[plain].errs) == 0 {
		t.Fatalf("with max_task_retries 0, no in-flight call failed when its node was killed")
	}
	if got := nodeOf(t, plain); got != a {
		t.Fatalf("restarted actor runs on %s, want %s", got, a)
	}
}

// kill -9 of the head: calls to existing actors go on; a head restarted on
// the same state directory knows the same actors and names, and spawns.
func TestHeadRestart(t *testing.T) {
	c := newCluster(t)
	a := c.addNode("--labels", "role=worker")
	sys := c.connect("restart")
	ctx := context.Background()

	named := spawn(t, sys, testv1actor.ProbeOptions().Name("survivor").LabelSelector(worker))
	anon := spawn(t, sys, testv1actor.ProbeOptions().LabelSelector(worker))
	// Actors on the head's own node die with its process.
	onHead := func() *actor.Spawner[*testv1.ProbeInit, *testv1actor.ProbeHandle] {
		return testv1actor.ProbeOptions().Scheduling(actor.NodeAffinity(c.headID, true))
	}
	headRestarts := spawn(t, sys, onHead().MaxRestarts(1))
	headOnce := spawn(t, sys, onHead())
	for _, h := range []*testv1actor.ProbeHandle{headRestarts, headOnce} {
		if got := nodeOf(t, h); got != c.headID {
			t.Fatalf("actor on %s, want the head's node %s", got, c.headID)
		}
	}
	headID := c.headID
	before, err := sys.ListActors(ctx)
	if err != nil {
		t.Fatal(err)
	}

	_, port, _ := splitHostPort(c.headAddr)
	c.head.kill()
	for i := range 20 {
		res, err := named.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx)
		if err != nil || res.GetValue() != int64(i+1) {
			t.Fatalf("call %d with the head down = %v, %v", i, res, err)
		}
		if _, err := anon.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
			t.Fatalf("call with the head down: %v", err)
		}
	}

	c.startHead(port)
	if c.headID != headID {
		t.Fatalf("the restarted head is node %s, before %s: its node id must persist", c.headID, headID)
	}
	after, err := sys.ListActors(ctx)
	if err != nil {
		t.Fatalf("ListActors after the head restarted: %v", err)
	}
	if len(after) != len(before) {
		t.Fatalf("after the restart the head lists %d actors, before %d", len(after), len(before))
	}
	for i := range before {
		if after[i].ID != before[i].ID || after[i].Name != before[i].Name || after[i].Namespace != before[i].Namespace {
			t.Fatalf("actor %d: before %+v, after %+v", i, before[i], after[i])
		}
		if before[i].Node != headID && after[i].Node != before[i].Node {
			t.Fatalf("actor %d moved: before %+v, after %+v", i, before[i], after[i])
		}
	}
	// The head's own actors were in the killed process: the one with a
	// restart left comes back (on the head, the only node that fits it
	// best or any other), the other is dead with its node lost.
	eventually(t, "the head's actor with a restart to come back", func() bool {
		in := info(t, sys, headRestarts.Ref().ID())
		return in.State == actor.Alive && in.Restarts == 1 && in.Node != ""
	})
	if res, err := headRestarts.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil || res.GetValue() != 0 {
		t.Fatalf("Get on the restarted head actor = %v, %v; want 0 (fresh state)", res, err)
	}
	eventually(t, "the head's actor without restarts to be dead", func() bool {
		in := info(t, sys, headOnce.Ref().ID())
		return in.State == actor.Dead && contains(in.DeathCause, "node lost")
	})
	again, err := testv1actor.GetProbe(ctx, sys, "survivor")
	if err != nil || again.Ref().ID() != named.Ref().ID() {
		t.Fatalf("GetProbe(survivor) after the restart = %v, %v", again, err)
	}
	if res, err := again.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil || res.GetValue() != 20 {
		t.Fatalf("Get = %v, %v; want 20", res, err)
	}
	fresh := spawn(t, sys, testv1actor.ProbeOptions().LabelSelector(worker))
	if got := nodeOf(t, fresh); got != a {
		t.Fatalf("new actor on %s, want %s", got, a)
	}
	sys2 := c.connect("restart")
	if _, err := testv1actor.GetProbe(ctx, sys2, "survivor"); err != nil {
		t.Fatalf("a new driver after the restart: %v", err)
	}
}

// A driver process that dies takes its owned actors with it; its detached
// named actor lives on and is found from its namespace only.
func TestDriverExit(t *testing.T) {
	c := newCluster(t)
	c.addNode("--labels", "role=worker")
	p, m := start(t, []string{"TROUPE_TOKEN=" + c.token}, driverLine, "driver", c.headAddr, "jobs")
	owned, detached := m[1], m[2]
	sys := c.connect("jobs")
	ctx := context.Background()
	if in := info(t, sys, owned); in.State != actor.Alive {
		t.Fatalf("owned actor: %+v", in)
	}
	p.kill()
	eventually(t, "the dead driver's owned actor to die", func() bool {
		in := info(t, sys, owned)
		return in.State == actor.Dead
	})
	if in := info(t, sys, owned); in.DeathCause == "" || !contains(in.DeathCause, "owner died") {
		t.Fatalf("death cause %q, want owner died", in.DeathCause)
	}
	kept, err := testv1actor.GetProbe(ctx, sys, "keeper")
	if err != nil || kept.Ref().ID() != detached {
		t.Fatalf("GetProbe(keeper) = %v, %v; want %s", kept, err, detached)
	}
	if res, err := kept.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil || res.GetValue() != 42 {
		t.Fatalf("Get on the detached actor = %v, %v; want 42", res, err)
	}
	other := c.connect("elsewhere")
	if _, err := testv1actor.GetProbe(ctx, other, "keeper"); !errors.Is(err, actor.ErrActorNotFound) || connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("GetProbe(keeper) from another namespace: %v, want ErrActorNotFound", err)
	}
	// A driver that shuts down ends its job the same way.
	sys3 := c.connect("jobs")
	h := spawn(t, sys3, testv1actor.ProbeOptions())
	if err := sys3.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if in := info(t, sys, h.Ref().ID()); in.State != actor.Dead {
		t.Fatalf("actor of a shut-down driver: %+v, want DEAD", in)
	}
}

// Drivers racing get_if_exists on one name all get the one actor.
func TestGetIfExistsRace(t *testing.T) {
	c := newCluster(t)
	c.addNode()
	var drivers []*actor.System
	for range 3 {
		drivers = append(drivers, c.connect("race"))
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	ids := make(chan string, 3*32)
	for _, sys := range drivers {
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h, err := testv1actor.ProbeOptions().Name("shared").GetIfExists(true).Lifetime(actor.Detached).Spawn(ctx, sys, nil)
				if err != nil {
					t.Errorf("Spawn: %v", err)
					return
				}
				ids <- h.Ref().ID()
			}()
		}
	}
	wg.Wait()
	close(ids)
	seen := map[string]int{}
	for id := range ids {
		seen[id]++
	}
	if len(seen) != 1 {
		t.Fatalf("racing get_if_exists gave %d actors: %v", len(seen), seen)
	}
	list, err := drivers[0].ListActors(ctx, actor.Filter("name", "shared"))
	if err != nil || len(list) != 1 {
		t.Fatalf("ListActors(name=shared) = %v, %v; want one actor", list, err)
	}
}

// Requests without the cluster token fail with unauthenticated, to the
// head and to nodes' call streams alike.
func TestTokenRequired(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	st, err := os.Stat(filepath.Join(c.stateDir, "token"))
	if err != nil || st.Mode().Perm() != 0o600 || len(c.token) < 32 {
		t.Fatalf("token file: %v, %v; want mode 0600 and a long random token", st, err)
	}
	hc := transport.NewH2CClient()
	defer hc.CloseIdleConnections()
	head := actorv1connect.NewHeadServiceClient(hc, "http://"+c.headAddr)
	_, err = head.ListActors(ctx, connect.NewRequest(&actorv1.ListActorsRequest{}))
	if connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("ListActors without the token: %v, want unauthenticated", err)
	}
	_, err = actor.Connect(ctx, c.headAddr, actor.WithToken("wrong"))
	if connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("Connect with a wrong token: %v, want unauthenticated", err)
	}
	conn := transport.Dial("http://"+c.headAddr, hc)
	defer conn.Close()
	_, err = conn.Call(ctx, &actorv1.CallEnvelope{ActorId: "x", Procedure: testv1actor.ProbeGetProcedure}).Result()
	if !hasCode(err, connect.CodeUnauthenticated) {
		t.Fatalf("a call stream without the token: %v, want it refused as unauthenticated", err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+c.headAddr+"/actor.v1.HeadService/ListNodes", nil)
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("plain HTTP without the token: status %d, want 401", res.StatusCode)
	}
}

// hasCode reports whether any *connect.Error in err's chain has code.
func hasCode(err error, code connect.Code) bool {
	for err != nil {
		if ce, ok := err.(*connect.Error); ok && ce.Code() == code {
			return true
		}
		err = errors.Unwrap(err)
	}
	return false
}

// Typed errors cross the wire: a panic is an actor-died error with its
// cause on the caller's side; an actor spawned by an actor dies with it.
func TestErrorsAndOwnersAcrossProcesses(t *testing.T) {
	c := newCluster(t)
	c.addNode("--labels", "role=worker")
	sys := c.connect("errors")
	ctx := context.Background()

	h := spawn(t, sys, testv1actor.ProbeOptions().Name("fragile").LabelSelector(worker))
	_, err := h.Do(ctx, &testv1.DoRequest{Key: "panic"}).Get(ctx)
	var died *actor.ActorDiedError
	if !errors.Is(err, actor.ErrActorDied) || !errors.As(err, &died) || connect.CodeOf(err) != connect.CodeAborted {
		t.Fatalf("call that panics: %v, want an *ActorDiedError with code aborted", err)
	}
	if died.ActorID != h.Ref().ID() || died.Cause.Kind != actor.CausePanic || died.Cause.Message != "asked to panic" || died.Cause.Stack == "" || died.Name != "fragile" {
		t.Fatalf("ActorDiedError = %+v", died)
	}
	if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
		t.Fatalf("call to the dead actor: %v", err)
	}
	eventually(t, "the name to be free", func() bool {
		_, err := testv1actor.GetProbe(ctx, sys, "fragile")
		return errors.Is(err, actor.ErrActorNotFound)
	})
	if _, err := testv1actor.ProbeOptions().Name("fragile").Spawn(ctx, sys, nil); err != nil {
		t.Fatalf("spawning on the freed name: %v", err)
	}
	if _, err := testv1actor.ProbeOptions().Name("fragile").Spawn(ctx, sys, nil); !errors.Is(err, actor.ErrNameTaken) || connect.CodeOf(err) != connect.CodeAlreadyExists {
		t.Fatalf("spawning on a taken name: %v, want ErrNameTaken", err)
	}

	// Deadlines travel with remote calls; Future.Cancel reaches them. The
	// actor runs one call at a time: the call after them runs only if both
	// ended on the node.
	slow := spawn(t, sys, testv1actor.ProbeOptions().LabelSelector(worker))
	dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = slow.Do(dctx, &testv1.DoRequest{Key: "sleep", Arg: 60000}).Get(ctx)
	cancel()
	if connect.CodeOf(err) != connect.CodeDeadlineExceeded {
		t.Fatalf("call past its deadline: %v, want deadline_exceeded", err)
	}
	fut := slow.Do(ctx, &testv1.DoRequest{Key: "sleep", Arg: 60000})
	fut.Cancel()
	if _, err := fut.Get(ctx); connect.CodeOf(err) != connect.CodeCanceled {
		t.Fatalf("cancelled call: %v, want canceled", err)
	}
	nctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err = slow.Get(nctx, &testv1.GetRequest{}).Get(nctx)
	cancel()
	if err != nil {
		t.Fatalf("the call after a cancelled one: %v (the cancel did not reach the node)", err)
	}

	parent := spawn(t, sys, testv1actor.ProbeOptions().LabelSelector(worker))
	res, err := parent.Do(ctx, &testv1.DoRequest{Key: "spawn"}).Get(ctx)
	if err != nil {
		t.Fatalf("spawn from inside an actor: %v", err)
	}
	child := res.GetText()
	if in := info(t, sys, child); in.Job != sys.Job() || in.Namespace != "errors" {
		t.Fatalf("child %+v: want job %s, namespace errors", in, sys.Job())
	}
	if err := sys.Kill(ctx, parent, actor.NoRestart()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the child to die with its owner", func() bool {
		in := info(t, sys, child)
		return in.State == actor.Dead && contains(in.DeathCause, "owner died")
	})
}

// A node that was out of touch long enough to be declared lost stops the
// actors the head moved elsewhere when it comes back.
func TestPausedNodeStopsMovedActors(t *testing.T) {
	c := newCluster(t)
	a := c.addNode("--labels", "role=worker")
	b := c.addNode("--labels", "role=worker")
	sys := c.connect("pause")
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(1).LabelSelector(worker).Scheduling(actor.NodeAffinity(b, true)))
	if got := nodeOf(t, h); got != b {
		t.Fatalf("actor on %s, want %s", got, b)
	}
	bAddr := c.nodeAddr(b)
	if err := c.nodes[b].cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the actor to move to the other node", func() bool {
		in := info(t, sys, h.Ref().ID())
		return in.Node == a && in.State == actor.Alive
	})
	if err := c.nodes[b].cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// Calls straight to the old node find no actor there: its copy is stopped.
	hc := cluster.AuthClient(transport.NewH2CClient(), c.token)
	defer hc.CloseIdleConnections()
	conn := transport.Dial("http://"+bAddr, hc)
	defer conn.Close()
	eventually(t, "the paused node to stop its stale copy", func() bool {
		res, err := conn.Call(ctx, &actorv1.CallEnvelope{ActorId: h.Ref().ID(), Procedure: testv1actor.ProbeGetProcedure}).Result()
		return err == nil && connect.Code(res.GetCode()) == connect.CodeNotFound
	})
	if got := nodeOf(t, h); got != a {
		t.Fatalf("calls through the handle reach %s, want %s", got, a)
	}
}

// A node stopped with SIGTERM shuts down gracefully: its actors restart on
// other nodes at once, without waiting for a heartbeat timeout.
func TestNodeShutdownMovesActors(t *testing.T) {
	c := newCluster(t)
	a := c.addNode("--labels", "role=worker")
	b := c.addNode("--labels", "role=worker")
	sys := c.connect("drain")
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(1).LabelSelector(worker).Scheduling(actor.NodeAffinity(b, true)))
	once := spawn(t, sys, testv1actor.ProbeOptions().LabelSelector(worker).Scheduling(actor.NodeAffinity(b, true)))
	if got := nodeOf(t, h); got != b {
		t.Fatalf("actor on %s, want %s", got, b)
	}
	p := c.nodes[b]
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the node did not exit on SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("node exited with %d, want 0", code)
	}
	if got := nodeOf(t, h); got != a {
		t.Fatalf("after the shutdown the actor runs on %s, want %s", got, a)
	}
	if in := info(t, sys, h.Ref().ID()); in.Restarts != 1 {
		t.Fatalf("restarts %d, want 1", in.Restarts)
	}
	eventually(t, "the actor without restarts to be dead", func() bool {
		in := info(t, sys, once.Ref().ID())
		return in.State == actor.Dead && contains(in.DeathCause, "node lost")
	})
	if _, err := once.Get(ctx, &testv1.GetRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
		t.Fatalf("call to the actor without restarts: %v, want ErrActorDied", err)
	}
}
