package transport

// outbox is the queue between the goroutines that produce messages (callers
// on a Conn, finished calls on a node) and the stream's one writer. It is
// guarded by the lock of the stream that owns it.
type outbox[T any] struct {
	items []T
	sizes []int // the encoded size of each item
	spare []T   // the writer's previous batch, reused for the next take
}

// push appends x of encoded size n and reports whether the outbox was empty,
// in which case the caller wakes the writer.
func (o *outbox[T]) push(x T, n int) (wasEmpty bool) {
	wasEmpty = len(o.items) == 0
	o.items = append(o.items, x)
	o.sizes = append(o.sizes, n)
	return wasEmpty
}

func (o *outbox[T]) empty() bool { return len(o.items) == 0 }

// take removes the oldest items, at most max of them, whose sizes add up to
// at most budget bytes, and always at least one, and returns them in order.
// all reports whether the outbox is now empty. max must be positive.
func (o *outbox[T]) take(budget, max int) (batch []T, all bool) {
	n, total := 0, 0
	for n < len(o.items) && n < max && (n == 0 || total+o.sizes[n] <= budget) {
		total += o.sizes[n]
		n++
	}
	if n == len(o.items) {
		batch = o.items
		o.items, o.spare = o.spare[:0], nil
		o.sizes = o.sizes[:0]
		return batch, true
	}
	batch = append(o.spare[:0], o.items[:n]...)
	o.spare = nil
	rest := copy(o.items, o.items[n:])
	clear(o.items[rest:])
	o.items = o.items[:rest]
	o.sizes = o.sizes[:copy(o.sizes, o.sizes[n:])]
	return batch, false
}

// recycle gives a sent batch back for reuse; it drops its references first.
func (o *outbox[T]) recycle(batch []T) {
	clear(batch)
	if cap(batch) <= 1<<16 {
		o.spare = batch[:0]
	}
}

// reset drops everything queued.
func (o *outbox[T]) reset() {
	clear(o.items)
	o.items, o.sizes = o.items[:0], o.sizes[:0]
}
