package actor_test

import (
	"context"
	"errors"
	"fmt"
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

// overlap counts methods running at once and remembers the most.
type overlap struct{ now, max atomic.Int64 }

func (o *overlap) enter() {
	n := o.now.Add(1)
	for m := o.max.Load(); n > m && !o.max.CompareAndSwap(m, n); m = o.max.Load() {
	}
}

func (o *overlap) leave() { o.now.Add(-1) }

func TestMaxConcurrencyOverlaps(t *testing.T) {
	t.Parallel()
	const n = 4
	var barrier sync.WaitGroup
	barrier.Add(n)
	sys := start(t, &behaviour{do: func(context.Context, *probe, *testv1.DoRequest) (*testv1.DoResponse, error) {
		barrier.Done()
		barrier.Wait() // returns only if all four run at once
		return &testv1.DoResponse{}, nil
	}})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxConcurrency(n), nil)
	futs := make([]*actor.Future[*testv1.DoResponse], n)
	for i := range futs {
		futs[i] = h.Do(ctx, &testv1.DoRequest{})
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, f := range futs {
		if _, err := f.Get(wctx); err != nil {
			t.Fatalf("calls did not all reach the barrier: %v", err)
		}
	}
}

func TestSerialNeverOverlaps(t *testing.T) {
	t.Parallel()
	var o overlap
	sys := start(t, &behaviour{do: func(context.Context, *probe, *testv1.DoRequest) (*testv1.DoResponse, error) {
		o.enter()
		defer o.leave()
		return &testv1.DoResponse{}, nil
	}})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if _, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if m := o.max.Load(); m != 1 {
		t.Fatalf("serial actor ran %d methods at once", m)
	}
}

func TestReadersOverlapNeverWriters(t *testing.T) {
	t.Parallel()
	var readers, writers atomic.Int64
	var bad atomic.Int64
	var readersTogether sync.WaitGroup
	readersTogether.Add(3)
	sys := start(t, &behaviour{
		read: func(_ context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
			readers.Add(1)
			defer readers.Add(-1)
			if writers.Load() != 0 {
				bad.Add(1)
			}
			if r.GetArg() == 1 {
				readersTogether.Done()
				readersTogether.Wait() // three readers must run at once
			}
			return &testv1.DoResponse{}, nil
		},
		do: func(context.Context, *probe, *testv1.DoRequest) (*testv1.DoResponse, error) {
			writers.Add(1)
			defer writers.Add(-1)
			if readers.Load() != 0 || writers.Load() != 1 {
				bad.Add(1)
			}
			return &testv1.DoResponse{}, nil
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	// Three readers that wait for each other: they can only finish together.
	var together []*actor.Future[*testv1.DoResponse]
	for range 3 {
		together = append(together, h.Read(ctx, &testv1.DoRequest{Arg: 1}))
	}
	for _, f := range together {
		if _, err := f.Get(ctx); err != nil {
			t.Fatalf("readers did not overlap: %v", err)
		}
	}
	// Readers and writers interleaved from many goroutines never overlap.
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 200 {
				var err error
				if (g+i)%3 == 0 {
					_, err = h.Do(ctx, &testv1.DoRequest{}).Get(ctx)
				} else {
					_, err = h.Read(ctx, &testv1.DoRequest{}).Get(ctx)
				}
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := bad.Load(); n != 0 {
		t.Fatalf("a reader and a writer overlapped %d times", n)
	}
}

func TestConcurrencyGroups(t *testing.T) {
	t.Parallel()
	g := newGate(4)
	var io overlap
	sys := start(t, &behaviour{
		io: func(ctx context.Context, _ *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
			io.enter()
			defer io.leave()
			return &testv1.DoResponse{}, g.pass(ctx)
		},
	})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	var futs []*actor.Future[*testv1.DoResponse]
	for range 3 {
		futs = append(futs, h.Io(ctx, &testv1.DoRequest{}))
	}
	g.wait(t, 2) // the io group has two slots
	// The default group is not blocked by the io group.
	if _, err := h.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	if info := stateOf(t, sys, h.Ref().ID()); info.RunningCalls != 2 || info.PendingCalls != 1 {
		t.Fatalf("running %d, pending %d; want 2 io calls running and 1 queued", info.RunningCalls, info.PendingCalls)
	}
	g.open()
	for _, f := range futs {
		if _, err := f.Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if m := io.max.Load(); m != 2 {
		t.Fatalf("io group ran %d at once, want 2", m)
	}
}

func TestMaxPendingCalls(t *testing.T) {
	t.Parallel()
	g := newGate(1)
	var ran atomic.Int64
	sys := start(t, &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		ran.Add(1)
		if r.GetArg() == 0 {
			return &testv1.DoResponse{}, g.pass(ctx)
		}
		return &testv1.DoResponse{Value: r.GetArg()}, nil
	}})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxPendingCalls(10), nil)
	futs := []*actor.Future[*testv1.DoResponse]{h.Do(ctx, &testv1.DoRequest{Arg: 0})}
	g.wait(t, 1)
	for i := 1; i < 10; i++ {
		futs = append(futs, h.Do(ctx, &testv1.DoRequest{Arg: int64(i)}))
	}
	over := h.Do(ctx, &testv1.DoRequest{Arg: 10})
	select {
	case <-over.Done():
	default:
		t.Fatal("the 11th call did not fail at once")
	}
	_, err := over.Get(ctx)
	if !errors.Is(err, actor.ErrPendingCallsLimit) || connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Fatalf("11th call = %v; want ErrPendingCallsLimit, resource_exhausted", err)
	}
	g.open()
	for i, f := range futs {
		if r, err := f.Get(ctx); err != nil || r.GetValue() != int64(i) {
			t.Fatalf("queued call %d = %v, %v", i, r, err)
		}
	}
	if n := ran.Load(); n != 10 {
		t.Fatalf("%d calls ran, want 10", n)
	}
}

func TestPanicRestartsWithFreshState(t *testing.T) {
	t.Parallel()
	var ctors atomic.Int64
	sys := start(t, &behaviour{
		ctor: func(context.Context, *testv1.ProbeInit) error { ctors.Add(1); return nil },
		do: func(_ context.Context, p *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
			p.n++
			if p.n == 3 {
				panic(fmt.Sprintf("third call on instance %p", p))
			}
			return &testv1.DoResponse{Value: p.n}, nil
		},
	})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(2), &testv1.ProbeInit{})
	for death := 1; death <= 3; death++ {
		for want := int64(1); want <= 2; want++ {
			r, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx)
			if err != nil || r.GetValue() != want {
				t.Fatalf("life %d: call %d = %v, %v; want %d (state reset after restart)", death, want, r, err, want)
			}
		}
		_, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx)
		var died *actor.ActorDiedError
		if !errors.As(err, &died) || died.Cause.Kind != actor.CausePanic ||
			!strings.Contains(died.Cause.Message, "third call on instance") || !strings.Contains(died.Cause.Stack, "semantics_test.go") {
			t.Fatalf("life %d: panicking call = %v; want actor died with the panic text and stack", death, err)
		}
		if died.Restarts != death-1 {
			t.Fatalf("life %d: died after %d restarts", death, died.Restarts)
		}
		// Calls without task retries fail with ErrActorUnavailable while the
		// constructor re-runs: wait for the restart to finish.
		eventually(t, "restart done", func() bool { return stateOf(t, sys, h.Ref().ID()).State != actor.Restarting })
	}
	if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
		t.Fatalf("call after the last death = %v; want ErrActorDied", err)
	}
	info := stateOf(t, sys, h.Ref().ID())
	if info.State != actor.Dead || info.Restarts != 2 || !strings.Contains(info.DeathCause, "third call") {
		t.Fatalf("info = %+v", info)
	}
	if n := ctors.Load(); n != 3 {
		t.Fatalf("constructor ran %d times, want 3", n)
	}
}

func TestTaskRetriesKeepOrderAcrossRestart(t *testing.T) {
	t.Parallel()
	g := newGate(8)
	var mu sync.Mutex
	var seen []int64
	var blocked atomic.Bool
	sys := start(t, &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		if r.GetArg() == 5 && blocked.CompareAndSwap(false, true) {
			if err := g.pass(ctx); err != nil {
				return nil, err // the kill cancels this attempt
			}
		}
		mu.Lock()
		seen = append(seen, r.GetArg())
		mu.Unlock()
		return &testv1.DoResponse{Value: r.GetArg()}, nil
	}})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(1).MaxTaskRetries(-1), nil)
	var futs []*actor.Future[*testv1.DoResponse]
	for i := range 10 {
		futs = append(futs, h.Do(ctx, &testv1.DoRequest{Arg: int64(i)}))
	}
	g.wait(t, 1) // call 5 is running, 6..9 queued
	if err := sys.Kill(ctx, h); err != nil {
		t.Fatal(err)
	}
	for i, f := range futs {
		if r, err := f.Get(ctx); err != nil || r.GetValue() != int64(i) {
			t.Fatalf("call %d = %v, %v; want success on the restarted actor", i, r, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("completed in order %v, want %v", seen, want)
	}
	if info := stateOf(t, sys, h.Ref().ID()); info.State != actor.Alive || info.Restarts != 1 {
		t.Fatalf("info = %+v", info)
	}
}

func TestNoTaskRetriesFailInFlightCalls(t *testing.T) {
	t.Parallel()
	g := newGate(1)
	sys := start(t, &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		if r.GetArg() == 0 {
			return nil, g.pass(ctx)
		}
		return &testv1.DoResponse{Value: r.GetArg()}, nil
	}})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(1), nil)
	running := h.Do(ctx, &testv1.DoRequest{Arg: 0})
	g.wait(t, 1)
	queued := h.Do(ctx, &testv1.DoRequest{Arg: 1})
	retried := h.Retried(ctx, &testv1.DoRequest{Arg: 2}) // method option: 3 retries
	if err := sys.Kill(ctx, h); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]*actor.Future[*testv1.DoResponse]{"running": running, "queued": queued} {
		_, err := f.Get(ctx)
		var died *actor.ActorDiedError
		if !errors.As(err, &died) || died.Cause.Kind != actor.CauseKilled {
			t.Fatalf("%s call = %v; want actor died (killed)", name, err)
		}
	}
	if _, err := retried.Get(ctx); err != nil {
		t.Fatalf("call with a method-level retry = %v; want success after restart", err)
	}
	if r, err := h.Do(ctx, &testv1.DoRequest{Arg: 3}).Get(ctx); err != nil || r.GetValue() != 3 {
		t.Fatalf("call after restart = %v, %v", r, err)
	}
}

func TestUnavailableWhileRestarting(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var lives atomic.Int64
	sys := start(t, &behaviour{ctor: func(context.Context, *testv1.ProbeInit) error {
		if lives.Add(1) == 2 {
			<-release // the restart's constructor blocks
		}
		return nil
	}})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(1), nil)
	if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sys.Kill(ctx, h); err != nil {
		t.Fatal(err)
	}
	eventually(t, "restarting", func() bool { return stateOf(t, sys, h.Ref().ID()).State == actor.Restarting })
	_, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
	if !errors.Is(err, actor.ErrActorUnavailable) || connect.CodeOf(err) != connect.CodeUnavailable {
		t.Fatalf("call without retries while restarting = %v; want ErrActorUnavailable", err)
	}
	waiting := h.Retried(ctx, &testv1.DoRequest{})
	close(release)
	if _, err := waiting.Get(ctx); err != nil {
		t.Fatalf("call with retries while restarting = %v; want it to wait and succeed", err)
	}
}

func TestApplicationErrorsUnchanged(t *testing.T) {
	t.Parallel()
	appErr := connect.NewError(connect.CodeInvalidArgument, errors.New("bad widget"))
	appErr.Meta().Set("x-widget", "7")
	plain := errors.New("plain failure")
	sys := start(t, &behaviour{do: func(_ context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		if r.GetArg() == 1 {
			return nil, appErr
		}
		return nil, plain
	}})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(-1).MaxTaskRetries(-1), nil)
	_, err := h.Do(ctx, &testv1.DoRequest{Arg: 1}).Get(ctx)
	if err != appErr {
		t.Fatalf("error = %v; want the method's *connect.Error unchanged", err)
	}
	if _, err := h.Do(ctx, &testv1.DoRequest{Arg: 2}).Get(ctx); err != plain {
		t.Fatalf("error = %v; want the method's error unchanged", err)
	}
	if info := stateOf(t, sys, h.Ref().ID()); info.Restarts != 0 || info.State != actor.Alive {
		t.Fatalf("application errors restarted the actor: %+v", info)
	}
}

func TestExitActorAndStopHook(t *testing.T) {
	t.Parallel()
	var stops atomic.Int64
	sys := start(t, &behaviour{
		do: func(ctx context.Context, _ *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
			if err := actor.ExitActor(ctx); err != nil {
				return nil, err
			}
			return &testv1.DoResponse{Text: "bye"}, nil
		},
		stop: func(context.Context, *probe) error { stops.Add(1); return nil },
	})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(5).Name("leaver"), nil)
	if r, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx); err != nil || r.GetText() != "bye" {
		t.Fatalf("exiting call = %v, %v; want its result", r, err)
	}
	_, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
	var died *actor.ActorDiedError
	if !errors.As(err, &died) || died.Cause.Kind != actor.CauseExited {
		t.Fatalf("call after exit = %v; want actor died (exited)", err)
	}
	if n := stops.Load(); n != 1 {
		t.Fatalf("Stop ran %d times, want 1", n)
	}
	if info := stateOf(t, sys, h.Ref().ID()); info.State != actor.Dead || info.Restarts != 0 {
		t.Fatalf("exited actor restarted: %+v", info)
	}
	if _, err := testv1actor.GetProbe(ctx, sys, "leaver"); !errors.Is(err, actor.ErrActorNotFound) {
		t.Fatalf("name of exited actor still bound: %v", err)
	}
	if err := actor.ExitActor(ctx); !errors.Is(err, actor.ErrNotInActor) {
		t.Fatalf("ExitActor outside an actor = %v", err)
	}
}

func TestKillWithRestart(t *testing.T) {
	t.Parallel()
	sys := start(t, nil)
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(1), &testv1.ProbeInit{Start: 5})
	if _, err := h.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sys.Kill(ctx, h); err != nil {
		t.Fatal(err)
	}
	eventually(t, "restart", func() bool { return stateOf(t, sys, h.Ref().ID()).State == actor.Alive })
	if r, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil || r.GetValue() != 5 {
		t.Fatalf("after restart = %v, %v; want the constructor's 5", r, err)
	}
	if err := sys.Kill(ctx, h); err != nil { // no restarts left
		t.Fatal(err)
	}
	if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
		t.Fatalf("after last kill = %v", err)
	}
}

func TestCancelledQueuedCallsNeverRun(t *testing.T) {
	t.Parallel()
	g := newGate(1)
	var ran atomic.Int64
	sys := start(t, &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		if r.GetArg() == 0 {
			return &testv1.DoResponse{}, g.pass(ctx)
		}
		ran.Add(1)
		return &testv1.DoResponse{}, nil
	}})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxPendingCalls(6), nil)
	first := h.Do(ctx, &testv1.DoRequest{Arg: 0})
	g.wait(t, 1)
	cctx, cancel := context.WithCancel(ctx)
	var cancelled []*actor.Future[*testv1.DoResponse]
	for range 3 {
		cancelled = append(cancelled, h.Do(cctx, &testv1.DoRequest{Arg: 1}))
	}
	byFuture := h.Do(ctx, &testv1.DoRequest{Arg: 1})
	byFuture.Cancel()
	cancel()
	for _, f := range append(cancelled, byFuture) {
		if _, err := f.Get(ctx); connect.CodeOf(err) != connect.CodeCanceled {
			t.Fatalf("cancelled queued call = %v; want canceled", err)
		}
	}
	// The cancelled calls left the queue: five more fit under the limit of 6.
	var more []*actor.Future[*testv1.DoResponse]
	for range 5 {
		more = append(more, h.Do(ctx, &testv1.DoRequest{Arg: 1}))
	}
	g.open()
	for _, f := range append(more, first) {
		if _, err := f.Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := ran.Load(); n != 5 {
		t.Fatalf("%d calls ran, want 5: cancelled calls must never run", n)
	}
}

func TestRunningCallSeesCancellationAndDeadline(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{}, 1)
	sys := start(t, &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		if r.GetArg() == 1 {
			if _, ok := ctx.Deadline(); !ok {
				return nil, errors.New("no deadline in the method's ctx")
			}
		}
		entered <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	cctx, cancel := context.WithCancel(ctx)
	f := h.Do(cctx, &testv1.DoRequest{})
	<-entered
	cancel()
	if _, err := f.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("running call after cancel = %v; want the method to see ctx.Done()", err)
	}
	dctx, dcancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer dcancel()
	if _, err := h.Do(dctx, &testv1.DoRequest{Arg: 1}).Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call with deadline = %v; want the deadline to reach the method", err)
	}
}

func TestCancelledCallIsNotRetried(t *testing.T) {
	t.Parallel()
	g := newGate(1)
	var ran atomic.Int64
	sys := start(t, &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		if r.GetArg() == 0 {
			return &testv1.DoResponse{}, g.pass(ctx)
		}
		ran.Add(1)
		return &testv1.DoResponse{}, nil
	}})
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().MaxRestarts(1).MaxTaskRetries(-1), nil)
	cctx, cancel := context.WithCancel(ctx)
	running := h.Do(cctx, &testv1.DoRequest{Arg: 0})
	g.wait(t, 1)
	cancel()
	if err := sys.Kill(ctx, h); err != nil {
		t.Fatal(err)
	}
	if _, err := running.Get(ctx); connect.CodeOf(err) != connect.CodeCanceled {
		t.Fatalf("cancelled call = %v; want canceled, not a retry", err)
	}
	if _, err := h.Do(ctx, &testv1.DoRequest{Arg: 1}).Get(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestCallCycleDeadlock(t *testing.T) {
	t.Parallel()
	sys := start(t, &behaviour{do: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		// A calls B with A's ref; B calls back into A and waits.
		peer, err := testv1actor.ProbeFromRef(ctx, actor.SystemFrom(ctx), r.GetRef())
		if err != nil {
			return nil, err
		}
		var next *testv1.DoRequest
		if r.GetArg() > 0 {
			next = &testv1.DoRequest{Arg: r.GetArg() - 1, Ref: actor.Self(ctx).Proto()}
		} else {
			next = &testv1.DoRequest{Arg: -1}
		}
		if r.GetArg() < 0 {
			return &testv1.DoResponse{Text: "leaf"}, nil
		}
		resp, err := peer.Do(ctx, next).Get(ctx)
		if err != nil {
			return nil, err
		}
		return resp, nil
	}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	a := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	b := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	// A.Do(arg 1, ref B) → B.Do(arg 0, ref A) → A.Do(arg -1): A is busy waiting on B.
	_, err := a.Do(ctx, &testv1.DoRequest{Arg: 1, Ref: b.ActorRef()}).Get(ctx)
	if !errors.Is(err, actor.ErrDeadlock) {
		t.Fatalf("A→B→A = %v; want ErrDeadlock within a second", err)
	}
	// Both actors still work.
	for _, h := range []*testv1actor.ProbeHandle{a, b} {
		if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// A direct self-call deadlocks too.
	self := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	_, err = self.Do(ctx, &testv1.DoRequest{Arg: 0, Ref: self.ActorRef()}).Get(ctx)
	if !errors.Is(err, actor.ErrDeadlock) {
		t.Fatalf("A→A = %v; want ErrDeadlock", err)
	}
}

func TestFractionalGPUs(t *testing.T) {
	t.Parallel()
	sys := start(t, nil, actor.WithNumGPUs(1))
	ctx := context.Background()
	gpu := func() *actor.Spawner[*testv1.ProbeInit, *testv1actor.ProbeHandle] {
		return testv1actor.ProbeOptions().NumGPUs(0.5)
	}
	a := spawn(t, sys, gpu(), nil)
	spawn(t, sys, gpu(), nil)
	third := spawn(t, sys, gpu(), nil)
	queued := third.Add(ctx, &testv1.AddRequest{By: 1})
	info := stateOf(t, sys, third.Ref().ID())
	if info.State != actor.PendingCreation || !strings.Contains(info.PendingReason, "GPU") {
		t.Fatalf("third GPU actor = %+v; want PENDING_CREATION with a GPU reason", info)
	}
	if err := sys.Kill(ctx, a, actor.NoRestart()); err != nil {
		t.Fatal(err)
	}
	if r, err := queued.Get(ctx); err != nil || r.GetValue() != 1 {
		t.Fatalf("call queued on the pending actor = %v, %v", r, err)
	}
	if info := stateOf(t, sys, third.Ref().ID()); info.State != actor.Alive || info.PendingReason != "" {
		t.Fatalf("third after kill = %+v", info)
	}
}

func TestInfeasibleFailsAtOnceOnEmbedded(t *testing.T) {
	t.Parallel()
	sys := start(t, nil, actor.WithNumGPUs(1), actor.WithResources(map[string]float64{"writer_node": 1}))
	ctx := context.Background()
	for name, s := range map[string]*actor.Spawner[*testv1.ProbeInit, *testv1actor.ProbeHandle]{
		"gpu":    testv1actor.ProbeOptions().NumGPUs(2),
		"custom": testv1actor.ProbeOptions().Resources(map[string]float64{"reader_node": 1}),
	} {
		_, err := s.Spawn(ctx, sys, nil)
		if !errors.Is(err, actor.ErrInfeasible) || connect.CodeOf(err) != connect.CodeFailedPrecondition {
			t.Fatalf("%s: Spawn = %v; want ErrInfeasible", name, err)
		}
	}
	if _, err := testv1actor.ProbeOptions().Resources(map[string]float64{"writer_node": 1}).Spawn(ctx, sys, nil); err != nil {
		t.Fatal(err)
	}
}

func TestResourcesGivenBackAtDeath(t *testing.T) {
	t.Parallel()
	sys := start(t, &behaviour{do: func(context.Context, *probe, *testv1.DoRequest) (*testv1.DoResponse, error) {
		panic("boom")
	}}, actor.WithNumCPUs(2))
	ctx := context.Background()
	a := spawn(t, sys, testv1actor.ProbeOptions().NumCPUs(2), nil)
	b := spawn(t, sys, testv1actor.ProbeOptions().NumCPUs(2), nil)
	if info := stateOf(t, sys, b.Ref().ID()); info.State != actor.PendingCreation {
		t.Fatalf("b = %v; want pending while a holds the CPUs", info.State)
	}
	if _, err := a.Do(ctx, &testv1.DoRequest{}).Get(ctx); !errors.Is(err, actor.ErrActorDied) {
		t.Fatalf("panicking call = %v", err)
	}
	if _, err := b.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
		t.Fatalf("b after a died = %v; want it placed", err)
	}
}

func TestOwnedActorsDieWithTheirOwner(t *testing.T) {
	t.Parallel()
	childRef := make(chan *actor.Ref, 2)
	sys := start(t, &behaviour{do: func(ctx context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		lifetime := actor.Owned
		if r.GetArg() == 1 {
			lifetime = actor.Detached
		}
		h, err := testv1actor.ProbeOptions().Lifetime(lifetime).Spawn(ctx, actor.SystemFrom(ctx), nil)
		if err != nil {
			return nil, err
		}
		childRef <- h.Ref()
		return &testv1.DoResponse{}, nil
	}})
	ctx := context.Background()
	parent := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	for arg := range 2 {
		if _, err := parent.Do(ctx, &testv1.DoRequest{Arg: int64(arg)}).Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	owned, detached := <-childRef, <-childRef
	if err := sys.Kill(ctx, parent, actor.NoRestart()); err != nil {
		t.Fatal(err)
	}
	_, err := testv1actor.ProbeFromRef(ctx, sys, owned.Proto())
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "owned child dead", func() bool { return stateOf(t, sys, owned.ID()).State == actor.Dead })
	info := stateOf(t, sys, owned.ID())
	if !strings.Contains(info.DeathCause, "owner died") {
		t.Fatalf("owned child cause = %q", info.DeathCause)
	}
	dh, err := testv1actor.ProbeFromRef(ctx, sys, detached.Proto())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dh.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
		t.Fatalf("detached child after its owner died: %v", err)
	}
	if info := stateOf(t, sys, detached.ID()); info.State != actor.Alive || !info.Detached {
		t.Fatalf("detached child = %+v; want it alive", info)
	}
}

func TestOwnerDiesWhilePendingCreation(t *testing.T) {
	t.Parallel()
	children := make(chan *testv1actor.ProbeHandle, 1)
	sys := start(t, &behaviour{do: func(ctx context.Context, _ *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
		h, err := testv1actor.ProbeOptions().NumCPUs(4).Spawn(ctx, actor.SystemFrom(ctx), nil)
		if err != nil {
			return nil, err
		}
		children <- h
		return &testv1.DoResponse{}, nil
	}}, actor.WithNumCPUs(4))
	ctx := context.Background()
	hog := spawn(t, sys, testv1actor.ProbeOptions().NumCPUs(4), nil)
	parent := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	if _, err := parent.Do(ctx, &testv1.DoRequest{}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	child := <-children
	queued := child.Get(ctx, &testv1.GetRequest{})
	if err := sys.Kill(ctx, parent, actor.NoRestart()); err != nil {
		t.Fatal(err)
	}
	_, err := queued.Get(ctx)
	var died *actor.ActorDiedError
	if !errors.As(err, &died) || died.Cause.Kind != actor.CauseOwnerDied {
		t.Fatalf("call queued on a pending child = %v; want owner died", err)
	}
	// The hog's CPUs were never the child's: killing it does not revive the child.
	if err := sys.Kill(ctx, hog, actor.NoRestart()); err != nil {
		t.Fatal(err)
	}
	if info := stateOf(t, sys, child.Ref().ID()); info.State != actor.Dead {
		t.Fatalf("child = %+v; want DEAD, never created", info)
	}
}
