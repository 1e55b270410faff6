package bench

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// probe is the Probe actor the workloads call. Add does what the
// baselines' servers do: add to a sum and answer with it. The sum is
// atomic because LocalConcurrent16 runs Add on 16 goroutines at once.
type probe struct{ sum atomic.Int64 }

func (p *probe) Add(_ context.Context, r *testv1.AddRequest) (*testv1.AddResponse, error) {
	return &testv1.AddResponse{Value: p.sum.Add(r.GetBy())}, nil
}

func (p *probe) Get(context.Context, *testv1.GetRequest) (*testv1.GetResponse, error) {
	return &testv1.GetResponse{Value: p.sum.Load()}, nil
}

func (p *probe) Do(context.Context, *testv1.DoRequest) (*testv1.DoResponse, error) {
	return &testv1.DoResponse{}, nil
}

func (p *probe) Read(context.Context, *testv1.DoRequest) (*testv1.DoResponse, error) {
	return &testv1.DoResponse{}, nil
}

func (p *probe) Io(context.Context, *testv1.DoRequest) (*testv1.DoResponse, error) {
	return &testv1.DoResponse{}, nil
}

func (p *probe) Retried(context.Context, *testv1.DoRequest) (*testv1.DoResponse, error) {
	return &testv1.DoResponse{}, nil
}

type (
	probeHandle  = *testv1actor.ProbeHandle
	probeSpawner = *actor.Spawner[*testv1.ProbeInit, *testv1actor.ProbeHandle]
	addFuture    = *actor.Future[*testv1.AddResponse]
)

// newSystem starts an embedded system hosting Probe, with opts added.
// constructed, if not nil, is called by every Probe constructor before it
// returns. The caller shuts the system down, with stopSystem.
func newSystem(constructed func(), opts ...actor.Option) (*actor.System, error) {
	factory := func(context.Context, *testv1.ProbeInit) (testv1actor.ProbeActor, error) {
		if constructed != nil {
			constructed()
		}
		return new(probe), nil
	}
	opts = append([]actor.Option{actor.WithClasses(testv1actor.RegisterProbe(factory))}, opts...)
	sys, err := actor.Start(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("actor.Start: %w", err)
	}
	return sys, nil
}

// stopSystem shuts sys down, waiting up to a minute.
func stopSystem(sys *actor.System) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sys.Shutdown(ctx); err != nil {
		return fmt.Errorf("Shutdown: %w", err)
	}
	return nil
}

// probes is a system and Probe actors in it, each constructed and having
// answered a call: an embedded system, or a driver whose actors live on
// a node in a second process.
type probes struct {
	sys  *actor.System
	hs   []probeHandle
	stop func() error // if not nil, ends what the system depends on, after it
}

// startProbes starts an embedded system with opts and spawns n Probe
// actors with spawner.
func startProbes(spawner probeSpawner, n int, opts ...actor.Option) (*probes, error) {
	sys, err := newSystem(nil, opts...)
	if err != nil {
		return nil, err
	}
	p := &probes{sys: sys}
	if err := p.spawn(context.Background(), spawner, n); err != nil {
		return nil, errors.Join(err, p.close())
	}
	return p, nil
}

// spawn spawns n Probe actors with spawner and makes one call on each.
func (p *probes) spawn(ctx context.Context, spawner probeSpawner, n int) error {
	p.hs = make([]probeHandle, n)
	for i := range p.hs {
		h, err := spawner.Spawn(ctx, p.sys, nil)
		if err != nil {
			return fmt.Errorf("spawn: %w", err)
		}
		p.hs[i] = h
	}
	for _, h := range p.hs {
		if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
			return fmt.Errorf("first call: %w", err)
		}
	}
	return nil
}

// checkSum fails unless the actors' sums add up to want: every call the
// workload counted reached an actor once.
func (p *probes) checkSum(want int) error {
	ctx := context.Background()
	var got int64
	for _, h := range p.hs {
		resp, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
		if err != nil {
			return fmt.Errorf("Get: %w", err)
		}
		got += resp.GetValue()
	}
	if got != int64(want) {
		return fmt.Errorf("the actors added %d, want %d", got, want)
	}
	return nil
}

// close shuts the system down, then runs stop.
func (p *probes) close() error {
	var err error
	if p.sys != nil {
		err = stopSystem(p.sys)
	}
	if p.stop != nil {
		err = errors.Join(err, p.stop())
	}
	return err
}

// waitAll waits for every future of a batch, in the order they were
// made, as ray.get on a list does, and checks that each call succeeded.
func waitAll(ctx context.Context, futs []addFuture) error {
	for _, f := range futs {
		if _, err := f.Get(ctx); err != nil {
			return err
		}
	}
	return nil
}
