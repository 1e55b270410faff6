package node

// queue is a FIFO of calls. A single call waits in the queue itself; a
// second one moves them to a ring buffer, which grows by doubling and is
// kept once made, so an actor that is called one call at a time allocates
// nothing and a steady actor does not allocate either.
type queue struct {
	one  *Call   // the only call, while buf is nil
	buf  []*Call // the ring, once two calls have waited at once
	head int32
	n    int32
}

func (q *queue) len() int { return int(q.n) }

func (q *queue) push(c *Call) {
	if q.buf == nil {
		if q.n == 0 {
			q.one, q.n = c, 1
			return
		}
		q.buf = make([]*Call, 4)
		q.buf[0], q.one, q.head = q.one, nil, 0
	}
	if int(q.n) == len(q.buf) {
		buf := make([]*Call, 2*len(q.buf))
		for i := range q.n {
			buf[i] = q.at(int(i))
		}
		q.buf, q.head = buf, 0
	}
	q.buf[(int(q.head)+int(q.n))%len(q.buf)] = c
	q.n++
}

// at returns the i-th call from the head; i < q.len().
func (q *queue) at(i int) *Call {
	if q.buf == nil {
		return q.one
	}
	return q.buf[(int(q.head)+i)%len(q.buf)]
}

func (q *queue) peek() *Call { return q.at(0) }

func (q *queue) pop() *Call {
	if q.buf == nil {
		c := q.one
		q.one, q.n = nil, 0
		return c
	}
	c := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = int32((int(q.head) + 1) % len(q.buf))
	q.n--
	return c
}

// drain removes and returns every call, oldest first.
func (q *queue) drain(into []*Call) []*Call {
	for q.n > 0 {
		into = append(into, q.pop())
	}
	return into
}

// compact removes the calls for which keep is false, keeping the order of
// the others.
func (q *queue) compact(keep func(*Call) bool) {
	if q.buf == nil {
		if q.n == 1 && !keep(q.one) {
			q.one, q.n = nil, 0
		}
		return
	}
	n := int32(0)
	for i := range int(q.n) {
		if c := q.at(i); keep(c) {
			q.buf[(int(q.head)+int(n))%len(q.buf)] = c
			n++
		}
	}
	for i := n; i < q.n; i++ {
		q.buf[(int(q.head)+int(i))%len(q.buf)] = nil
	}
	q.n = n
}
