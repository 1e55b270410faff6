package node

import (
	"context"
	"log/slog"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Compacting a wrapped ring keeps the calls kept, in order.
func TestQueueCompact(t *testing.T) {
	var q queue
	calls := make([]*Call, 40)
	for i := range calls {
		calls[i] = &Call{seq: uint64(i)}
	}
	for _, c := range calls[:30] {
		q.push(c)
	}
	for range 20 {
		q.pop()
	}
	for _, c := range calls[30:] {
		q.push(c) // the ring wraps
	}
	q.compact(func(c *Call) bool { return c.seq%3 == 0 })
	var got []uint64
	for q.len() > 0 {
		got = append(got, q.pop().seq)
	}
	want := []uint64{21, 24, 27, 30, 33, 36, 39}
	if len(got) != len(want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("kept %v, want %v", got, want)
		}
	}
}

// Calls cancelled while they wait behind a running call do not pile up in
// the actor's queue: it stays in proportion to the calls still pending.
func TestCancelledCallsLeaveTheQueue(t *testing.T) {
	release := make(chan struct{})
	m := &Method{
		Procedure:  "/test.v1.Block/Block",
		NewRequest: func() proto.Message { return new(wrapperspb.Int64Value) },
		Invoke: func(_ any, _ context.Context, req proto.Message) (proto.Message, error) {
			<-release
			return req, nil
		},
	}
	n := New("n1", slog.New(slog.DiscardHandler))
	class := NewClass("test.v1.Block", nil, func() proto.Message { return new(wrapperspb.Int64Value) }, []*Method{m})
	if err := n.Register(class, func(context.Context, proto.Message) (any, error) { return struct{}{}, nil }); err != nil {
		t.Fatal(err)
	}
	spec, _ := SpecFromProto(nil)
	a, err := n.NewActor(context.Background(), "a1", class, spec, class.NewInit(), "job", nil)
	if err != nil {
		t.Fatal(err)
	}
	n.Place(a)

	var first Call
	first.Init(context.Background(), m, wrapperspb.Int64(0))
	a.Submit(&first) // runs, and blocks the rest
	var live Call
	live.Init(context.Background(), m, wrapperspb.Int64(-1))
	a.Submit(&live) // waits at the head of the queue
	const cancelled = 10000
	for i := range cancelled {
		ctx, cancel := context.WithCancel(context.Background())
		c := new(Call)
		c.Init(ctx, m, wrapperspb.Int64(int64(i)))
		a.Submit(c)
		cancel()
		if err := c.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Result(); err == nil {
			t.Fatalf("call %d: no error, want canceled", i)
		}
	}
	a.mu.Lock()
	queued := 0
	for i := range a.groups() {
		queued += a.group(i).q.len()
	}
	a.mu.Unlock()
	if queued > 100 {
		t.Fatalf("%d calls in the queue after %d were cancelled, 1 pending", queued, cancelled)
	}
	close(release)
	if err := live.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := first.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}
