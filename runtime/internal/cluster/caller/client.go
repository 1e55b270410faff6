package caller

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// giveUp bounds how long a call waits for an actor that has no node, or
// whose node cannot be reached, before it fails with actor-unavailable.
const giveUp = 60 * time.Second

// Client is a process's connection to a cluster: the head's client for the
// control plane and one transport connection per node it calls.
type Client struct {
	// Head is the head's client; the requests safe to send again wait for
	// a head that cannot be reached (head_client.go).
	Head actorv1connect.HeadServiceClient
	// head is the same client without waiting: calls that look their
	// actor up have their own patience.
	head actorv1connect.HeadServiceClient
	HTTP *http.Client
	log  *slog.Logger
	// scheme is "https" with TLS, else "http".
	scheme string

	mu    sync.Mutex
	conns map[string]*transport.Conn
}

// NewClient returns a client of the head at headAddr ("HOST:PORT") whose
// requests carry token, over TLS when tlsConf is set.
func NewClient(headAddr, token string, tlsConf *tls.Config, log *slog.Logger) *Client {
	hc, scheme := cluster.HTTPClient(tlsConf)
	hc = cluster.AuthClient(hc, token)
	head := actorv1connect.NewHeadServiceClient(hc, scheme+"://"+headAddr, connect.WithInterceptors(cluster.ClientErrors()))
	return &Client{
		Head: headClient{head}, head: head,
		HTTP: hc, log: log, scheme: scheme, conns: map[string]*transport.Conn{},
	}
}

// Close closes the connections to nodes.
func (c *Client) Close() {
	c.mu.Lock()
	conns := c.conns
	c.conns = map[string]*transport.Conn{}
	c.mu.Unlock()
	for _, conn := range conns {
		_ = conn.Close()
	}
	c.HTTP.CloseIdleConnections()
}

func (c *Client) conn(addr string) *transport.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	conn, ok := c.conns[addr]
	if !ok {
		conn = transport.Dial(c.scheme+"://"+addr, c.HTTP, transport.WithLogger(c.log))
		c.conns[addr] = conn
	}
	return conn
}

// Resolver takes the outcome of a call made with [Client.Invoke].
type Resolver interface {
	// Resolve is called exactly once per call, with the response or the
	// error; it must not block.
	Resolve(proto.Message, error)
}

// Invoke calls method m of t with req on the actor's node and gives the
// outcome to r, from another goroutine. It returns what cancels the call,
// nil when the call already failed. When t's node is known, the call is
// queued on that node's stream before Invoke returns, so one caller's
// calls reach the node in the order it made them.
//
// Invoke resolves the actor's node from the head when it has none cached,
// and again when the node does not answer or no longer hosts the actor. A
// call that may have reached a node that was then lost is sent again only
// while it has task retries left; otherwise it fails with
// actor-unavailable. Calls sent again go in the order they were first
// made, and a call made meanwhile waits behind them. Nothing waits longer
// than ctx, nor longer than a minute for an actor without a reachable
// node.
//
// metadata travels with the call (trace context).
func (c *Client) Invoke(ctx context.Context, t *Target, m *node.Method, req proto.Message, metadata map[string]string, r Resolver) interface{ Cancel() } {
	body, err := proto.Marshal(req)
	if err != nil {
		r.Resolve(nil, connect.NewError(connect.CodeInvalidArgument, err))
		return nil
	}
	inv := &invocation{c: c, ctx: ctx, t: t, m: m, body: body, md: metadata, done: r, retries: t.MaxTaskRetries}
	if m.HasRetries {
		inv.retries = int(m.MaxTaskRetries)
	}
	t.mu.Lock()
	t.pushLocked(inv)
	t.unsettled++
	sent := t.addr != "" && t.unsettled == 1
	if sent {
		t.sendLocked(inv, t.addr)
	}
	t.mu.Unlock()
	if !sent {
		go inv.retry(nil)
	}
	return inv
}
