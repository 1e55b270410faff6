package bench

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// A Workload is one benchmark of the suite, in a form that both a Go
// benchmark (BenchmarkLocalSync) and a program (troupe microbenchmark)
// can run: Setup prepares it outside the clock, the Run it returns
// executes operations on the clock, and Report turns the count and the
// time of those operations into the metrics both print.
type Workload struct {
	// Name is the Go benchmark's name without "Benchmark": "LocalSync".
	Name string
	// Baseline names the workload this one is read against, or is empty
	// for a baseline.
	Baseline string
	// Doc says what an operation is, in one sentence.
	Doc string
	// Setup prepares the workload: it starts systems, spawns actors or
	// starts a server process. The caller closes the Run it returns.
	Setup func() (*Run, error)
}

// A Timer is the clock operations are measured on: *testing.B, or the
// clock of Measure. A workload stops it around work it must do between
// operations that is no part of them.
type Timer interface {
	StopTimer()
	StartTimer()
}

// A Run is a workload set up and ready to run operations.
type Run struct {
	// Ops runs n operations, one after the other, on the clock t, which
	// is running when it is called.
	Ops func(t Timer, n int) error
	// CallsPerOp is how many calls an operation makes; if it is not zero
	// Report gives calls/s.
	CallsPerOp int
	// Latencies, if not nil, is where Ops records how long each operation
	// took; Report gives their p50 and p99.
	Latencies *Latencies
	// Metrics, if not nil, returns the workload's own metrics once its
	// operations have run, such as bytes/actor.
	Metrics func() []Metric
	// Check, if not nil, verifies once the operations have run that every
	// call counted was made once, and fails otherwise.
	Check func() error
	// Close, if not nil, ends what Setup started.
	Close func() error
}

// close calls r.Close if it is set.
func (r *Run) close() error {
	if r.Close == nil {
		return nil
	}
	return r.Close()
}

// A Metric is one measured value and its unit, in the units of
// testing.B.ReportMetric: "calls/s", "p50-ns", "bytes/actor".
type Metric struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// Report returns the metrics of ops operations that took elapsed on the
// clock: ns/op, then calls/s, p50-ns and p99-ns where r measures them,
// then r's own metrics.
func (r *Run) Report(ops int, elapsed time.Duration) []Metric {
	if ops == 0 || elapsed <= 0 {
		return nil
	}
	ms := []Metric{{float64(elapsed.Nanoseconds()) / float64(ops), "ns/op"}}
	if r.CallsPerOp > 0 {
		ms = append(ms, Metric{float64(ops*r.CallsPerOp) / elapsed.Seconds(), "calls/s"})
	}
	if r.Latencies != nil && len(*r.Latencies) > 0 {
		sorted := slices.Clone(*r.Latencies)
		slices.Sort(sorted)
		ms = append(ms,
			Metric{float64(Percentile(sorted, 50)), "p50-ns"},
			Metric{float64(Percentile(sorted, 99)), "p99-ns"})
	}
	if r.Metrics != nil {
		ms = append(ms, r.Metrics()...)
	}
	return ms
}

// Latencies holds the duration of each operation of a run.
type Latencies []time.Duration

// newLatencies returns an empty Latencies with room for many operations.
func newLatencies() *Latencies {
	l := make(Latencies, 0, 1<<16)
	return &l
}

// Percentile returns the nearest-rank p-th percentile of sorted, which
// must not be empty.
func Percentile(sorted []time.Duration, p int) time.Duration {
	rank := (len(sorted)*p + 99) / 100 // ceil(len*p/100), 1-based
	return sorted[max(rank, 1)-1]
}

// Workloads returns every workload of the suite, baselines first, in the
// order the Go benchmarks run.
func Workloads() []Workload {
	return []Workload{
		baselineChannelRoundTrip(),
		baselineChannelPipelined1000(),
		baselineChannelConcurrent16(),
		baselineTCPRoundTrip(),
		baselineTCPPipelined1000(),
		baselineConnectUnary(),
		baselineGoroutineSpawn(),
		baselineIdleGoroutineBytes(),
		localSync(),
		localAsync1000(),
		localConcurrent16(),
		local1toN(),
		localNtoN(),
		local1toNFromActor(),
		localNtoNFromActor(),
		spawn(),
		idleActorBytes(),
		remoteSync(),
		remoteAsync1000(),
		remoteNtoN(),
		localSyncTracingOff(),
		localSyncTracingNoop(),
		localSyncTracingSampled(),
	}
}

// ErrUnknownWorkload is returned by Lookup for a name no workload has.
var ErrUnknownWorkload = errors.New("bench: unknown workload")

// Lookup returns the workload with the given name.
func Lookup(name string) (Workload, error) {
	for _, w := range Workloads() {
		if w.Name == name {
			return w, nil
		}
	}
	return Workload{}, fmt.Errorf("%w %q", ErrUnknownWorkload, name)
}

// oneAtATime is a Run of one call per operation. call makes the call and
// returns the running sum its answer carries, which must count the calls
// made, the first after made: a lost or repeated call fails the run. With
// timed set the Run records each call's latency.
func oneAtATime(timed bool, made int64, call func() (int64, error), close func() error) *Run {
	r := &Run{CallsPerOp: 1, Close: close}
	if timed {
		r.Latencies = newLatencies()
	}
	r.Ops = func(_ Timer, n int) error {
		for range n {
			var start time.Time
			if timed {
				start = time.Now()
			}
			v, err := call()
			if timed {
				*r.Latencies = append(*r.Latencies, time.Since(start))
			}
			if err != nil {
				return err
			}
			made++
			if v != made {
				return fmt.Errorf("answer %d, want %d", v, made)
			}
		}
		return nil
	}
	return r
}
