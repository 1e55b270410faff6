package node

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func echoClass() *Class {
	m := &Method{
		Procedure:  "/test.v1.Echo/Echo",
		NewRequest: func() proto.Message { return new(wrapperspb.Int64Value) },
		Invoke: func(_ any, _ context.Context, req proto.Message) (proto.Message, error) {
			return req, nil
		},
	}
	return NewClass("test.v1.Echo", nil, func() proto.Message { return new(wrapperspb.Int64Value) }, []*Method{m})
}

func newEchoActor(t *testing.T) *Actor {
	t.Helper()
	n := New("n1", slog.New(slog.DiscardHandler))
	c := echoClass()
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

// An actor whose calls have all returned holds no goroutine: the worker
// that ran them has ended before the last result was delivered.
func TestIdleActorHoldsNoGoroutine(t *testing.T) {
	a := newEchoActor(t)
	for i := range 100 {
		var c Call
		c.Init(context.Background(), a.Class.Methods[0], wrapperspb.Int64(int64(i)))
		a.Submit(&c)
		if err := c.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if resp, err := c.Result(); err != nil || resp.(*wrapperspb.Int64Value).GetValue() != int64(i) {
			t.Fatalf("call %d = %v, %v", i, resp, err)
		}
		a.mu.Lock()
		workers, running, pending := a.workers, a.runningLen(), a.pending
		a.mu.Unlock()
		if workers != 0 || running != 0 || pending != 0 {
			t.Fatalf("after call %d: %d workers, %d running, %d pending; want an idle actor", i, workers, running, pending)
		}
	}
}

func TestQueueGrowsAndKeepsOrder(t *testing.T) {
	var q queue
	calls := make([]*Call, 100)
	for i := range calls {
		calls[i] = &Call{seq: uint64(i)}
	}
	// Interleave pushes and pops so the ring wraps while it grows.
	next := 0
	for i, c := range calls {
		q.push(c)
		if i%3 == 2 {
			if got := q.pop(); got != calls[next] {
				t.Fatalf("pop = seq %d, want %d", got.seq, next)
			}
			next++
		}
	}
	for q.len() > 0 {
		if got := q.pop(); got != calls[next] {
			t.Fatalf("pop = seq %d, want %d", got.seq, next)
		}
		next++
	}
	if next != len(calls) {
		t.Fatalf("popped %d, want %d", next, len(calls))
	}
}

func TestMethodContext(t *testing.T) {
	parent, cancelParent := context.WithTimeout(context.Background(), time.Hour)
	defer cancelParent()
	var x methodCtx
	call := &Call{}
	x.init(parent, call)
	if CallFrom(&x) != call {
		t.Fatal("CallFrom does not find the call")
	}
	if d, ok := x.Deadline(); !ok || time.Until(d) < 59*time.Minute {
		t.Fatalf("Deadline = %v, %v; want the parent's", d, ok)
	}
	// A context derived from the method's is cancelled with it.
	child, cancelChild := context.WithCancel(&x)
	defer cancelChild()
	if x.Err() != nil {
		t.Fatal("cancelled too early")
	}
	cancelParent()
	<-x.Done()
	<-child.Done()
	if x.Err() != context.Canceled || child.Err() != context.Canceled {
		t.Fatalf("Err = %v, child %v; want canceled", x.Err(), child.Err())
	}

	// Cancelled first, asked for Done after.
	var y methodCtx
	y.init(context.Background(), call)
	y.cancel(context.DeadlineExceeded)
	y.cancel(context.Canceled)
	<-y.Done()
	if y.Err() != context.DeadlineExceeded {
		t.Fatalf("Err = %v; want the first cause", y.Err())
	}
	fired := make(chan struct{})
	y.AfterFunc(func() { close(fired) })
	<-fired

	// AfterFunc's stop prevents the call.
	var z methodCtx
	z.init(context.Background(), call)
	stop := z.AfterFunc(func() { t.Error("stopped AfterFunc ran") })
	if !stop() || stop() {
		t.Fatal("stop did not report once")
	}
	z.cancel(context.Canceled)
}
