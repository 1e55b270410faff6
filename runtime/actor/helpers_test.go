package actor_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// hook is a test's behaviour for one of the Probe's programmable methods.
type hook func(ctx context.Context, p *probe, req *testv1.DoRequest) (*testv1.DoResponse, error)

// behaviour is what a test makes of the Probe class.
type behaviour struct {
	ctor    func(ctx context.Context, init *testv1.ProbeInit) error
	do      hook
	read    hook
	io      hook
	retried hook
	stop    func(ctx context.Context, p *probe) error
}

// probe is the Probe actor the tests drive. Its fields are guarded by the
// runtime's serial execution unless a test says otherwise.
type probe struct {
	b *behaviour
	// What a named behaviour keeps in the instance, and the constructor's
	// System, for hooks whose ctx has none.
	local   local
	sys     *actor.System
	coordMu sync.Mutex
	coordSt *coordState

	n     int64
	label string
	init  *testv1.ProbeInit
}

func (p *probe) Add(_ context.Context, r *testv1.AddRequest) (*testv1.AddResponse, error) {
	p.n += r.GetBy()
	return &testv1.AddResponse{Value: p.n}, nil
}

func (p *probe) Get(context.Context, *testv1.GetRequest) (*testv1.GetResponse, error) {
	return &testv1.GetResponse{Value: p.n, Label: p.label}, nil
}

func run(h hook, ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	if h == nil {
		return &testv1.DoResponse{}, nil
	}
	return h(ctx, p, r)
}

func (p *probe) Do(ctx context.Context, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	return run(p.b.do, ctx, p, r)
}

func (p *probe) Read(ctx context.Context, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	return run(p.b.read, ctx, p, r)
}

func (p *probe) Io(ctx context.Context, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	return run(p.b.io, ctx, p, r)
}

func (p *probe) Retried(ctx context.Context, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	return run(p.b.retried, ctx, p, r)
}

// stoppingProbe adds the Stop hook.
type stoppingProbe struct{ *probe }

func (p stoppingProbe) Stop(ctx context.Context) error { return p.b.stop(ctx, p.probe) }

type other struct{}

func (other) Ping(context.Context, *testv1.DoRequest) (*testv1.DoResponse, error) {
	return &testv1.DoResponse{Text: "pong"}, nil
}

// testClasses is the classes every test node hosts: Probe, whose behaviour
// is the one its init names or else b, and Other.
func testClasses(b *behaviour) []actor.Registration {
	if b == nil {
		b = &behaviour{}
	}
	factory := func(ctx context.Context, init *testv1.ProbeInit) (testv1actor.ProbeActor, error) {
		b := b
		if name := init.GetBehaviour(); name != "" {
			if b = behaviours[name]; b == nil {
				return nil, fmt.Errorf("no behaviour %q", name)
			}
		}
		if b.ctor != nil {
			if err := b.ctor(ctx, init); err != nil {
				return nil, err
			}
		}
		p := &probe{b: b, n: init.GetStart(), label: init.GetLabel(), init: init, sys: actor.SystemFrom(ctx)}
		if b.stop != nil {
			return stoppingProbe{p}, nil
		}
		return p, nil
	}
	return []actor.Registration{
		testv1actor.RegisterProbe(factory),
		testv1actor.RegisterOther(func(context.Context, *emptypb.Empty) (testv1actor.OtherActor, error) { return other{}, nil }),
	}
}

// start runs an embedded system hosting Probe with behaviour b, and Other.
func start(t testing.TB, b *behaviour, opts ...actor.Option) *actor.System {
	t.Helper()
	ctx := context.Background()
	opts = append([]actor.Option{actor.WithLogger(slog.New(slog.DiscardHandler)), actor.WithClasses(testClasses(b)...)}, opts...)
	sys, err := actor.Start(ctx, opts...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return sys
}

func spawn(t testing.TB, sys *actor.System, s *actor.Spawner[*testv1.ProbeInit, *testv1actor.ProbeHandle], init *testv1.ProbeInit) *testv1actor.ProbeHandle {
	t.Helper()
	h, err := s.Spawn(context.Background(), sys, init)
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	return h
}

// eventually waits for cond with a deadline, polling: the condition is
// observed state, not a sleep standing in for synchronisation.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func stateOf(t testing.TB, sys *actor.System, id string) actor.ActorInfo {
	t.Helper()
	list, err := sys.ListActors(context.Background(), actor.Filter("id", id))
	if err != nil || len(list) != 1 {
		t.Fatalf("ListActors(id=%s) = %v, %v", id, list, err)
	}
	return list[0]
}

// gate lets a test hold methods inside the actor and release them.
type gate struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate(buffer int) *gate {
	return &gate{entered: make(chan struct{}, buffer), release: make(chan struct{})}
}

func (g *gate) pass(ctx context.Context) error {
	g.entered <- struct{}{}
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

func (g *gate) wait(t testing.TB, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for range n {
		select {
		case <-g.entered:
		case <-timeout:
			t.Fatalf("timed out waiting for %d methods to enter", n)
		}
	}
}
