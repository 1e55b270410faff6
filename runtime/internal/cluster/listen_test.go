package cluster_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// h2Preface opens an HTTP/2 connection with prior knowledge: the client
// preface and an empty SETTINGS frame.
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + "\x00\x00\x00\x04\x00\x00\x00\x00\x00"

// Connections that never authenticate do not hold a node's memory and
// descriptors: whatever they send, they are closed within the idle
// timeout.
func TestIdleUnauthenticatedConnectionsAreClosed(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 5,000 connections")
	}
	const conns = 5000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < conns+1000 {
		lim.Cur = min(lim.Max, conns+1000)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < conns+1000 {
			t.Skipf("needs %d open files: %v", conns+1000, err)
		}
	}
	const idle = 2 * time.Second
	c := newCluster(t, "--idle-timeout", idle.String(), "--max-connections", "6000")

	// What an idle crowd sends, four ways: nothing; an HTTP/2 preface;
	// an HTTP/1 request without the token; half an HTTP/1 request.
	kinds := []string{"", h2Preface, "GET / HTTP/1.1\r\nHost: node\r\n\r\n", "GET / HTTP/1.1\r\nHost: node\r\n"}
	type result struct {
		kind   int
		lasted time.Duration
		err    error
	}
	results := make(chan result, conns)
	var wg sync.WaitGroup
	d := net.Dialer{Timeout: 10 * time.Second}
	for i := range conns {
		kind := i % len(kinds)
		conn, err := d.Dial("tcp", c.headAddr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		opened := time.Now()
		if _, err := io.WriteString(conn, kinds[kind]); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		// Closed within the idle timeout, with slack for a loaded
		// machine; a connection kept open fails at the deadline.
		_ = conn.SetReadDeadline(opened.Add(idle + 5*time.Second))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			_, err := io.Copy(io.Discard, conn)
			if errors.Is(err, syscall.ECONNRESET) {
				err = nil
			}
			results <- result{kind, time.Since(opened), err}
		}()
	}
	wg.Wait()
	close(results)
	var longest [4]time.Duration
	kept := 0
	for r := range results {
		if r.err != nil {
			kept++
			if kept <= 3 {
				t.Errorf("connection sending %q: not closed after %v: %v", kinds[r.kind], r.lasted.Round(time.Millisecond), r.err)
			}
		}
		longest[r.kind] = max(longest[r.kind], r.lasted)
	}
	if kept > 0 {
		t.Errorf("%d of %d idle connections were not closed", kept, conns)
	}
	for k, l := range longest {
		t.Logf("sending %q: the last closed after %v", kinds[k], l.Round(time.Millisecond))
	}
	// The node still serves an authenticated caller.
	sys := c.connect("after")
	if _, err := sys.ListActors(context.Background()); err != nil {
		t.Errorf("ListActors after the crowd: %v", err)
	}
}

// A request with a wrong token ends its connection, in HTTP/1 and HTTP/2.
func TestFailedTokenClosesTheConnection(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewUnstartedServer(cluster.RequireToken("secret", ok))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	// HTTP/1: the answer, then the end of the connection.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer wrong\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", res.StatusCode)
	}
	if n, err := br.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("HTTP/1 after a wrong token: read %d, %v; want the connection closed (EOF)", n, err)
	}

	// HTTP/2: the connection is not used again.
	hc := transport.NewH2CClient()
	defer hc.CloseIdleConnections()
	var reused []bool
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
	for _, token := range []string{"secret", "wrong", "secret"} {
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if len(reused) != 3 || !reused[1] || reused[2] {
		t.Errorf("HTTP/2 connections reused = %v, want [false true false]: a new connection after the wrong token", reused)
	}
}
