package actor_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// logRecords is a slog handler that keeps every record's message and
// attributes as text.
type logRecords struct {
	mu      sync.Mutex
	records []string
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecords) WithGroup(string) slog.Handler            { return l }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	l.mu.Lock()
	l.records = append(l.records, b.String())
	l.mu.Unlock()
	return nil
}

// find returns the first record that contains every one of parts.
func (l *logRecords) find(parts ...string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
next:
	for _, r := range l.records {
		for _, p := range parts {
			if !strings.Contains(r, p) {
				continue next
			}
		}
		return r, true
	}
	return "", false
}

// exitOnDo makes Do call ExitActor, so that the Stop hook runs.
func exitOnDo(ctx context.Context, _ *probe, _ *testv1.DoRequest) (*testv1.DoResponse, error) {
	return &testv1.DoResponse{}, actor.ExitActor(ctx)
}

// A Stop hook that panics does not crash the process: the panic is logged
// with its stack, and the actor's cause of death records it.
func TestStopHookPanicIsRecovered(t *testing.T) {
	t.Parallel()
	logs := new(logRecords)
	sys := start(t, &behaviour{
		do:   exitOnDo,
		stop: func(context.Context, *probe) error { panic("stop went wrong") },
	}, actor.WithLogger(slog.New(logs)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	if _, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the panic in the cause of death", func() bool {
		return strings.Contains(stateOf(t, sys, h.Ref().ID()).DeathCause, "Stop hook panicked: stop went wrong")
	})
	if info := stateOf(t, sys, h.Ref().ID()); info.State != actor.Dead || !strings.Contains(info.DeathCause, "exited") {
		t.Fatalf("actor = %+v; want DEAD, exited", info)
	}
	if _, ok := logs.find("Stop hook panicked", "stop went wrong", "stack=goroutine", "stophook_test.go"); !ok {
		t.Fatalf("no log of the panic with its stack in %q", logs.records)
	}
	// The system goes on, and shuts down with the same hook panicking.
	h2 := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	if _, err := h2.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sys.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with a panicking Stop hook: %v", err)
	}
}

// A Stop hook that hangs does not hold up Shutdown past its ctx: Shutdown
// returns ctx's error when ctx ends.
func TestShutdownHonoursCtxWithHangingStopHook(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	defer close(hang)
	entered := make(chan struct{}, 4)
	sys := start(t, &behaviour{stop: func(context.Context, *probe) error {
		entered <- struct{}{}
		<-hang // ignores its ctx
		return nil
	}})
	for range 3 {
		h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
		if _, err := h.Get(context.Background(), &testv1.GetRequest{}).Get(context.Background()); err != nil {
			t.Fatal(err) // constructed: it has a Stop hook to run
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	returned := make(chan error, 1)
	go func() { returned <- sys.Shutdown(ctx) }()
	select {
	case err := <-returned:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown with hanging Stop hooks = %v; want its ctx's deadline exceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown blocked far past its ctx's deadline")
	}
	for range 3 { // every hook started, not one after the other
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatal("the Stop hooks ran one after the other")
		}
	}
}

// A Stop hook gets WithStopTimeout's time: its ctx ends then, and the
// runtime goes on without it, noting so in the cause of death and the
// log. Shutdown, with a longer ctx, returns once the timeout has passed.
func TestStopTimeoutBoundsStopHook(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	defer close(hang)
	logs := new(logRecords)
	deadlines := make(chan time.Duration, 4)
	sys := start(t, &behaviour{
		do: exitOnDo,
		stop: func(ctx context.Context, _ *probe) error {
			d, _ := ctx.Deadline()
			deadlines <- time.Until(d)
			<-hang // ignores its ctx
			return nil
		},
	}, actor.WithLogger(slog.New(logs)), actor.WithStopTimeout(200*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	if _, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	if d := <-deadlines; d <= 0 || d > 200*time.Millisecond {
		t.Fatalf("the hook's ctx ends in %v; want within the 200ms stop timeout", d)
	}
	eventually(t, "the timeout in the cause of death", func() bool {
		return strings.Contains(stateOf(t, sys, h.Ref().ID()).DeathCause, "Stop hook did not return within 200ms")
	})
	if _, ok := logs.find("Stop hook did not return", "actor_id="+h.Ref().ID()); !ok {
		t.Fatalf("no log of the hook left running in %q", logs.records)
	}
	h2 := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	if _, err := h2.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sys.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with a hook that outlives the stop timeout = %v; want nil", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Shutdown waited for its ctx rather than the stop timeout")
	}
}

func TestStopTimeoutMustBePositive(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, -time.Second} {
		if _, err := actor.Start(context.Background(), actor.WithStopTimeout(d)); !errors.Is(err, actor.ErrInvalidOption) {
			t.Errorf("WithStopTimeout(%v): Start = %v; want ErrInvalidOption", d, err)
		}
	}
}
