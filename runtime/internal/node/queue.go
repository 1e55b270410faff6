package node

// queue is a FIFO ring buffer of calls. It grows by doubling and never
// shrinks below its initial size, so a steady actor does not allocate.
type queue struct {
	buf  []*Call
	head int
	n    int
}

func (q *queue) len() int { return q.n }

func (q *queue) push(c *Call) {
	if q.n == len(q.buf) {
		size := 2 * len(q.buf)
		if size == 0 {
			size = 4
		}
		buf := make([]*Call, size)
		for i := 0; i < q.n; i++ {
			buf[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = buf, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = c
	q.n++
}

func (q *queue) peek() *Call { return q.buf[q.head] }

func (q *queue) pop() *Call {
	c := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
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
