package bench

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protodelim"

	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// echoConn is a connection to the echo server. Its sends and receives may
// run on two goroutines, one of each at a time.
type echoConn struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	sum  int64 // the server's running sum the next response must show, less its request's By
	resp testv1.AddResponse
}

// dialEcho starts an echo server process and connects to it; both end
// with tb.
func dialEcho(tb testing.TB) (*echoConn, *serverProc) {
	tb.Helper()
	srv := startServer(tb, serverEcho)
	conn, err := net.Dial("tcp", srv.addr)
	if err != nil {
		tb.Fatalf("dialing the echo server: %v", err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return &echoConn{conn: conn, r: bufio.NewReader(conn), w: bufio.NewWriter(conn)}, srv
}

// send writes n copies of req and flushes them.
func (e *echoConn) send(req *testv1.AddRequest, n int) error {
	for range n {
		if _, err := protodelim.MarshalTo(e.w, req); err != nil {
			return err
		}
	}
	return e.w.Flush()
}

// receive reads n responses to requests adding by, checking each sum.
func (e *echoConn) receive(by int64, n int) error {
	for range n {
		if err := protodelim.UnmarshalFrom(e.r, &e.resp); err != nil {
			return err
		}
		e.sum += by
		if got := e.resp.GetValue(); got != e.sum {
			return fmt.Errorf("echo server answered %d, want %d", got, e.sum)
		}
	}
	return nil
}

// roundTrip sends req and waits for its response.
func (e *echoConn) roundTrip(req *testv1.AddRequest) error {
	if err := e.send(req, 1); err != nil {
		return err
	}
	return e.receive(req.GetBy(), 1)
}

// pipeline sends n copies of req from a second goroutine while it reads
// the n responses.
func (e *echoConn) pipeline(req *testv1.AddRequest, n int) error {
	sent := make(chan error, 1)
	go func() { sent <- e.send(req, n) }()
	err := e.receive(req.GetBy(), n)
	if serr := <-sent; serr != nil {
		return serr
	}
	return err
}

// dialConnect starts a Connect server process and returns a client of its
// Add procedure speaking h2c; both end with tb.
func dialConnect(tb testing.TB) (*connect.Client[testv1.AddRequest, testv1.AddResponse], *serverProc) {
	tb.Helper()
	srv := startServer(tb, serverConnect)
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	transport := &http.Transport{Protocols: protocols}
	tb.Cleanup(transport.CloseIdleConnections)
	client := connect.NewClient[testv1.AddRequest, testv1.AddResponse](
		&http.Client{Transport: transport}, "http://"+srv.addr+testv1actor.ProbeAddProcedure)
	return client, srv
}
