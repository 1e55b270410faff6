package actor_test

import (
	"context"
	"errors"
	"testing"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// A Spawner reused after a setter spawns with the option set, and one
// reused across systems spawns in each system's namespace: the spec its
// actors share is made anew when either changes.
func TestSpawnerReuse(t *testing.T) {
	ctx := context.Background()
	one := start(t, nil, actor.WithNamespace("one"))
	two := start(t, nil, actor.WithNamespace("two"))
	s := testv1actor.ProbeOptions()
	for _, sys := range []*actor.System{one, two, one} {
		if h := spawn(t, sys, s, nil); h.Ref().Namespace() != sys.Namespace() {
			t.Errorf("spawned in namespace %q, want %q", h.Ref().Namespace(), sys.Namespace())
		}
	}
	a := spawn(t, one, s.Name("a"), nil)
	b := spawn(t, one, s.Name("b"), nil)
	if a.Ref().Name() != "a" || b.Ref().Name() != "b" {
		t.Errorf("names %q, %q; want a, b", a.Ref().Name(), b.Ref().Name())
	}
	if _, err := s.Name("b").Spawn(ctx, one, nil); !errors.Is(err, actor.ErrNameTaken) {
		t.Errorf("second spawn of b: %v, want ErrNameTaken", err)
	}
	if _, err := s.Name("c").MaxConcurrency(0).Spawn(ctx, one, nil); !errors.Is(err, actor.ErrInvalidOption) {
		t.Errorf("MaxConcurrency(0) after spawns: %v, want ErrInvalidOption", err)
	}
	if _, err := s.MaxConcurrency(1).Spawn(ctx, one, nil); err != nil {
		t.Errorf("MaxConcurrency(1) after a refused spawn: %v", err)
	}
}

// Actors of one class spawned with its defaults and a nil or empty init
// each get an init of their own, made anew by each construction.
func TestSpawnEmptyInit(t *testing.T) {
	ctx := context.Background()
	inits := make(chan *testv1.ProbeInit, 4)
	sys := start(t, &behaviour{ctor: func(_ context.Context, init *testv1.ProbeInit) error {
		inits <- init
		return nil
	}})
	var nilInit *testv1.ProbeInit
	for _, init := range []*testv1.ProbeInit{nil, nilInit} {
		h := spawn(t, sys, testv1actor.ProbeOptions(), init)
		if _, err := h.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	a, b := <-inits, <-inits
	if a == nil || b == nil || a == b {
		t.Errorf("constructors got inits %p and %p, want two distinct empty ones", a, b)
	}
}
