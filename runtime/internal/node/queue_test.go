package node

import "testing"

// The queue keeps FIFO order while it holds its one call inline, when it
// moves to a ring, and as the ring wraps and grows.
func TestQueueOrder(t *testing.T) {
	calls := make([]*Call, 20)
	for i := range calls {
		calls[i] = new(Call)
	}
	var q queue
	next, want := 0, 0
	push := func(n int) {
		for range n {
			q.push(calls[next%len(calls)])
			next++
		}
	}
	pop := func(n int) {
		t.Helper()
		for range n {
			if got := q.peek(); got != calls[want%len(calls)] {
				t.Fatalf("peek: call %d is not next", want)
			}
			if got := q.pop(); got != calls[want%len(calls)] {
				t.Fatalf("pop: call %d is not next", want)
			}
			want++
		}
	}
	push(1)
	pop(1)
	if q.buf != nil {
		t.Fatal("one call at a time made a ring")
	}
	push(1)
	push(2) // to the ring
	for i := range q.len() {
		if q.at(i) != calls[want+i] {
			t.Fatalf("at(%d) is not call %d", i, want+i)
		}
	}
	pop(2)
	push(5) // wraps, then grows
	pop(4)
	push(9)
	if got := q.drain(nil); len(got) != 11 || got[0] != calls[want] || got[10] != calls[want+10] {
		t.Fatalf("drain returned %d calls out of order", len(got))
	}
	if q.len() != 0 {
		t.Fatalf("%d calls left after drain", q.len())
	}
}
