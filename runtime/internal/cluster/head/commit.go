package head

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/internal/errs"
)

// backend is where the committer writes: the head's bbolt store, or in
// tests a store that is slow on purpose.
type backend interface {
	apply(ops []op) error
}

// committer writes the head's changes to its store off the lock every
// request takes, in the order they were made. A request changes the
// tables under the lock, hands the change's records to the committer and
// answers once they are written, so an acknowledged change survives a
// crash; changes that queue while a write is under way go to the store
// together in the next transaction (group commit).
type committer struct {
	st  backend
	log *slog.Logger

	mu     sync.Mutex
	queue  []batch
	closed bool
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

// batch is one change's records and where the outcome of their write goes.
type batch struct {
	ops  []op
	done chan error
}

var errCommitterClosed = errors.New("the head is closed")

func newCommitter(st backend, log *slog.Logger) *committer {
	c := &committer{st: st, log: log, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// submit queues ops for writing. The channel it returns receives the
// write's outcome: nil once the records are in the store.
func (c *committer) submit(ops []op) <-chan error {
	done := make(chan error, 1)
	if len(ops) == 0 {
		done <- nil
		return done
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		done <- errCommitterClosed
		return done
	}
	c.queue = append(c.queue, batch{ops: ops, done: done})
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return done
}

func (c *committer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.wake:
			c.flush()
		case <-c.stop:
			c.flush()
			return
		}
	}
}

// flush writes everything queued, one transaction for all the batches
// queued so far, until the queue is empty.
func (c *committer) flush() {
	for {
		c.mu.Lock()
		q := c.queue
		c.queue = nil
		c.mu.Unlock()
		if len(q) == 0 {
			return
		}
		var all []op
		for _, b := range q {
			all = append(all, b.ops...)
		}
		err := c.st.apply(all)
		if err != nil {
			c.log.Error("head state: write failed", "error", err)
		}
		for _, b := range q {
			b.done <- err
		}
	}
}

// close writes what is queued and stops; later submits fail.
func (c *committer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	close(c.stop)
	<-c.done
}

// written waits for a change's write (persistLocked's channel) or for ctx
// to end: a request that changed the head answers only once its change is
// in the store.
func written(ctx context.Context, done <-chan error) error {
	select {
	case err := <-done:
		if err != nil {
			return connect.NewError(connect.CodeUnavailable, fmt.Errorf("head state: the change was not stored: %w", err))
		}
		return nil
	case <-ctx.Done():
		return errs.FromContext(ctx.Err())
	}
}
