package transport

import (
	"crypto/tls"
	"net/http"
	"time"

	"github.com/troupehq/troupe/internal/dial"
)

// The limits of a connection to a server from NewH2CServer.
const (
	// DefaultIdleTimeout is how long a connection may stay idle: no
	// request in flight and none begun (an HTTP/2 connection with no open
	// stream). It is then closed.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultReadHeaderTimeout bounds the time from a connection's
	// opening, or its next request's first byte, to the end of the
	// request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultMaxConnections is how many connections a node's listener
	// holds open at once.
	DefaultMaxConnections = 4096
	// serverPingAfter is how long an HTTP/2 connection may send nothing
	// before the server pings it; serverPingTimeout is how long the
	// server then waits for the answer before it closes the connection.
	serverPingAfter   = 30 * time.Second
	serverPingTimeout = 15 * time.Second
)

// NewH2CServer returns an HTTP server for h that speaks HTTP/1.1 and
// cleartext HTTP/2 with prior knowledge (h2c), so one port serves node
// streams, Connect and gRPC callers, and plain HTTP. The caller sets Addr or
// calls Serve with its own listener (wrap it in [LimitListener]).
//
// A connection that sends no complete request headers within
// DefaultReadHeaderTimeout, or stays idle for idleTimeout
// (DefaultIdleTimeout if ≤ 0), is closed; the read-header timeout is
// shortened to idleTimeout if that is shorter. An HTTP/2 peer silent for
// 30 s is pinged and dropped if it does not answer within 15 s. Long
// streams, such as nodes' call streams, are not idle and stay open.
func NewH2CServer(h http.Handler, idleTimeout time.Duration) *http.Server {
	if idleTimeout <= 0 {
		idleTimeout = DefaultIdleTimeout
	}
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return &http.Server{
		Handler:           h,
		Protocols:         p,
		ReadHeaderTimeout: min(DefaultReadHeaderTimeout, idleTimeout),
		IdleTimeout:       idleTimeout,
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams:          1000,
			MaxReceiveBufferPerConnection: 4<<20 - 1,
			MaxReceiveBufferPerStream:     4<<20 - 1,
			SendPingTimeout:               serverPingAfter,
			PingTimeout:                   serverPingTimeout,
		},
	}
}

// NewH2CClient returns an HTTP client that speaks cleartext HTTP/2 with
// prior knowledge to http:// URLs, as [Dial] needs: bidi streams require
// HTTP/2. It pings an idle connection after 15 s without frames and drops
// it when the ping is not answered within 10 s, so a peer that vanished
// without closing its connections is noticed. Share one client between the
// Conns of a process: connections to the same host are reused.
func NewH2CClient() *http.Client { return NewHTTP2Client(nil) }

// NewHTTP2Client returns an HTTP/2 client tuned like [NewH2CClient]:
// cleartext with prior knowledge when tlsConf is nil, over TLS with tlsConf
// (which it copies) otherwise: the client every Troupe process reaches a
// cluster with.
func NewHTTP2Client(tlsConf *tls.Config) *http.Client {
	hc, _ := dial.HTTP2Client(tlsConf)
	return hc
}
