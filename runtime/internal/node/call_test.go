package node

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/troupehq/troupe/runtime/internal/errs"
)

// newBlockingActor returns an actor whose one method returns its request
// once release is closed.
func newBlockingActor(t *testing.T, release <-chan struct{}, started chan<- struct{}) *Actor {
	t.Helper()
	m := &Method{
		Procedure:  "/test.v1.Block/Block",
		NewRequest: func() proto.Message { return new(wrapperspb.Int64Value) },
		Invoke: func(_ any, ctx context.Context, req proto.Message) (proto.Message, error) {
			started <- struct{}{}
			select {
			case <-release:
				return req, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		},
	}
	c := NewClass("test.v1.Block", nil, func() proto.Message { return new(wrapperspb.Int64Value) }, []*Method{m})
	n := New("n1", slog.New(slog.DiscardHandler))
	if err := n.Register(c, func(context.Context, proto.Message) (any, error) { return struct{}{}, nil }); err != nil {
		t.Fatal(err)
	}
	spec, _ := SpecFromProto(nil)
	a, err := n.NewActor(context.Background(), "a1", c, spec, c.NewInit(), "job", nil)
	if err != nil {
		t.Fatal(err)
	}
	n.Place(a)
	return a
}

type notifierFunc func(*Call)

func (f notifierFunc) CallDone(c *Call) { f(c) }

// notified inits c with InitNotify and a Notifier that checks it runs
// once, after the call is done, without the actor's lock (a.State takes
// it), and signals the returned channel.
func notified(t *testing.T, c *Call, ctx context.Context, m *Method, req proto.Message, a *Actor) <-chan struct{} {
	ch := make(chan struct{}, 2)
	var n atomic.Int32
	c.InitNotify(ctx, m, req, notifierFunc(func(got *Call) {
		if n.Add(1) != 1 {
			t.Error("CallDone ran twice")
		}
		if got != c {
			t.Error("CallDone got another call")
		}
		if c.state.Load() != callDone {
			t.Error("CallDone ran before the call was done")
		}
		if a != nil {
			a.State() // deadlocks if the actor's lock is held
		}
		ch <- struct{}{}
	}))
	return ch
}

func waitNotified(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: OnDone callback did not run", what)
	}
	select {
	case <-ch:
		t.Fatalf("%s: OnDone callback ran twice", what)
	case <-time.After(10 * time.Millisecond):
	}
}

func TestCallOnDone(t *testing.T) {
	t.Run("finish", func(t *testing.T) {
		a := newEchoActor(t)
		var c Call
		ch := notified(t, &c, context.Background(), a.Class.Methods[0], wrapperspb.Int64(7), a)
		a.Submit(&c)
		waitNotified(t, ch, "finish")
		if resp, err := c.Result(); err != nil || resp.(*wrapperspb.Int64Value).GetValue() != 7 {
			t.Fatalf("result = %v, %v", resp, err)
		}
	})

	t.Run("fail on a dead actor", func(t *testing.T) {
		a := newEchoActor(t)
		a.Kill(errs.Cause{Kind: errs.CauseKilled, Message: "test"}, false, false)
		var c Call
		ch := notified(t, &c, context.Background(), a.Class.Methods[0], wrapperspb.Int64(1), a)
		a.Submit(&c)
		waitNotified(t, ch, "fail")
		if _, err := c.Result(); err == nil {
			t.Fatal("a call to a dead actor succeeded")
		}
	})

	t.Run("fail and resolve", func(t *testing.T) {
		m := echoClass().Methods[0]
		var c Call
		ch := notified(t, &c, context.Background(), m, nil, nil)
		want := errors.New("boom")
		c.Fail(want)
		waitNotified(t, ch, "Fail")
		if _, err := c.Result(); err != want {
			t.Fatalf("err = %v, want %v", err, want)
		}

		var r Call
		ch = notified(t, &r, context.Background(), m, nil, nil)
		r.Resolve(wrapperspb.Int64(3), nil)
		waitNotified(t, ch, "Resolve")
		if resp, err := r.Result(); err != nil || resp.(*wrapperspb.Int64Value).GetValue() != 3 {
			t.Fatalf("result = %v, %v", resp, err)
		}
	})

	t.Run("cancel queued", func(t *testing.T) {
		release, started := make(chan struct{}), make(chan struct{}, 1)
		a := newBlockingActor(t, release, started)
		defer close(release)
		var first Call
		first.Init(context.Background(), a.Class.Methods[0], wrapperspb.Int64(1))
		a.Submit(&first)
		<-started
		ctx, cancel := context.WithCancel(context.Background())
		var c Call
		ch := notified(t, &c, ctx, a.Class.Methods[0], wrapperspb.Int64(2), a)
		a.Submit(&c)
		cancel()
		waitNotified(t, ch, "cancel")
		if _, err := c.Result(); err == nil {
			t.Fatal("a cancelled call succeeded")
		}
	})

	t.Run("death", func(t *testing.T) {
		release, started := make(chan struct{}), make(chan struct{}, 1)
		a := newBlockingActor(t, release, started)
		defer close(release)
		var running, queued Call
		chRunning := notified(t, &running, context.Background(), a.Class.Methods[0], wrapperspb.Int64(1), a)
		a.Submit(&running)
		<-started
		chQueued := notified(t, &queued, context.Background(), a.Class.Methods[0], wrapperspb.Int64(2), a)
		a.Submit(&queued)
		a.Kill(errs.Cause{Kind: errs.CauseKilled, Message: "test"}, false, false)
		waitNotified(t, chRunning, "death, running")
		waitNotified(t, chQueued, "death, queued")
		for _, c := range []*Call{&running, &queued} {
			if _, err := c.Result(); err == nil {
				t.Fatal("a call to a killed actor succeeded")
			}
		}
	})
}

func TestCallAbort(t *testing.T) {
	t.Run("queued", func(t *testing.T) {
		release, started := make(chan struct{}), make(chan struct{}, 1)
		a := newBlockingActor(t, release, started)
		defer close(release)
		var first, c Call
		first.Init(context.Background(), a.Class.Methods[0], wrapperspb.Int64(1))
		a.Submit(&first)
		<-started
		ch := notified(t, &c, context.Background(), a.Class.Methods[0], wrapperspb.Int64(2), a)
		a.Submit(&c)
		c.Abort()
		waitNotified(t, ch, "abort queued")
		if _, err := c.Result(); !errors.Is(err, context.Canceled) {
			t.Fatalf("aborted queued call: %v, want canceled", err)
		}
		c.Abort() // once done: nothing
	})

	t.Run("running", func(t *testing.T) {
		release, started := make(chan struct{}), make(chan struct{}, 1)
		a := newBlockingActor(t, release, started)
		defer close(release)
		var c Call
		ch := notified(t, &c, context.Background(), a.Class.Methods[0], wrapperspb.Int64(1), a)
		a.Submit(&c)
		<-started
		c.Abort() // the method sees its ctx end
		waitNotified(t, ch, "abort running")
		if _, err := c.Result(); !errors.Is(err, context.Canceled) {
			t.Fatalf("aborted running call: %v, want canceled", err)
		}
	})
}

// Watch sends once when the result is set, or reports that it is set
// already; racing the completion, every watcher gets exactly one of the
// two. Done's channel, made before or after, closes too.
func TestCallWatch(t *testing.T) {
	m := echoClass().Methods[0]
	for round := range 200 {
		var c Call
		c.Init(context.Background(), m, nil)
		early := c.Done()
		const watchers = 8
		ch := make(chan struct{}, watchers)
		var registered atomic.Int32
		var wg sync.WaitGroup
		for range watchers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if c.Watch(ch) {
					registered.Add(1)
				}
			}()
		}
		if round%2 == 0 {
			c.Resolve(wrapperspb.Int64(1), nil)
			wg.Wait()
		} else {
			wg.Wait()
			c.Resolve(wrapperspb.Int64(1), nil)
		}
		for range registered.Load() {
			select {
			case <-ch:
			case <-time.After(10 * time.Second):
				t.Fatalf("round %d: a registered watcher was not told", round)
			}
		}
		select {
		case <-ch:
			t.Fatalf("round %d: a watcher was told twice, or one that was done already", round)
		default:
		}
		if c.Watch(ch) {
			t.Fatalf("round %d: Watch after the result registered", round)
		}
		for _, done := range []<-chan struct{}{early, c.Done()} {
			select {
			case <-done:
			default:
				t.Fatalf("round %d: Done is not closed", round)
			}
		}
	}
}
