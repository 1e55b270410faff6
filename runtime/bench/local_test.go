package bench

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// BenchmarkLocalSync is one call in flight to an actor of an embedded
// node: h.Add(ctx, req).Get(ctx) per op. Baseline: ChannelRoundTrip.
func BenchmarkLocalSync(b *testing.B) {
	sys := startSystem(b)
	hs := spawnReady(b, sys, testv1actor.ProbeOptions(), 1)
	ctx := context.Background()
	req := &testv1.AddRequest{By: 1}
	calls := 0
	for b.Loop() {
		resp, err := hs[0].Add(ctx, req).Get(ctx)
		if err != nil {
			b.Fatal(err)
		}
		calls++
		if resp.GetValue() != int64(calls) {
			b.Fatalf("answer %d, want %d", resp.GetValue(), calls)
		}
	}
	reportCalls(b, calls)
}

// BenchmarkLocalAsync1000 is one caller and one actor with 1000 calls in
// flight: an op makes 1000 calls, then waits for all their futures.
// Baseline: ChannelPipelined1000.
func BenchmarkLocalAsync1000(b *testing.B) {
	sys := startSystem(b)
	hs := spawnReady(b, sys, testv1actor.ProbeOptions(), 1)
	ctx := context.Background()
	req := &testv1.AddRequest{By: 1}
	futs := make([]addFuture, batch)
	calls := 0
	for b.Loop() {
		for i := range futs {
			futs[i] = hs[0].Add(ctx, req)
		}
		if err := waitAll(ctx, futs); err != nil {
			b.Fatal(err)
		}
		calls += batch
	}
	reportCalls(b, calls)
	checkSum(b, hs, calls)
}

// BenchmarkLocalConcurrent16 is 16 callers, each with one call in flight,
// on one actor spawned with MaxConcurrency(16). An op is 4096 calls, 256
// from each caller. Baseline: ChannelConcurrent16.
func BenchmarkLocalConcurrent16(b *testing.B) {
	const callers, perCaller = 16, 256
	sys := startSystem(b)
	hs := spawnReady(b, sys, testv1actor.ProbeOptions().MaxConcurrency(callers), 1)
	ctx := context.Background()
	req := &testv1.AddRequest{By: 1}
	calls := 0
	for b.Loop() {
		err := parallel(callers, func(int) error {
			for range perCaller {
				if _, err := hs[0].Add(ctx, req).Get(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		calls += callers * perCaller
	}
	reportCalls(b, calls)
	checkSum(b, hs, calls)
}

// fanOut is the shape of Local1toN and LocalNtoN: each caller's op submits
// 5000 calls spread round-robin over the 8 actors (starting at a different
// actor per caller) and then waits for all of them.
const (
	fanOutActors = 8
	fanOutBatch  = 5000
)

// benchmarkFanOut runs the fan-out workload with the given number of
// concurrent callers. An op ends when every caller has all its results.
func benchmarkFanOut(b *testing.B, callers int) {
	sys := startSystem(b)
	hs := spawnReady(b, sys, testv1actor.ProbeOptions(), fanOutActors)
	ctx := context.Background()
	req := &testv1.AddRequest{By: 1}
	futs := make([][]addFuture, callers)
	for c := range futs {
		futs[c] = make([]addFuture, fanOutBatch)
	}
	call := func(c int) error {
		for i := range futs[c] {
			futs[c][i] = hs[(c+i)%len(hs)].Add(ctx, req)
		}
		return waitAll(ctx, futs[c])
	}
	calls := 0
	for b.Loop() {
		var err error
		if callers == 1 {
			err = call(0)
		} else {
			err = parallel(callers, call)
		}
		if err != nil {
			b.Fatal(err)
		}
		calls += callers * fanOutBatch
	}
	reportCalls(b, calls)
	checkSum(b, hs, calls)
}

// BenchmarkLocal1toN is one caller fanning out over 8 actors: an op
// submits 5000 calls round-robin over them, then waits for all.
// Baseline: ChannelPipelined1000.
func BenchmarkLocal1toN(b *testing.B) { benchmarkFanOut(b, 1) }

// BenchmarkLocalNtoN is 4 callers at once fanning out over the same 8
// actors: in an op each submits 5000 calls round-robin over them, then
// waits for its own; 20,000 calls per op. Baseline: ChannelPipelined1000.
func BenchmarkLocalNtoN(b *testing.B) { benchmarkFanOut(b, 4) }

// BenchmarkSpawn measures ns per actor spawned and constructed: an op is
// one Spawn, and after every 1000 the benchmark waits, inside the timer,
// until their constructors have returned. No call is made. The actors
// stay alive; every 20,000 the system is replaced, outside the timer, so
// memory stays bounded. Constructors still running when the loop ends
// (fewer than 1000) are waited for outside the timer.
func BenchmarkSpawn(b *testing.B) {
	const perSystem = 20_000
	ctx := context.Background()
	var constructed sync.WaitGroup
	sys := newSystem(b, constructed.Done)
	b.Cleanup(func() { stopSystem(b, sys) })
	spawner := testv1actor.ProbeOptions()
	n := 0
	for b.Loop() {
		constructed.Add(1)
		if _, err := spawner.Spawn(ctx, sys, nil); err != nil {
			b.Fatal(err)
		}
		n++
		if n%batch != 0 {
			continue
		}
		constructed.Wait()
		if n%perSystem == 0 {
			b.StopTimer()
			stopSystem(b, sys)
			sys = newSystem(b, constructed.Done)
			b.StartTimer()
		}
	}
	constructed.Wait()
}

// BenchmarkIdleActorBytes measures what an idle actor costs: an op spawns
// 100,000 actors in a fresh system, calls each once so that each is
// constructed and has run a method, drops every handle and future, and
// then measures the live heap (HeapAlloc after runtime.GC) and the
// goroutines the system holds beyond those it had before the actors. It
// reports bytes/actor and goroutines/actor and fails if idle actors hold
// goroutines. ns/op is the time to build and measure one population.
func BenchmarkIdleActorBytes(b *testing.B) {
	const actors = 100_000
	var bytesPerActor, goroutinesPerActor float64
	for b.Loop() {
		sys := newSystem(b, nil)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		goroutines := runtime.NumGoroutine()

		populate(b, sys, actors)
		// Workers end just after the calls they ran are answered.
		extra := waitGoroutines(goroutines, 10*time.Second) - goroutines
		runtime.GC()
		runtime.ReadMemStats(&after)
		bytesPerActor = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / actors
		goroutinesPerActor = float64(extra) / actors
		if extra > 0 {
			b.Fatalf("%d idle actors hold %d goroutines, want 0", actors, extra)
		}
		stopSystem(b, sys) // also keeps sys alive through the measurement
	}
	b.ReportMetric(bytesPerActor, "bytes/actor")
	b.ReportMetric(goroutinesPerActor, "goroutines/actor")
}

// populate spawns n actors in sys and makes one call on each, 1000 at a
// time so that few constructors run at once. The handles and futures die
// with it: the system alone holds the actors.
func populate(b *testing.B, sys *actor.System, n int) {
	ctx := context.Background()
	spawner := testv1actor.ProbeOptions()
	req := &testv1.AddRequest{By: 1}
	futs := make([]addFuture, 0, batch)
	for n > 0 {
		futs = futs[:min(n, batch)]
		for i := range futs {
			h, err := spawner.Spawn(ctx, sys, nil)
			if err != nil {
				b.Fatal(err)
			}
			futs[i] = h.Add(ctx, req)
		}
		for _, f := range futs {
			resp, err := f.Get(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if resp.GetValue() != 1 {
				b.Fatalf("first call answered %d, want 1", resp.GetValue())
			}
		}
		n -= len(futs)
	}
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
