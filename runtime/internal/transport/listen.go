package transport

import (
	"net"
	"sync"
	"sync/atomic"
)

// LimitListener returns a listener that holds at most n of l's
// connections open at once. A connection accepted beyond that is closed at
// once, so the peer learns it right away instead of waiting in the
// kernel's backlog, and an idle crowd cannot take every descriptor of the
// process. n < 1 means no limit. Rejected reports how many were closed so.
func LimitListener(l net.Listener, n int) *LimitedListener {
	return &LimitedListener{Listener: l, max: int64(n)}
}

// A LimitedListener is a listener with a cap on its open connections.
type LimitedListener struct {
	net.Listener
	max      int64
	open     atomic.Int64
	rejected atomic.Int64
}

// Accept waits for the next connection under the cap.
func (l *LimitedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.max < 1 {
			return c, nil
		}
		if l.open.Add(1) > l.max {
			l.open.Add(-1)
			l.rejected.Add(1)
			_ = c.Close()
			continue
		}
		return &limitedConn{Conn: c, l: l}, nil
	}
}

// Open returns how many accepted connections are open.
func (l *LimitedListener) Open() int { return int(l.open.Load()) }

// Rejected returns how many connections were closed at once because the
// cap was reached.
func (l *LimitedListener) Rejected() int { return int(l.rejected.Load()) }

// limitedConn gives its slot back when closed, once.
type limitedConn struct {
	net.Conn
	l    *LimitedListener
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}
