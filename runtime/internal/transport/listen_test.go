package transport_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/troupehq/troupe/runtime/internal/transport"
)

// A listener at its cap closes new connections at once and takes them
// again when one of its own closes.
func TestLimitListenerClosesConnectionsBeyondItsCap(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lis := transport.LimitListener(tcp, 2)
	defer lis.Close()
	accepted := make(chan net.Conn)
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", lis.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		return c
	}
	dial()
	dial()
	first, second := <-accepted, <-accepted
	defer second.Close()

	over := dial()
	if n, err := over.Read(make([]byte, 1)); err == nil {
		t.Fatalf("a third connection read %d bytes: want it closed", n)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("a third connection stayed open: %v", err)
	}
	if lis.Open() != 2 || lis.Rejected() != 1 {
		t.Errorf("Open, Rejected = %d, %d; want 2, 1", lis.Open(), lis.Rejected())
	}

	first.Close()
	first.Close() // a second Close gives back nothing more
	if lis.Open() != 1 {
		t.Errorf("Open after a Close = %d, want 1", lis.Open())
	}
	c := dial()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	next := <-accepted
	defer next.Close()
	if _, err := io.ReadFull(next, make([]byte, 1)); err != nil {
		t.Errorf("the connection after a slot freed: %v", err)
	}
}
