package bench

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// reportCalls reports the calls completed per second of measured time.
func reportCalls(b *testing.B, calls int) {
	b.ReportMetric(float64(calls)/b.Elapsed().Seconds(), "calls/s")
}

// latencies collects the duration of each operation of a benchmark.
type latencies []time.Duration

func newLatencies() latencies { return make(latencies, 0, 1<<16) }

// report reports the median and the 99th percentile, in nanoseconds.
func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	sorted := slices.Clone(l)
	slices.Sort(sorted)
	b.ReportMetric(float64(percentile(sorted, 50)), "p50-ns")
	b.ReportMetric(float64(percentile(sorted, 99)), "p99-ns")
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (len(sorted)*p + 99) / 100 // ceil(len*p/100), 1-based
	return sorted[max(rank, 1)-1]
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

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(i))
	}
	for _, tc := range []struct {
		p    int
		want time.Duration
	}{{50, 100}, {99, 198}, {100, 200}, {1, 2}} {
		if got := percentile(d, tc.p); got != tc.want {
			t.Errorf("percentile(1..200, %d) = %d, want %d", tc.p, got, tc.want)
		}
	}
	if got := percentile([]time.Duration{7}, 50); got != 7 {
		t.Errorf("percentile([7], 50) = %d, want 7", got)
	}
}
