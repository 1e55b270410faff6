package node

import (
	"context"
	"errors"
	"testing"
	"time"
)

// stopAll registers n functions with AfterFunc on a fresh context and
// stops them oldest first, the order in which a method's calls start and
// return, and returns the time per stop: the best of three runs.
func stopAll(n int) time.Duration {
	best := time.Duration(1<<63 - 1)
	stops := make([]func() bool, n)
	for range 3 {
		var e ending
		for i := range stops {
			stops[i] = e.AfterFunc(func() {})
		}
		start := time.Now()
		for _, stop := range stops {
			stop()
		}
		best = min(best, time.Since(start)/time.Duration(n))
	}
	return best
}

// Stopping a function registered with AfterFunc takes the same time
// whether few or many are registered: a method's many calls in flight on
// its ctx do not make each of them slower.
func TestAfterFuncStopIsConstantTime(t *testing.T) {
	few, many := stopAll(1000), stopAll(50_000)
	if many > 10*max(few, 20*time.Nanosecond) {
		t.Fatalf("a stop takes %v with 50,000 registered and %v with 1,000: it walks the list", many, few)
	}
}

// AfterFunc's functions run once the context ends, except those stopped;
// stop reports whether it kept its function from running.
func TestAfterFuncStopAndEnd(t *testing.T) {
	var x ctorCtx
	ran := make(chan int, 8)
	stops := make([]func() bool, 5)
	for i := range stops {
		stops[i] = x.AfterFunc(func() { ran <- i })
	}
	// Unlink the first, a middle and the last registered.
	for _, i := range []int{0, 2, 4} {
		if !stops[i]() {
			t.Fatalf("stop %d of a live context = false", i)
		}
		if stops[i]() {
			t.Fatalf("stop %d twice = true", i)
		}
	}
	x.cancel()
	got := map[int]bool{<-ran: true, <-ran: true}
	if !got[1] || !got[3] {
		t.Fatalf("after the end ran %v, want 1 and 3", got)
	}
	if stops[1]() || stops[3]() {
		t.Fatal("stop after the end = true")
	}
	if !errors.Is(x.Err(), context.Canceled) {
		t.Fatalf("Err = %v", x.Err())
	}
	// Registered after the end: runs at once (and a stopped function
	// that ran would show up here first).
	x.AfterFunc(func() { ran <- 9 })
	if i := <-ran; i != 9 {
		t.Fatalf("late AfterFunc ran %d", i)
	}
}
