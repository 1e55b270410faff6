package bench

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protodelim"

	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// echoConn is a connection to the echo server. Its sends and receives may
// run on two goroutines, one of each at a time.
type echoConn struct {
	srv  *serverProc
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	sum  int64 // the server's running sum the next response must show, less its request's By
	resp testv1.AddResponse
}

// dialEcho starts an echo server process and connects to it. close ends
// both.
func dialEcho() (*echoConn, error) {
	srv, err := startServer(serverEcho)
	if err != nil {
		return nil, err
	}
	conn, err := net.Dial("tcp", srv.addr)
	if err != nil {
		srv.stop()
		return nil, fmt.Errorf("dialing the echo server: %w", err)
	}
	return &echoConn{srv: srv, conn: conn, r: bufio.NewReader(conn), w: bufio.NewWriter(conn)}, nil
}

// close closes the connection and stops the server.
func (e *echoConn) close() error {
	err := e.conn.Close()
	e.srv.stop()
	return err
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
	return errors.Join(<-sent, err)
}

// connectClient is a client of a Connect server process's Add procedure,
// speaking h2c.
type connectClient struct {
	*connect.Client[testv1.AddRequest, testv1.AddResponse]
	srv       *serverProc
	transport *http.Transport
}

// dialConnect starts a Connect server process and returns a client of it.
// close ends both.
func dialConnect() (*connectClient, error) {
	srv, err := startServer(serverConnect)
	if err != nil {
		return nil, err
	}
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	transport := &http.Transport{Protocols: protocols}
	client := connect.NewClient[testv1.AddRequest, testv1.AddResponse](
		&http.Client{Transport: transport}, "http://"+srv.addr+testv1actor.ProbeAddProcedure)
	return &connectClient{Client: client, srv: srv, transport: transport}, nil
}

// close closes the client's connections and stops the server.
func (c *connectClient) close() error {
	c.transport.CloseIdleConnections()
	c.srv.stop()
	return nil
}
