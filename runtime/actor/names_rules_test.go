package actor_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// "count-ctor": the constructor counts in counter "ctors".
var _ = behave("count-ctor", &behaviour{ctor: func(ctx context.Context, init *testv1.ProbeInit) error {
	_, err := count(ctx, init, "ctors", 1)
	return err
}})

func TestGetIfExistsRace(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		const racers = 64
		coord := m.coord(t).ActorRef()
		// On a cluster the racers are four drivers, as in the rule.
		systems := []*actor.System{m.sys}
		if m.cluster {
			for range 3 {
				systems = append(systems, shared.get(t).connectNS(t, m.sys.Namespace()))
			}
		}
		ids := make([]string, racers)
		labels := make([]string, racers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				<-start
				h, err := testv1actor.ProbeOptions().Name("shared").GetIfExists(true).Spawn(ctx, systems[i%len(systems)],
					&testv1.ProbeInit{Label: fmt.Sprintf("creator-%d", i), Behaviour: "count-ctor", Coord: coord})
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
		if n := m.counter(t, "ctors"); n != 1 {
			t.Fatalf("constructor ran %d times, want 1", n)
		}
		list, _ := m.sys.ListActors(ctx, actor.Filter("name", "shared"), actor.Filter("namespace", m.sys.Namespace()))
		if len(list) != 1 {
			t.Fatalf("ListActors(name=shared) has %d actors, want 1", len(list))
		}
	})
}

func TestNameTakenWithoutGetIfExists(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		m.spawn(t, testv1actor.ProbeOptions().Name("x"), "", nil)
		_, err := testv1actor.ProbeOptions().Name("x").Spawn(ctx, m.sys, nil)
		if !errors.Is(err, actor.ErrNameTaken) || connect.CodeOf(err) != connect.CodeAlreadyExists {
			t.Fatalf("second Spawn = %v; want ErrNameTaken, already_exists", err)
		}
		// Another namespace is another name.
		if _, err := testv1actor.ProbeOptions().Name("x").Namespace(m.sys.Namespace()+"-other").Spawn(ctx, m.sys, nil); err != nil {
			t.Fatalf("Spawn in another namespace: %v", err)
		}
	})
}

func TestKilledNameIsFreeAndOldHandlesFail(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		first := m.spawn(t, testv1actor.ProbeOptions().Name("svc"), "", &testv1.ProbeInit{Label: "first"})
		// A lookup before the kill, so any cache has the first actor.
		if _, err := testv1actor.GetProbe(ctx, m.sys, "svc"); err != nil {
			t.Fatal(err)
		}
		if err := m.sys.Kill(ctx, first, actor.NoRestart()); err != nil {
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
		second := m.spawn(t, testv1actor.ProbeOptions().Name("svc"), "", &testv1.ProbeInit{Label: "second"})
		if second.Ref().ID() == first.Ref().ID() {
			t.Fatal("new actor reused the dead actor's id")
		}
		found, err := testv1actor.GetProbe(ctx, m.sys, "svc")
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
	})
}

// A name is found from any driver of the namespace, and only from it.
func TestNameFoundFromAnotherDriver(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		m.spawn(t, testv1actor.ProbeOptions().Name("shared-name"), "", &testv1.ProbeInit{Label: "mine"})
		same, other := m.sys, start(t, nil, actor.WithNamespace("elsewhere"))
		if m.cluster {
			same = shared.get(t).connectNS(t, m.sys.Namespace())
			other = shared.get(t).connect(t)
		}
		h, err := testv1actor.GetProbe(ctx, same, "shared-name")
		if err != nil {
			t.Fatalf("lookup from another driver: %v", err)
		}
		if r, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil || r.GetLabel() != "mine" {
			t.Fatalf("Get = %v, %v", r, err)
		}
		if _, err := testv1actor.GetProbe(ctx, other, "shared-name"); !errors.Is(err, actor.ErrActorNotFound) {
			t.Fatalf("lookup from another namespace = %v; want ErrActorNotFound", err)
		}
	})
}

func TestLookupErrors(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		sys := m.sys
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
		o, err := testv1actor.GetOther(ctx, sys, "o")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := testv1actor.ProbeFromRef(ctx, sys, o.ActorRef()); !errors.Is(err, actor.ErrWrongClass) {
			t.Fatalf("ProbeFromRef(other) = %v; want ErrWrongClass", err)
		}
		if _, err := testv1actor.ProbeFromRef(ctx, sys, nil); !errors.Is(err, actor.ErrActorNotFound) {
			t.Fatalf("ProbeFromRef(ctx, nil) = %v; want ErrActorNotFound", err)
		}
	})
}
