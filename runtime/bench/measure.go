package bench

import (
	"errors"
	"fmt"
	"time"
)

// A Result is what one measurement of a workload gave.
type Result struct {
	Name    string        `json:"name"`
	Ops     int           `json:"ops"`
	Elapsed time.Duration `json:"elapsed_ns"`
	Metrics []Metric      `json:"metrics"`
}

// Metric returns the value of the metric with the given unit, and whether
// the result has it.
func (r Result) Metric(unit string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Unit == unit {
			return m.Value, true
		}
	}
	return 0, false
}

// Measure sets w up, runs its operations until they have taken at least d
// on the clock, checks and closes it, and returns the metrics. Like a Go
// benchmark it starts with one operation and runs ever larger rounds,
// sized from the time per operation so far, so that a fast workload
// makes many operations and a slow one (IdleActorBytes) at least one.
func Measure(w Workload, d time.Duration) (res Result, err error) {
	run, err := w.Setup()
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", w.Name, err)
	}
	defer func() {
		if cerr := run.close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("%s: %w", w.Name, cerr))
		}
	}()
	var clk clock
	ops, n := 0, 1
	for {
		clk.StartTimer()
		err := run.Ops(&clk, n)
		clk.StopTimer()
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", w.Name, err)
		}
		ops += n
		if clk.elapsed >= d {
			break
		}
		n = nextRound(n, ops, clk.elapsed, d)
	}
	if run.Check != nil {
		if err := run.Check(); err != nil {
			return Result{}, fmt.Errorf("%s: %w", w.Name, err)
		}
	}
	return Result{Name: w.Name, Ops: ops, Elapsed: clk.elapsed, Metrics: run.Report(ops, clk.elapsed)}, nil
}

// nextRound returns how many operations the next round should run, given
// that ops operations took elapsed of the target d: enough to reach d
// with a fifth to spare, but at most 100 times the last round.
func nextRound(last, ops int, elapsed, d time.Duration) int {
	perOp := max(elapsed.Nanoseconds()/int64(ops), 1)
	want := (d - elapsed).Nanoseconds() / perOp
	want += want / 5
	return int(max(min(want, 100*int64(last), 1e9), 1))
}

// clock is the Timer of Measure: it adds up the time it runs.
type clock struct {
	start   time.Time
	running bool
	elapsed time.Duration
}

func (c *clock) StartTimer() {
	if !c.running {
		c.start, c.running = time.Now(), true
	}
}

func (c *clock) StopTimer() {
	if c.running {
		c.elapsed += time.Since(c.start)
		c.running = false
	}
}
