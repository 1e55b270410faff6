package actor_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// syncBuffer is a log destination tests read while the runtime writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A call to an actor that no node can host yet fails with ErrActorPending,
// naming why the actor waits, once the pending timeout has passed; Spawn
// returns at once and a warning with the reason is logged when the actor
// starts waiting. On an embedded node the actor waits for a resource
// another actor holds; on a cluster for a resource no node has.
func TestPendingTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		var logs syncBuffer
		opts := []actor.Option{actor.WithPendingTimeout(timeout),
			actor.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))}
		var sys *actor.System
		var res map[string]float64
		var reason string
		if m.embedded() {
			sys = start(t, nil, append(opts, actor.WithResources(map[string]float64{"scarce": 1}))...)
			res = map[string]float64{"scarce": 1}
			spawn(t, sys, testv1actor.ProbeOptions().Resources(res), nil) // holds it
			reason = "scarce"
		} else {
			sys = connectWith(t, opts...)
			res = map[string]float64{"nowhere": 1}
			reason = "nowhere"
		}

		begin := time.Now()
		h, err := testv1actor.ProbeOptions().Resources(res).Spawn(ctx, sys, nil)
		if err != nil {
			t.Fatalf("Spawn: %v; want it to return the waiting actor", err)
		}
		if !strings.Contains(logs.String(), "waits") || !strings.Contains(logs.String(), reason) ||
			!strings.Contains(logs.String(), h.Ref().ID()) {
			t.Errorf("log after Spawn: %q; want a warning naming the actor and the reason (%s)", logs.String(), reason)
		}
		_, err = h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
		waited := time.Since(begin)
		if !errors.Is(err, actor.ErrActorPending) || connect.CodeOf(err) != connect.CodeUnavailable {
			t.Fatalf("Get on the waiting actor: %v; want ErrActorPending, code unavailable", err)
		}
		if !strings.Contains(err.Error(), reason) || !strings.Contains(err.Error(), h.Ref().ID()) {
			t.Errorf("error %q does not name the actor and the reason (%s)", err, reason)
		}
		if waited < timeout {
			t.Errorf("the call failed after %v, before the pending timeout %v", waited, timeout)
		}
		if n := strings.Count(logs.String(), "waits"); n != 1 {
			t.Errorf("%d warnings, want one per waiting actor:\n%s", n, logs.String())
		}
		if err := sys.Kill(ctx, h); err != nil {
			t.Fatalf("Kill: %v", err)
		}
	})
}

// Without WithPendingTimeout a call on a waiting actor waits for as long
// as its ctx allows.
func TestPendingTimeoutIsOffByDefault(t *testing.T) {
	sys := start(t, nil, actor.WithResources(map[string]float64{"scarce": 1}))
	res := map[string]float64{"scarce": 1}
	spawn(t, sys, testv1actor.ProbeOptions().Resources(res), nil)
	h := spawn(t, sys, testv1actor.ProbeOptions().Resources(res), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get without a pending timeout: %v; want it to wait until ctx ends", err)
	}
	if _, err := actor.Start(context.Background(), actor.WithPendingTimeout(-time.Second)); !errors.Is(err, actor.ErrInvalidOption) {
		t.Fatalf("Start(WithPendingTimeout(-1s)) = %v; want ErrInvalidOption", err)
	}
}

// The pending timeout bounds the wait for a node, not for the
// constructor: calls on a placed actor whose constructor runs longer wait
// for it.
func TestPendingTimeoutSparesSlowConstructors(t *testing.T) {
	const timeout = 50 * time.Millisecond
	g := newGate(1)
	defer g.open()
	b := &behaviour{ctor: func(ctx context.Context, _ *testv1.ProbeInit) error { return g.pass(ctx) }}
	sys := start(t, b, actor.WithPendingTimeout(timeout))
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	fut := h.Get(context.Background(), &testv1.GetRequest{})
	g.wait(t, 1)
	<-time.After(4 * timeout) // the timeout passes while the constructor runs
	g.open()
	ctx := testCtx(t)
	if _, err := fut.Get(ctx); err != nil {
		t.Fatalf("call on an actor placed but constructing: %v; want it to wait for the constructor", err)
	}
}
