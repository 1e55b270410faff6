package bench

import (
	"os"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if code, ok := ServeFromEnv(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// benchmark runs the workload called name as a Go benchmark: Setup off the
// clock, one operation per b.Loop iteration, then the metrics Report gives
// (ns/op is the benchmark's own).
func benchmark(b *testing.B, name string) {
	w, err := Lookup(name)
	if err != nil {
		b.Fatal(err)
	}
	run, err := w.Setup()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := run.close(); err != nil {
			b.Error(err)
		}
	})
	ops := 0
	for b.Loop() {
		if err := run.Ops(b, 1); err != nil {
			b.Fatal(err)
		}
		ops++
	}
	for _, m := range run.Report(ops, b.Elapsed()) {
		if m.Unit != "ns/op" {
			b.ReportMetric(m.Value, m.Unit)
		}
	}
	if run.Check != nil {
		if err := run.Check(); err != nil {
			b.Fatal(err)
		}
	}
}

// Baselines: the same work without Troupe.

func BenchmarkBaselineChannelRoundTrip(b *testing.B) { benchmark(b, "BaselineChannelRoundTrip") }
func BenchmarkBaselineChannelPipelined1000(b *testing.B) {
	benchmark(b, "BaselineChannelPipelined1000")
}
func BenchmarkBaselineChannelConcurrent16(b *testing.B) { benchmark(b, "BaselineChannelConcurrent16") }
func BenchmarkBaselineTCPRoundTrip(b *testing.B)        { benchmark(b, "BaselineTCPRoundTrip") }
func BenchmarkBaselineTCPPipelined1000(b *testing.B)    { benchmark(b, "BaselineTCPPipelined1000") }
func BenchmarkBaselineConnectUnary(b *testing.B)        { benchmark(b, "BaselineConnectUnary") }
func BenchmarkBaselineGoroutineSpawn(b *testing.B)      { benchmark(b, "BaselineGoroutineSpawn") }
func BenchmarkBaselineIdleGoroutineBytes(b *testing.B)  { benchmark(b, "BaselineIdleGoroutineBytes") }

// Workloads on an embedded node.

func BenchmarkLocalSync(b *testing.B)          { benchmark(b, "LocalSync") }
func BenchmarkLocalAsync1000(b *testing.B)     { benchmark(b, "LocalAsync1000") }
func BenchmarkLocalConcurrent16(b *testing.B)  { benchmark(b, "LocalConcurrent16") }
func BenchmarkLocal1toN(b *testing.B)          { benchmark(b, "Local1toN") }
func BenchmarkLocalNtoN(b *testing.B)          { benchmark(b, "LocalNtoN") }
func BenchmarkLocal1toNFromActor(b *testing.B) { benchmark(b, "Local1toNFromActor") }
func BenchmarkLocalNtoNFromActor(b *testing.B) { benchmark(b, "LocalNtoNFromActor") }
func BenchmarkSpawn(b *testing.B)              { benchmark(b, "Spawn") }
func BenchmarkIdleActorBytes(b *testing.B)     { benchmark(b, "IdleActorBytes") }

// Workloads on a node in a second process, called from a driver.

func BenchmarkRemoteSync(b *testing.B)      { benchmark(b, "RemoteSync") }
func BenchmarkRemoteAsync1000(b *testing.B) { benchmark(b, "RemoteAsync1000") }
func BenchmarkRemoteNtoN(b *testing.B)      { benchmark(b, "RemoteNtoN") }

// LocalSync with tracing off, a no-op provider and an SDK provider.

func BenchmarkLocalSyncTracingOff(b *testing.B)     { benchmark(b, "LocalSyncTracingOff") }
func BenchmarkLocalSyncTracingNoop(b *testing.B)    { benchmark(b, "LocalSyncTracingNoop") }
func BenchmarkLocalSyncTracingSampled(b *testing.B) { benchmark(b, "LocalSyncTracingSampled") }

// TestBenchmarksCoverWorkloads checks that every workload has a Go
// benchmark of its name and that every workload's baseline exists.
func TestBenchmarksCoverWorkloads(t *testing.T) {
	benchmarks := map[string]bool{}
	for _, name := range []string{
		"BaselineChannelRoundTrip", "BaselineChannelPipelined1000", "BaselineChannelConcurrent16",
		"BaselineTCPRoundTrip", "BaselineTCPPipelined1000", "BaselineConnectUnary",
		"BaselineGoroutineSpawn", "BaselineIdleGoroutineBytes",
		"LocalSync", "LocalAsync1000", "LocalConcurrent16", "Local1toN", "LocalNtoN",
		"Local1toNFromActor", "LocalNtoNFromActor", "Spawn", "IdleActorBytes",
		"RemoteSync", "RemoteAsync1000", "RemoteNtoN",
		"LocalSyncTracingOff", "LocalSyncTracingNoop", "LocalSyncTracingSampled",
	} {
		benchmarks[name] = true
	}
	seen := map[string]bool{}
	for _, w := range Workloads() {
		if seen[w.Name] {
			t.Errorf("two workloads are called %s", w.Name)
		}
		seen[w.Name] = true
		if !benchmarks[w.Name] {
			t.Errorf("workload %s has no Benchmark%s", w.Name, w.Name)
		}
		if w.Baseline != "" {
			if _, err := Lookup(w.Baseline); err != nil {
				t.Errorf("workload %s: baseline: %v", w.Name, err)
			}
		}
	}
	for name := range benchmarks {
		if !seen[name] {
			t.Errorf("Benchmark%s has no workload", name)
		}
	}
}

func TestMeasure(t *testing.T) {
	w, err := Lookup("LocalSync")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Measure(w, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops < 2 || res.Elapsed < 20*time.Millisecond {
		t.Errorf("Measure ran %d ops in %v, want more than one op and at least 20ms", res.Ops, res.Elapsed)
	}
	calls, ok := res.Metric("calls/s")
	if !ok || calls <= 0 {
		t.Errorf("calls/s = %v (present %v), want > 0", calls, ok)
	}
	nsPerOp, _ := res.Metric("ns/op")
	if want := float64(res.Elapsed.Nanoseconds()) / float64(res.Ops); nsPerOp != want {
		t.Errorf("ns/op = %v, want %v", nsPerOp, want)
	}
}

func TestNextRound(t *testing.T) {
	for _, tc := range []struct {
		last, ops  int
		elapsed, d time.Duration
		want       int
	}{
		{1, 1, time.Microsecond, time.Second, 100},                    // capped at 100× the last round
		{100, 101, 101 * time.Microsecond, time.Second, 10_000},       // capped again
		{10_000, 10_101, 500 * time.Millisecond, time.Second, 12_121}, // half left, a fifth to spare
		{1, 1, 2 * time.Second, time.Second, 1},                       // never fewer than one
	} {
		if got := nextRound(tc.last, tc.ops, tc.elapsed, tc.d); got != tc.want {
			t.Errorf("nextRound(%d, %d, %v, %v) = %d, want %d", tc.last, tc.ops, tc.elapsed, tc.d, got, tc.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(i))
	}
	for _, tc := range []struct {
		p    int
		want time.Duration
	}{{50, 100}, {99, 198}, {100, 200}, {1, 2}} {
		if got := Percentile(d, tc.p); got != tc.want {
			t.Errorf("Percentile(1..200, %d) = %d, want %d", tc.p, got, tc.want)
		}
	}
	if got := Percentile([]time.Duration{7}, 50); got != 7 {
		t.Errorf("Percentile([7], 50) = %d, want 7", got)
	}
}
