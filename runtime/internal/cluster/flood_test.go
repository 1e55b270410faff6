package cluster_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// floodDuration is how long the flood tests flood: TROUPE_FLOOD_SECONDS,
// 5 s by default.
func floodDuration(t *testing.T) time.Duration {
	if v := os.Getenv("TROUPE_FLOOD_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("TROUPE_FLOOD_SECONDS=%q: want a positive number of seconds", v)
		}
		return time.Duration(n) * time.Second
	}
	return 5 * time.Second
}

// rssBytes reads a process's resident set size from /proc.
func rssBytes(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// flood makes calls that sleep 1 ms at h from several goroutines for d,
// each call bounded by a short deadline, at most outstanding calls per
// goroutine in the driver. It returns how many calls it made.
func flood(ctx context.Context, h *testv1actor.ProbeHandle, d time.Duration, stop <-chan struct{}) int64 {
	const goroutines, outstanding = 4, 20000
	var made atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ring := make([]*actor.Future[*testv1.DoResponse], outstanding)
			cancels := make([]context.CancelFunc, outstanding)
			defer func() {
				for i, f := range ring {
					if f != nil {
						<-f.Done()
						cancels[i]()
					}
				}
			}()
			for i := 0; ; i = (i + 1) % outstanding {
				select {
				case <-stop:
					return
				default:
				}
				if f := ring[i]; f != nil {
					select {
					case <-f.Done():
					case <-stop:
						return
					}
					cancels[i]()
				}
				cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				ring[i], cancels[i] = h.Do(cctx, &testv1.DoRequest{Key: "sleep", Arg: 1}), cancel
				made.Add(1)
			}
		}()
	}
	wg.Wait()
	return made.Load()
}

// A flood of calls at a slow actor leaves the node's memory within the
// bound its calls-in-flight limit sets: calls beyond it wait in the
// caller, not on the node.
func TestFloodBoundsNodeMemory(t *testing.T) {
	d := floodDuration(t)
	const limit = 2000
	c := newCluster(t, "--heartbeat-timeout", "30s", "--max-calls-in-flight", strconv.Itoa(limit))
	sys := c.connect("flood")
	h := spawn(t, sys, testv1actor.ProbeOptions())
	nodeOf(t, h) // the actor runs, on the head's node
	pid := c.head.cmd.Process.Pid
	base := rssBytes(t, pid)

	stop := make(chan struct{})
	var peak atomic.Int64
	var made int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		made = flood(context.Background(), h, d, stop)
	}()
	start := time.Now()
	var series []string // RSS in MiB, each second
	for time.Since(start) < d {
		r := rssBytes(t, pid)
		if r > peak.Load() {
			peak.Store(r)
		}
		if s := int(time.Since(start) / time.Second); s >= len(series) {
			series = append(series, strconv.FormatInt(r>>20, 10))
		}
		time.Sleep(50 * time.Millisecond) // sampling, not synchronisation
	}
	close(stop)
	<-done

	// The bound docs/semantics.md states: 16 MiB (the stream's buffers,
	// and garbage from the calls refused or answered) and 8 KiB per call
	// the limit lets in (envelope, request, the call in the mailbox, its
	// deadline's timer, and the garbage collector's headroom over them).
	const bound = 16<<20 + limit*8<<10
	rise := peak.Load() - base
	t.Logf("node RSS each second, MiB: %s", strings.Join(series, " "))
	t.Logf("flood of %v: %d calls made, node RSS %.1f MiB before, peak %.1f MiB (+%.1f MiB)",
		d, made, float64(base)/(1<<20), float64(peak.Load())/(1<<20), float64(rise)/(1<<20))
	if rise > bound {
		t.Errorf("node RSS rose %.1f MiB under the flood, more than the %d MiB bound", float64(rise)/(1<<20), bound>>20)
	}

	// The node still answers at once.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := h.Do(ctx, &testv1.DoRequest{Key: "echo", Arg: 1}).Get(ctx); err != nil {
		t.Fatalf("a call after the flood: %v", err)
	}
}

// A call the flooded actor refuses for max_pending_calls learns it at
// once: about as soon as a call to an idle actor on the same node, during
// the same flood, gets its answer — not behind the flood's calls.
func TestFloodRejectsAtOnce(t *testing.T) {
	d := floodDuration(t)
	c := newCluster(t, "--heartbeat-timeout", "30s")
	flooder := c.connect("flood")
	h := spawn(t, flooder, testv1actor.ProbeOptions().MaxPendingCalls(10))
	nodeOf(t, h)
	other := c.connect("flood") // a second caller, with a stream of its own
	idle := spawn(t, other, testv1actor.ProbeOptions())
	nodeOf(t, idle)
	target, err := testv1actor.ProbeFromRef(context.Background(), other, h.Ref().Proto())
	if err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		flood(context.Background(), h, d, stop)
	}()
	defer func() { close(stop); <-done }()

	// During the flood, alternately time a call to the idle actor and one
	// the flooded actor refuses.
	var idleTimes, refusedTimes []time.Duration
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start := time.Now()
		_, err := idle.Do(ctx, &testv1.DoRequest{Key: "echo"}).Get(ctx)
		idleTimes = append(idleTimes, time.Since(start))
		if err != nil {
			cancel()
			t.Fatalf("call to the idle actor: %v", err)
		}
		start = time.Now()
		_, err = target.Do(ctx, &testv1.DoRequest{Key: "sleep", Arg: 1}).Get(ctx)
		took := time.Since(start)
		cancel()
		if err == nil {
			continue // the flood left room in the mailbox this time
		}
		if !errors.Is(err, actor.ErrPendingCallsLimit) || connect.CodeOf(err) != connect.CodeResourceExhausted {
			t.Fatalf("call to the flooded actor: %v, want resource_exhausted for max_pending_calls", err)
		}
		refusedTimes = append(refusedTimes, took)
	}
	if len(refusedTimes) < 5 {
		t.Fatalf("only %d calls refused during the flood", len(refusedTimes))
	}
	idleMed, refusedMed := median(idleTimes), median(refusedTimes)
	t.Logf("during the flood: %d idle calls, median %v; %d refused, median %v", len(idleTimes), idleMed, len(refusedTimes), refusedMed)
	// A refusal costs what an answer from an idle actor costs; allow a
	// loaded machine a wide margin.
	if refusedMed > 5*idleMed {
		t.Errorf("refused calls took %v (median), idle calls %v: the refusal waited behind the flood", refusedMed, idleMed)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
