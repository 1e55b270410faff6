package actor_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

func TestNilHandleAndNilRequest(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		var h *testv1actor.ProbeHandle
		if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorNotFound) {
			t.Fatalf("call on nil handle = %v; want ErrActorNotFound", err)
		}
		p := m.spawn(t, testv1actor.ProbeOptions(), "", nil)
		resp, err := p.Add(ctx, nil).Get(ctx)
		if err != nil || resp.GetValue() != 0 {
			t.Fatalf("Add(nil) = %v, %v; want an empty request to run", resp, err)
		}
	})
}

// "via-ref": Do adds arg to the Probe in r.Ref and answers its sum; with
// no ref it asks the Probe in init.Peer for its number.
var _ = behave("via-ref", &behaviour{do: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	if r.GetRef() == nil {
		peer, err := testv1actor.ProbeFromRef(ctx, actor.SystemFrom(ctx), p.init.GetPeer())
		if err != nil {
			return nil, err
		}
		resp, err := peer.Get(ctx, &testv1.GetRequest{}).Get(ctx)
		return &testv1.DoResponse{Value: resp.GetValue()}, err
	}
	peer, err := testv1actor.ProbeFromRef(ctx, actor.SystemFrom(ctx), r.GetRef())
	if err != nil {
		return nil, err
	}
	resp, err := peer.Add(ctx, &testv1.AddRequest{By: r.GetArg()}).Get(ctx)
	return &testv1.DoResponse{Value: resp.GetValue()}, err
}})

func TestHandleInsideMessage(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		store := m.spawn(t, testv1actor.ProbeOptions(), "", &testv1.ProbeInit{Start: 100})
		user := m.spawn(t, testv1actor.ProbeOptions(), "via-ref", nil)
		resp, err := user.Do(ctx, &testv1.DoRequest{Arg: 5, Ref: store.ActorRef()}).Get(ctx)
		if err != nil || resp.GetValue() != 105 {
			t.Fatalf("Do via passed handle = %v, %v; want 105", resp, err)
		}
		got, _ := store.Get(ctx, &testv1.GetRequest{}).Get(ctx)
		if got.GetValue() != 105 {
			t.Fatalf("store = %d, want 105", got.GetValue())
		}
	})
}

func TestHandleAsConstructorArgument(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		store := m.spawn(t, testv1actor.ProbeOptions(), "", &testv1.ProbeInit{Start: 7})
		proc := m.spawn(t, testv1actor.ProbeOptions(), "via-ref", &testv1.ProbeInit{Peer: store.ActorRef()})
		resp, err := proc.Do(ctx, &testv1.DoRequest{}).Get(ctx)
		if err != nil || resp.GetValue() != 7 {
			t.Fatalf("Do = %v, %v; want 7", resp, err)
		}
	})
}

// "slow-ctor": the constructor waits at gate "ctor".
var _ = behave("slow-ctor", &behaviour{ctor: func(ctx context.Context, init *testv1.ProbeInit) error {
	_, err := coordDo(ctx, init, "pass/ctor", 0)
	return err
}})

func TestCallsBeforeConstructorReturnsQueue(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions(), "slow-ctor", nil)
		f := h.Add(ctx, &testv1.AddRequest{By: 3})
		m.arrived(t, "ctor", 1)
		if info := stateOf(t, m.sys, h.Ref().ID()); info.State != actor.PendingCreation {
			t.Fatalf("state while constructing = %v", info.State)
		}
		m.open(t, "ctor")
		if resp, err := f.Get(ctx); err != nil || resp.GetValue() != 3 {
			t.Fatalf("queued call = %v, %v", resp, err)
		}
		// A listing reflects the constructor's end once the node's report
		// reaches the head (at once on an embedded node).
		eventually(t, "the listing to show ALIVE", func() bool {
			return stateOf(t, m.sys, h.Ref().ID()).State == actor.Alive
		})
	})
}

var _ = behave("bad-ctor", &behaviour{ctor: func(context.Context, *testv1.ProbeInit) error {
	return errors.New("no database")
}})

func TestConstructorErrorKillsActor(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().MaxRestarts(3), "bad-ctor", nil)
		for _, when := range []string{"first", "later"} {
			_, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
			var died *actor.ActorDiedError
			if !errors.As(err, &died) || died.Cause.Kind != actor.CauseConstructor || died.Cause.Message != "no database" {
				t.Fatalf("%s call = %v; want actor died with the constructor's error", when, err)
			}
		}
		info := stateOf(t, m.sys, h.Ref().ID())
		if info.State != actor.Dead || info.Restarts != 0 {
			t.Fatalf("info = %+v; want DEAD without restarts", info)
		}
	})
}

// "where": Do answers the node id and, in Value, the pid of the process
// hosting the actor.
var _ = behave("where", &behaviour{do: func(ctx context.Context, _ *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
	return &testv1.DoResponse{Text: actor.SystemFrom(ctx).NodeID(), Value: int64(os.Getpid())}, nil
}})

func TestListActorsColumns(t *testing.T) {
	t.Parallel()
	forEachModeWith(t, []actor.Option{actor.WithNamespace("colors")}, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions().Name("red").NumCPUs(1), "where", nil)
		where, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.embedded() && (where.GetText() != m.sys.NodeID() || where.GetValue() != int64(os.Getpid())) {
			t.Fatalf("embedded actor runs on %s pid %d", where.GetText(), where.GetValue())
		}
		if m.cluster && where.GetValue() == int64(os.Getpid()) {
			t.Fatal("a cluster actor runs in the driver's process")
		}
		info := stateOf(t, m.sys, h.Ref().ID())
		want := actor.ActorInfo{ID: h.Ref().ID(), Class: testv1actor.ProbeClassName, State: actor.Alive, Job: m.sys.Job(),
			Name: "red", Node: where.GetText(), PID: int(where.GetValue()), Namespace: m.sys.Namespace()}
		if info.ID != want.ID || info.Class != want.Class || info.State != want.State || info.Job != want.Job ||
			info.Name != want.Name || info.Node != want.Node || info.Namespace != want.Namespace || info.PID != want.PID {
			t.Fatalf("info = %+v; want %+v", info, want)
		}
		if info.Resources["CPU"] != 1 || info.Detached {
			t.Fatalf("detail = %+v", info)
		}
	})
}

// "wait": Do with arg 1 waits at gate "g"; any other answers its arg.
var _ = behave("wait", &behaviour{do: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	if r.GetArg() == 1 {
		return &testv1.DoResponse{Value: 1}, pass(ctx, p, "g")
	}
	return &testv1.DoResponse{Value: r.GetArg()}, nil
}})

func TestWait(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		slow := m.spawn(t, testv1actor.ProbeOptions(), "wait", nil)
		fast := m.spawn(t, testv1actor.ProbeOptions(), "wait", nil)
		futs := []*actor.Future[*testv1.DoResponse]{
			slow.Do(ctx, &testv1.DoRequest{Arg: 1}),
			fast.Do(ctx, &testv1.DoRequest{Arg: 2}),
			fast.Do(ctx, &testv1.DoRequest{Arg: 3}),
		}
		ready, notReady, err := actor.Wait(ctx, futs, 2)
		if err != nil || len(ready) != 2 || len(notReady) != 1 || ready[0] != futs[1] || ready[1] != futs[2] || notReady[0] != futs[0] {
			t.Fatalf("Wait = %v, %v, %v", ready, notReady, err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		ready, notReady, err = actor.Wait(cctx, futs, 3)
		if !errors.Is(err, context.Canceled) || len(ready) != 2 || len(notReady) != 1 {
			t.Fatalf("Wait with ended ctx = %d ready, %d not, %v", len(ready), len(notReady), err)
		}
		m.open(t, "g")
		if ready, _, err := actor.Wait(ctx, futs, 3); err != nil || len(ready) != 3 || !slices.Equal(ready, futs) {
			t.Fatalf("Wait(all) = %d, %v; want all, in input order", len(ready), err)
		}
		// Many goroutines read one future.
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if r, err := futs[2].Get(ctx); err != nil || r.GetValue() != 3 {
					t.Errorf("Get = %v, %v", r, err)
				}
			})
		}
		wg.Wait()
	})
}

// "stop-file": Stop appends a line to the file named in init.Label: a
// record that outlives the system, whichever process ran the hook.
var _ = behave("stop-file", &behaviour{stop: func(_ context.Context, p *probe) error {
	f, err := os.OpenFile(p.init.GetLabel(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString("stop\n")
	return errors.Join(err, f.Close())
}})

// A system's shutdown ends the actors it owns, gracefully: their Stop hooks
// run, later calls fail with actor-died and later spawns with
// ErrSystemClosed.
func TestShutdownFailsLaterCalls(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		stops := filepath.Join(t.TempDir(), "stops")
		h := m.spawn(t, testv1actor.ProbeOptions(), "stop-file", &testv1.ProbeInit{Label: stops})
		if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
			t.Fatal(err)
		}
		if err := m.sys.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(stops); err != nil || string(b) != "stop\n" {
			t.Fatalf("Stop hook record after shutdown = %q, %v; want it run once", b, err)
		}
		if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
			t.Fatalf("call after shutdown = %v; want ErrActorDied", err)
		}
		if _, err := testv1actor.ProbeOptions().Spawn(ctx, m.sys, nil); !errors.Is(err, actor.ErrSystemClosed) {
			t.Fatalf("Spawn after shutdown = %v; want ErrSystemClosed", err)
		}
	})
}

func TestInvalidOptions(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		cases := map[string]*actor.Spawner[*testv1.ProbeInit, *testv1actor.ProbeHandle]{
			"concurrency 0":    testv1actor.ProbeOptions().MaxConcurrency(0),
			"restarts -2":      testv1actor.ProbeOptions().MaxRestarts(-2),
			"retries -5":       testv1actor.ProbeOptions().MaxTaskRetries(-5),
			"pending -1":       testv1actor.ProbeOptions().MaxPendingCalls(-1),
			"negative cpus":    testv1actor.ProbeOptions().NumCPUs(-1),
			"get without name": testv1actor.ProbeOptions().GetIfExists(true),
			"group io dropped": testv1actor.ProbeOptions().ConcurrencyGroups(map[string]int{"cpu": 1}),
			"group limit 0":    testv1actor.ProbeOptions().ConcurrencyGroups(map[string]int{"io": 0}),
			"unknown lifetime": testv1actor.ProbeOptions().Lifetime(actor.Lifetime(7)),
		}
		for name, s := range cases {
			_, err := s.Spawn(ctx, m.sys, nil)
			if !errors.Is(err, actor.ErrInvalidOption) || connect.CodeOf(err) != connect.CodeInvalidArgument {
				t.Errorf("%s: Spawn = %v; want ErrInvalidOption", name, err)
			}
		}
		if list, _ := m.sys.ListActors(ctx, actor.Filter("job", m.sys.Job())); len(list) != 0 {
			t.Fatalf("invalid spawns left %d actors: %+v", len(list), list)
		}
	})
}

// Futures that finish while Wait is setting up are still counted.
func TestWaitNeverMissesAFuture(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		h := m.spawn(t, testv1actor.ProbeOptions(), "", nil)
		ctx := testCtx(t)
		for round := range 200 {
			futs := make([]*actor.Future[*testv1.AddResponse], 50)
			for i := range futs {
				futs[i] = h.Add(ctx, &testv1.AddRequest{By: 1})
			}
			for _, n := range []int{len(futs) - 1, len(futs)} {
				ready, _, err := actor.Wait(ctx, futs, n)
				if err != nil || len(ready) != n {
					t.Fatalf("round %d: Wait(n=%d) = %d ready, %v", round, n, len(ready), err)
				}
			}
		}
	})
}
