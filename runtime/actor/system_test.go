package actor_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

func TestStateKeptAcrossCalls(t *testing.T) {
	t.Parallel()
	sys := start(t, nil)
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions(), &testv1.ProbeInit{Start: 10})
	for i, want := range []int64{11, 13, 16} {
		resp, err := h.Add(ctx, &testv1.AddRequest{By: int64(i + 1)}).Get(ctx)
		if err != nil || resp.GetValue() != want {
			t.Fatalf("Add #%d = %v, %v; want %d", i, resp, err, want)
		}
	}
	got, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
	if err != nil || got.GetValue() != 16 {
		t.Fatalf("Get = %v, %v; want 16", got, err)
	}
}

func TestOneCallerRunsInOrder(t *testing.T) {
	t.Parallel()
	var seen []int64
	sys := start(t, &behaviour{do: func(_ context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		seen = append(seen, r.GetArg()) // serial: no lock needed
		return &testv1.DoResponse{}, nil
	}})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	const n = 10000
	futs := make([]*actor.Future[*testv1.DoResponse], n)
	for i := range futs {
		futs[i] = h.Do(ctx, &testv1.DoRequest{Arg: int64(i)})
	}
	for _, f := range futs {
		if _, err := f.Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != n {
		t.Fatalf("ran %d calls, want %d", len(seen), n)
	}
	for i, v := range seen {
		if v != int64(i) {
			t.Fatalf("call %d ran at position %d", v, i)
		}
	}
}

func TestEachCallerKeepsItsOrder(t *testing.T) {
	t.Parallel()
	const callers, perCaller = 8, 500
	last := make([]int64, callers)
	var violations atomic.Int64
	sys := start(t, &behaviour{do: func(_ context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		caller, seq := r.GetArg()/perCaller, r.GetArg()%perCaller
		if seq != last[caller] {
			violations.Add(1)
		}
		last[caller] = seq + 1
		return &testv1.DoResponse{}, nil
	}})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			futs := make([]*actor.Future[*testv1.DoResponse], perCaller)
			for i := range futs {
				futs[i] = h.Do(ctx, &testv1.DoRequest{Arg: int64(c*perCaller + i)})
			}
			for _, f := range futs {
				if _, err := f.Get(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if v := violations.Load(); v != 0 {
		t.Fatalf("%d calls ran out of their caller's order", v)
	}
	for c, n := range last {
		if n != perCaller {
			t.Fatalf("caller %d: %d calls ran, want %d", c, n, perCaller)
		}
	}
}

func TestGetIfExistsRace(t *testing.T) {
	t.Parallel()
	var ctors atomic.Int64
	sys := start(t, &behaviour{ctor: func(context.Context, *testv1.ProbeInit) error {
		ctors.Add(1)
		return nil
	}})
	ctx := context.Background()
	const racers = 64
	ids := make([]string, racers)
	labels := make([]string, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			h, err := testv1actor.ProbeOptions().Name("shared").GetIfExists(true).
				Spawn(ctx, sys, &testv1.ProbeInit{Label: fmt.Sprintf("creator-%d", i)})
			if err != nil {
				t.Error(err)
				return
			}
			resp, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i], labels[i] = h.Ref().ID(), resp.GetLabel()
		})
	}
	close(start)
	wg.Wait()
	for i := range racers {
		if ids[i] != ids[0] || labels[i] != labels[0] {
			t.Fatalf("racer %d got actor %s (%s), racer 0 got %s (%s)", i, ids[i], labels[i], ids[0], labels[0])
		}
	}
	if n := ctors.Load(); n != 1 {
		t.Fatalf("constructor ran %d times, want 1", n)
	}
	list, _ := sys.ListActors(ctx, actor.Filter("name", "shared"))
	if len(list) != 1 {
		t.Fatalf("ListActors(name=shared) has %d actors, want 1", len(list))
	}
}

func TestNameTakenWithoutGetIfExists(t *testing.T) {
	t.Parallel()
	sys := start(t, nil)
	ctx := context.Background()
	spawn(t, sys, testv1actor.ProbeOptions().Name("x"), nil)
	_, err := testv1actor.ProbeOptions().Name("x").Spawn(ctx, sys, nil)
	if !errors.Is(err, actor.ErrNameTaken) || connect.CodeOf(err) != connect.CodeAlreadyExists {
		t.Fatalf("second Spawn = %v; want ErrNameTaken, already_exists", err)
	}
	// Another namespace is another name.
	if _, err := testv1actor.ProbeOptions().Name("x").Namespace("other").Spawn(ctx, sys, nil); err != nil {
		t.Fatalf("Spawn in another namespace: %v", err)
	}
}

func TestKilledNameIsFreeAndOldHandlesFail(t *testing.T) {
	t.Parallel()
	sys := start(t, nil)
	ctx := context.Background()
	first := spawn(t, sys, testv1actor.ProbeOptions().Name("svc"), &testv1.ProbeInit{Label: "first"})
	if err := sys.Kill(ctx, first, actor.NoRestart()); err != nil {
		t.Fatal(err)
	}
	_, err := first.Get(ctx, &testv1.GetRequest{}).Get(ctx)
	var died *actor.ActorDiedError
	if !errors.Is(err, actor.ErrActorDied) || !errors.As(err, &died) || died.Cause.Kind != actor.CauseKilled {
		t.Fatalf("call to killed actor = %v; want ErrActorDied with cause killed", err)
	}
	if connect.CodeOf(err) != connect.CodeAborted {
		t.Fatalf("code = %v, want aborted", connect.CodeOf(err))
	}
	second := spawn(t, sys, testv1actor.ProbeOptions().Name("svc"), &testv1.ProbeInit{Label: "second"})
	if second.Ref().ID() == first.Ref().ID() {
		t.Fatal("new actor reused the dead actor's id")
	}
	found, err := testv1actor.GetProbe(ctx, sys, "svc")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := found.Get(ctx, &testv1.GetRequest{}).Get(ctx)
	if err != nil || resp.GetLabel() != "second" {
		t.Fatalf("lookup after re-take = %v, %v; want the second actor", resp, err)
	}
	if _, err := first.Get(ctx, &testv1.GetRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
		t.Fatalf("old handle after re-take = %v; want ErrActorDied", err)
	}
}

func TestLookupErrors(t *testing.T) {
	t.Parallel()
	sys := start(t, nil)
	ctx := context.Background()
	_, err := testv1actor.GetProbe(ctx, sys, "missing")
	if !errors.Is(err, actor.ErrActorNotFound) || connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("GetProbe(missing) = %v; want ErrActorNotFound, not_found", err)
	}
	if _, err := testv1actor.OtherOptions().Name("o").Spawn(ctx, sys, nil); err != nil {
		t.Fatal(err)
	}
	_, err = testv1actor.GetProbe(ctx, sys, "o")
	if !errors.Is(err, actor.ErrWrongClass) || connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatalf("GetProbe(other class) = %v; want ErrWrongClass", err)
	}
	_, err = testv1actor.ProbeOptions().Name("o").GetIfExists(true).Spawn(ctx, sys, nil)
	if !errors.Is(err, actor.ErrWrongClass) {
		t.Fatalf("GetIfExists on other class = %v; want ErrWrongClass", err)
	}
	o, _ := testv1actor.GetOther(ctx, sys, "o")
	if _, err := testv1actor.ProbeFromRef(ctx, sys, o.ActorRef()); !errors.Is(err, actor.ErrWrongClass) {
		t.Fatalf("ProbeFromRef(other) = %v; want ErrWrongClass", err)
	}
	if _, err := testv1actor.ProbeFromRef(ctx, sys, nil); !errors.Is(err, actor.ErrActorNotFound) {
		t.Fatalf("ProbeFromRef(ctx, nil) = %v; want ErrActorNotFound", err)
	}
}

func TestNilHandleAndNilRequest(t *testing.T) {
	t.Parallel()
	sys := start(t, nil)
	ctx := context.Background()
	var h *testv1actor.ProbeHandle
	if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorNotFound) {
		t.Fatalf("call on nil handle = %v; want ErrActorNotFound", err)
	}
	p := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	resp, err := p.Add(ctx, nil).Get(ctx)
	if err != nil || resp.GetValue() != 0 {
		t.Fatalf("Add(nil) = %v, %v; want an empty request to run", resp, err)
	}
}

func TestHandleInsideMessage(t *testing.T) {
	t.Parallel()
	sys := start(t, &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		peer, err := testv1actor.ProbeFromRef(ctx, actor.SystemFrom(ctx), r.GetRef())
		if err != nil {
			return nil, err
		}
		resp, err := peer.Add(ctx, &testv1.AddRequest{By: r.GetArg()}).Get(ctx)
		if err != nil {
			return nil, err
		}
		return &testv1.DoResponse{Value: resp.GetValue()}, nil
	}})
	ctx := context.Background()
	store := spawn(t, sys, testv1actor.ProbeOptions(), &testv1.ProbeInit{Start: 100})
	user := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	resp, err := user.Do(ctx, &testv1.DoRequest{Arg: 5, Ref: store.ActorRef()}).Get(ctx)
	if err != nil || resp.GetValue() != 105 {
		t.Fatalf("Do via passed handle = %v, %v; want 105", resp, err)
	}
	got, _ := store.Get(ctx, &testv1.GetRequest{}).Get(ctx)
	if got.GetValue() != 105 {
		t.Fatalf("store = %d, want 105", got.GetValue())
	}
}

func TestHandleAsConstructorArgument(t *testing.T) {
	t.Parallel()
	sys := start(t, &behaviour{do: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		peer, err := testv1actor.ProbeFromRef(ctx, actor.SystemFrom(ctx), p.init.GetPeer())
		if err != nil {
			return nil, err
		}
		resp, err := peer.Get(ctx, &testv1.GetRequest{}).Get(ctx)
		if err != nil {
			return nil, err
		}
		return &testv1.DoResponse{Value: resp.GetValue()}, nil
	}})
	ctx := context.Background()
	store := spawn(t, sys, testv1actor.ProbeOptions(), &testv1.ProbeInit{Start: 7})
	proc := spawn(t, sys, testv1actor.ProbeOptions(), &testv1.ProbeInit{Peer: store.ActorRef()})
	resp, err := proc.Do(ctx, &testv1.DoRequest{}).Get(ctx)
	if err != nil || resp.GetValue() != 7 {
		t.Fatalf("Do = %v, %v; want 7", resp, err)
	}
}

func TestCallsBeforeConstructorReturnsQueue(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	sys := start(t, &behaviour{ctor: func(context.Context, *testv1.ProbeInit) error {
		<-release
		return nil
	}})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	f := h.Add(ctx, &testv1.AddRequest{By: 3})
	if info := stateOf(t, sys, h.Ref().ID()); info.State != actor.PendingCreation {
		t.Fatalf("state while constructing = %v", info.State)
	}
	close(release)
	if resp, err := f.Get(ctx); err != nil || resp.GetValue() != 3 {
		t.Fatalf("queued call = %v, %v", resp, err)
	}
	if info := stateOf(t, sys, h.Ref().ID()); info.State != actor.Alive {
		t.Fatalf("state = %v, want ALIVE", info.State)
	}
}

func TestConstructorErrorKillsActor(t *testing.T) {
	t.Parallel()
	sys := start(t, &behaviour{ctor: func(context.Context, *testv1.ProbeInit) error {
		return errors.New("no database")
	}})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(3), nil)
	_, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
	var died *actor.ActorDiedError
	if !errors.As(err, &died) || died.Cause.Kind != actor.CauseConstructor || died.Cause.Message != "no database" {
		t.Fatalf("call = %v; want actor died with the constructor's error", err)
	}
	info := stateOf(t, sys, h.Ref().ID())
	if info.State != actor.Dead || info.Restarts != 0 {
		t.Fatalf("info = %+v; want DEAD without restarts", info)
	}
}

func TestListActorsColumns(t *testing.T) {
	t.Parallel()
	sys := start(t, nil, actor.WithNamespace("colors"))
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().Name("red").NumCPUs(1), nil)
	if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	info := stateOf(t, sys, h.Ref().ID())
	want := actor.ActorInfo{ID: h.Ref().ID(), Class: testv1actor.ProbeClassName, State: actor.Alive, Job: sys.Job(),
		Name: "red", Node: sys.NodeID(), Namespace: "colors"}
	if info.ID != want.ID || info.Class != want.Class || info.State != want.State || info.Job != want.Job ||
		info.Name != want.Name || info.Node != want.Node || info.Namespace != want.Namespace || info.PID == 0 {
		t.Fatalf("info = %+v; want %+v with a pid", info, want)
	}
	if info.Resources["CPU"] != 1 || info.Detached {
		t.Fatalf("detail = %+v", info)
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	g := newGate(4)
	sys := start(t, &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		if r.GetArg() == 1 {
			return &testv1.DoResponse{}, g.pass(ctx)
		}
		return &testv1.DoResponse{Value: r.GetArg()}, nil
	}})
	ctx := context.Background()
	slow := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	fast := spawn(t, sys, testv1actor.ProbeOptions(), nil)
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
	g.open()
	if ready, _, err := actor.Wait(ctx, futs, 3); err != nil || len(ready) != 3 {
		t.Fatalf("Wait(all) = %d, %v", len(ready), err)
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
}

func TestShutdownFailsLaterCalls(t *testing.T) {
	t.Parallel()
	var stopped atomic.Bool
	sys := start(t, &behaviour{stop: func(context.Context, *probe) error { stopped.Store(true); return nil }})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sys.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if !stopped.Load() {
		t.Fatal("Stop hook did not run at shutdown")
	}
	if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
		t.Fatalf("call after shutdown = %v; want ErrActorDied", err)
	}
	if _, err := testv1actor.ProbeOptions().Spawn(ctx, sys, nil); !errors.Is(err, actor.ErrSystemClosed) {
		t.Fatalf("Spawn after shutdown = %v; want ErrSystemClosed", err)
	}
}

func TestInvalidOptions(t *testing.T) {
	t.Parallel()
	sys := start(t, nil)
	ctx := context.Background()
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
		_, err := s.Spawn(ctx, sys, nil)
		if !errors.Is(err, actor.ErrInvalidOption) || connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("%s: Spawn = %v; want ErrInvalidOption", name, err)
		}
	}
	if list, _ := sys.ListActors(ctx); len(list) != 0 {
		t.Fatalf("invalid spawns left %d actors", len(list))
	}
}

// Futures that finish while Wait is setting up are still counted.
func TestWaitNeverMissesAFuture(t *testing.T) {
	t.Parallel()
	sys := start(t, nil)
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
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
}
