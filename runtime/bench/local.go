package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/internal/node"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// localSync is one call in flight to an actor of an embedded node:
// h.Add(ctx, req).Get(ctx) per op.
func localSync() Workload {
	return Workload{
		Name:     "LocalSync",
		Baseline: "BaselineChannelRoundTrip",
		Doc:      "one call at a time to an actor: h.Add(ctx, req).Get(ctx)",
		Setup: func() (*Run, error) {
			p, err := startProbes(testv1actor.ProbeOptions(), 1)
			if err != nil {
				return nil, err
			}
			return p.syncRun(false), nil
		},
	}
}

// syncRun makes one call at a time to p's first actor, checking each
// answer, and with timed set records each call's latency.
func (p *probes) syncRun(timed bool) *Run {
	ctx := context.Background()
	req := &testv1.AddRequest{By: 1}
	return oneAtATime(timed, 0, func() (int64, error) {
		resp, err := p.hs[0].Add(ctx, req).Get(ctx)
		return resp.GetValue(), err
	}, p.close)
}

// localAsync1000 is one caller and one actor with 1000 calls in flight:
// an op makes 1000 calls, then waits for all their futures.
func localAsync1000() Workload {
	return Workload{
		Name:     "LocalAsync1000",
		Baseline: "BaselineChannelPipelined1000",
		Doc:      "one caller, one actor: 1000 calls, then wait for all their futures",
		Setup: func() (*Run, error) {
			p, err := startProbes(testv1actor.ProbeOptions(), 1)
			if err != nil {
				return nil, err
			}
			return p.batchRun(), nil
		},
	}
}

// batchRun makes one caller submit batches of 1000 calls to the first
// actor and wait for all their futures.
func (p *probes) batchRun() *Run {
	ctx := context.Background()
	req := &testv1.AddRequest{By: 1}
	futs := make([]addFuture, batch)
	calls := 0
	return &Run{
		CallsPerOp: batch,
		Ops: func(_ Timer, n int) error {
			for range n {
				for i := range futs {
					futs[i] = p.hs[0].Add(ctx, req)
				}
				if err := waitAll(ctx, futs); err != nil {
					return err
				}
				calls += batch
			}
			return nil
		},
		Check: func() error { return p.checkSum(calls) },
		Close: p.close,
	}
}

// localConcurrent16 is 16 callers, each with one call in flight, on one
// actor spawned with MaxConcurrency(16). An op is 4096 calls, 256 from
// each caller.
func localConcurrent16() Workload {
	const callers, perCaller = 16, 256
	return Workload{
		Name:     "LocalConcurrent16",
		Baseline: "BaselineChannelConcurrent16",
		Doc:      "16 callers, one call in flight each, on one actor with MaxConcurrency(16)",
		Setup: func() (*Run, error) {
			p, err := startProbes(testv1actor.ProbeOptions().MaxConcurrency(callers), 1)
			if err != nil {
				return nil, err
			}
			ctx := context.Background()
			req := &testv1.AddRequest{By: 1}
			calls := 0
			return &Run{
				CallsPerOp: callers * perCaller,
				Ops: func(_ Timer, n int) error {
					for range n {
						err := parallel(callers, func(int) error {
							for range perCaller {
								if _, err := p.hs[0].Add(ctx, req).Get(ctx); err != nil {
									return err
								}
							}
							return nil
						})
						if err != nil {
							return err
						}
						calls += callers * perCaller
					}
					return nil
				},
				Check: func() error { return p.checkSum(calls) },
				Close: p.close,
			}, nil
		},
	}
}

// fanOut is the shape of Local1toN and LocalNtoN: each caller's op submits
// 5000 calls spread round-robin over the 8 actors (starting at a different
// actor per caller) and then waits for all of them.
const (
	fanOutActors = 8
	fanOutBatch  = 5000
)

// local1toN is one caller fanning out over 8 actors: an op submits 5000
// calls round-robin over them, then waits for all.
func local1toN() Workload {
	return fanOut("Local1toN", 1, "one caller: 5000 calls round-robin over 8 actors, then wait for all")
}

// localNtoN is 4 callers at once fanning out over the same 8 actors: in
// an op each submits 5000 calls round-robin over them, then waits for its
// own; 20,000 calls per op.
func localNtoN() Workload {
	return fanOut("LocalNtoN", 4, "4 callers at once, each 5000 calls round-robin over the same 8 actors")
}

// fanOut is the fan-out workload with the given number of concurrent
// callers. An op ends when every caller has all its results.
func fanOut(name string, callers int, doc string) Workload {
	return Workload{
		Name:     name,
		Baseline: "BaselineChannelPipelined1000",
		Doc:      doc,
		Setup: func() (*Run, error) {
			p, err := startProbes(testv1actor.ProbeOptions(), fanOutActors)
			if err != nil {
				return nil, err
			}
			return p.fanOutRun(callers), nil
		},
	}
}

// fanOutRun runs the fan-out shape on p's actors with the given number of
// concurrent callers: in an op each submits fanOutBatch calls round-robin
// over the actors, starting at a different one, and waits for its own.
func (p *probes) fanOutRun(callers int) *Run {
	ctx := context.Background()
	req := &testv1.AddRequest{By: 1}
	futs := make([][]addFuture, callers)
	for c := range futs {
		futs[c] = make([]addFuture, fanOutBatch)
	}
	return p.fanOutOps(callers, func(c int) error {
		for i := range futs[c] {
			futs[c][i] = p.hs[(c+i)%len(p.hs)].Add(ctx, req)
		}
		return waitAll(ctx, futs[c])
	})
}

// fanOutOps is the Run of a fan-out workload on p's actors: in an op each
// of callers callers makes its fanOutBatch calls with call(c), all callers
// at once when there are several; Check sums what the actors counted.
func (p *probes) fanOutOps(callers int, call func(c int) error) *Run {
	calls := 0
	return &Run{
		CallsPerOp: callers * fanOutBatch,
		Ops: func(_ Timer, n int) error {
			for range n {
				var err error
				if callers == 1 {
					err = call(0)
				} else {
					err = parallel(callers, call)
				}
				if err != nil {
					return err
				}
				calls += callers * fanOutBatch
			}
			return nil
		},
		Check: func() error { return p.checkSum(calls) },
		Close: p.close,
	}
}

// spawn measures ns per actor spawned and constructed: an op is one
// Spawn, and after every 1000 the workload waits, on the clock, until
// their constructors have returned. No call is made. The actors stay
// alive; every 20,000 the system is replaced, off the clock, so memory
// stays bounded. Constructors still running when the ops end (fewer than
// 1000) are waited for by Close.
func spawn() Workload {
	const perSystem = 20_000
	return Workload{
		Name:     "Spawn",
		Baseline: "BaselineGoroutineSpawn",
		Doc:      "spawn an actor and wait for its constructor, 1000 at a time",
		Setup: func() (*Run, error) {
			ctx := context.Background()
			var constructed sync.WaitGroup
			sys, err := newSystem(constructed.Done)
			if err != nil {
				return nil, err
			}
			spawner := testv1actor.ProbeOptions()
			spawned := 0
			return &Run{
				Ops: func(t Timer, n int) error {
					for range n {
						constructed.Add(1)
						if _, err := spawner.Spawn(ctx, sys, nil); err != nil {
							constructed.Done()
							return fmt.Errorf("spawn: %w", err)
						}
						spawned++
						if spawned%batch != 0 {
							continue
						}
						constructed.Wait()
						if spawned%perSystem == 0 {
							t.StopTimer()
							err := stopSystem(sys)
							if err == nil {
								sys, err = newSystem(constructed.Done)
							}
							if err != nil {
								return err
							}
							t.StartTimer()
						}
					}
					return nil
				},
				Close: func() error {
					constructed.Wait()
					return stopSystem(sys)
				},
			}, nil
		},
	}
}

// idleActorBytes measures what an idle actor costs: an op spawns 100,000
// actors in a fresh system, calls each once so that each is constructed
// and has run a method, drops every handle and future, and then measures
// the live heap (HeapAlloc after runtime.GC) and the goroutines the
// system holds beyond those it had before the actors. It reports
// bytes/actor and goroutines/actor and fails if idle actors hold
// goroutines. ns/op is the time to build and measure one population.
func idleActorBytes() Workload {
	const actors = 100_000
	return Workload{
		Name:     "IdleActorBytes",
		Baseline: "BaselineIdleGoroutineBytes",
		Doc:      "100,000 actors, each called once and then idle, in bytes per actor",
		Setup: func() (*Run, error) {
			var bytesPerActor, goroutinesPerActor float64
			return &Run{
				Ops: func(_ Timer, n int) error {
					for range n {
						sys, err := newSystem(nil)
						if err != nil {
							return err
						}
						runtime.GC()
						var before, after runtime.MemStats
						runtime.ReadMemStats(&before)
						goroutines := runtime.NumGoroutine()

						if err := populate(sys, actors); err != nil {
							return errors.Join(err, stopSystem(sys))
						}
						// Workers park in the node's pool, or end, just after
						// the calls they ran are answered: the pool is the
						// node's, bounded, and no actor's.
						pool := node.MaxParkedWorkers()
						extra := max(0, waitGoroutines(goroutines+pool, 10*time.Second)-goroutines-pool)
						runtime.GC()
						runtime.ReadMemStats(&after)
						bytesPerActor = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / actors
						goroutinesPerActor = float64(extra) / actors
						// Stopping also keeps sys alive through the measurement.
						if err := stopSystem(sys); err != nil {
							return err
						}
						if extra > 0 {
							return fmt.Errorf("%d idle actors hold %d goroutines, want 0", actors, extra)
						}
					}
					return nil
				},
				Metrics: func() []Metric {
					return []Metric{{bytesPerActor, "bytes/actor"}, {goroutinesPerActor, "goroutines/actor"}}
				},
			}, nil
		},
	}
}

// populate spawns n actors in sys and makes one call on each, 1000 at a
// time so that few constructors run at once. The handles and futures die
// with it: the system alone holds the actors.
func populate(sys *actor.System, n int) error {
	ctx := context.Background()
	spawner := testv1actor.ProbeOptions()
	req := &testv1.AddRequest{By: 1}
	futs := make([]addFuture, 0, batch)
	for n > 0 {
		futs = futs[:min(n, batch)]
		for i := range futs {
			h, err := spawner.Spawn(ctx, sys, nil)
			if err != nil {
				return fmt.Errorf("spawn: %w", err)
			}
			futs[i] = h.Add(ctx, req)
		}
		for _, f := range futs {
			resp, err := f.Get(ctx)
			if err != nil {
				return err
			}
			if resp.GetValue() != 1 {
				return fmt.Errorf("first call answered %d, want 1", resp.GetValue())
			}
		}
		n -= len(futs)
	}
	return nil
}

// waitGoroutines waits until at most want goroutines run or timeout
// passes, and returns how many run.
func waitGoroutines(want int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(time.Millisecond)
	}
}

// parallel runs fn(0) … fn(n-1) on n goroutines and returns their errors
// joined.
func parallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
