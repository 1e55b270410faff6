package cluster

import (
	"container/list"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"syscall"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// notOnNode is the sentinel a node answers with for a call to an actor it
// does not host: the caller resolves the actor again.
const notOnNode = "not_on_node"

// giveUp bounds how long a call waits for an actor that has no node, or
// whose node cannot be reached, before it fails with actor-unavailable.
const giveUp = 60 * time.Second

// Client is a process's connection to a cluster: the head's client for the
// control plane and one transport connection per node it calls.
type Client struct {
	Head actorv1connect.HeadServiceClient
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
	hc, scheme := HTTPClient(tlsConf)
	hc = AuthClient(hc, token)
	return &Client{
		Head: actorv1connect.NewHeadServiceClient(hc, scheme+"://"+headAddr, connect.WithInterceptors(ClientErrors())),
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

// ClientErrors is the client interceptor that turns runtime errors from the
// wire back into typed errors.
func ClientErrors() connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			res, err := next(ctx, req)
			return res, FromWire(err)
		}
	})
}

// ServerErrors is the handler interceptor that attaches the details of
// runtime errors, for ClientErrors to rebuild.
func ServerErrors() connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			res, err := next(ctx, req)
			return res, ToWire(err)
		}
	})
}

// Target is an actor in another process as a caller sees it, with the
// node it was last resolved to and the calls to it in flight.
type Target struct {
	ID, Class, Name, Namespace string
	// MaxTaskRetries is the actor's; a method may override it.
	MaxTaskRetries int

	mu     sync.Mutex
	nodeID string
	addr   string
	// flights are the calls not finished, in the order they were made.
	// Those whose last attempt failed, or is doomed to (it went to the
	// same node before an attempt there failed), are unsettled until sent
	// again; a call is sent again only once every earlier one is settled,
	// so retried calls reach the actor in the order they were made.
	flights   list.List
	unsettled int
	sends     uint64
	changed   chan struct{} // closed when a flight settles or ends
}

// orderWait bounds how long a call to be sent again waits for earlier
// calls to be sent again first: a call stuck on a node that neither
// answers nor fails must not hold the others forever.
const orderWait = 10 * time.Second

// NewTarget returns the target of the actor info describes.
func NewTarget(in *actorv1.ActorInfo) *Target {
	return &Target{ID: in.GetActorId(), Class: in.GetClass(), Name: in.GetName(), Namespace: in.GetNamespace(),
		MaxTaskRetries: int(in.GetSpec().GetMaxTaskRetries()), nodeID: in.GetNodeId(), addr: in.GetNodeAddress()}
}

// Node returns the id of the node the actor was last resolved to.
func (t *Target) Node() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.nodeID
}

func (t *Target) address() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addr
}

func (t *Target) set(in *actorv1.ActorInfo) {
	t.mu.Lock()
	t.nodeID, t.addr = in.GetNodeId(), in.GetNodeAddress()
	t.mu.Unlock()
}

func (t *Target) notifyLocked() {
	if t.changed != nil {
		close(t.changed)
		t.changed = nil
	}
}

// turnLocked reports whether every call made before inv is settled.
func (t *Target) turnLocked(inv *invocation) bool {
	for e := t.flights.Front(); e != nil && e != inv.elem; e = e.Next() {
		if !e.Value.(*invocation).settled {
			return false
		}
	}
	return true
}

// sendLocked sends inv's next attempt to addr and settles it.
func (t *Target) sendLocked(inv *invocation, addr string) *transport.Pending {
	t.sends++
	inv.sendNo, inv.sentTo = t.sends, addr
	if !inv.settled {
		inv.settled = true
		t.unsettled--
		t.notifyLocked()
	}
	return inv.c.conn(addr).Call(inv.ctx, &actorv1.CallEnvelope{ActorId: t.ID, Procedure: inv.m.Procedure, Request: inv.body, Metadata: inv.md})
}

// failed records that inv's attempt did not reach the actor: the cached
// address is dropped, and inv and every call sent to the same node before
// it must be sent again, in order.
func (t *Target) failed(inv *invocation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.addr == inv.sentTo {
		t.addr = ""
	}
	if !inv.settled {
		return
	}
	for e := t.flights.Front(); e != nil; e = e.Next() {
		f := e.Value.(*invocation)
		if f.settled && f.sentTo == inv.sentTo && f.sendNo <= inv.sendNo {
			f.settled = false
			t.unsettled++
		}
	}
}

// finish removes inv from the flights.
func (t *Target) finish(inv *invocation) {
	t.mu.Lock()
	t.flights.Remove(inv.elem)
	if !inv.settled {
		t.unsettled--
	}
	t.notifyLocked()
	t.mu.Unlock()
}

// awaitTurn waits until every call made before inv is settled, for at
// most orderWait; it reports whether the order still binds.
func (t *Target) awaitTurn(inv *invocation) (ordered bool, err error) {
	var timeout <-chan time.Time
	for {
		t.mu.Lock()
		if t.turnLocked(inv) {
			t.mu.Unlock()
			return true, nil
		}
		if t.changed == nil {
			t.changed = make(chan struct{})
		}
		ch := t.changed
		t.mu.Unlock()
		if timeout == nil {
			timer := time.NewTimer(orderWait)
			defer timer.Stop()
			timeout = timer.C
		}
		select {
		case <-ch:
		case <-timeout:
			return false, nil
		case <-inv.ctx.Done():
			return false, errs.FromContext(inv.ctx.Err())
		}
	}
}

// Invoke calls method m of t with req on the actor's node and calls done
// with the outcome, from another goroutine. When t's node is known, the
// call is queued on that node's stream before Invoke returns, so one
// caller's calls reach the node in the order it made them.
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
func (c *Client) Invoke(ctx context.Context, t *Target, m *node.Method, req proto.Message, metadata map[string]string, done func(proto.Message, error)) {
	body, err := proto.Marshal(req)
	if err != nil {
		done(nil, connect.NewError(connect.CodeInvalidArgument, err))
		return
	}
	inv := &invocation{c: c, ctx: ctx, t: t, m: m, body: body, md: metadata, retries: t.MaxTaskRetries,
		deadline: time.Now().Add(giveUp), delay: time.Millisecond}
	if m.HasRetries {
		inv.retries = int(m.MaxTaskRetries)
	}
	var first *transport.Pending
	t.mu.Lock()
	inv.elem = t.flights.PushBack(inv)
	t.unsettled++
	if t.addr != "" && t.unsettled == 1 {
		first = t.sendLocked(inv, t.addr)
	}
	t.mu.Unlock()
	go func() {
		res, err := inv.run(first)
		t.finish(inv)
		done(res, err)
	}()
}

// invocation is one remote call with what its retries need.
type invocation struct {
	c        *Client
	ctx      context.Context
	t        *Target
	m        *node.Method
	body     []byte
	md       map[string]string
	retries  int
	deadline time.Time
	delay    time.Duration

	// Guarded by t.mu.
	elem    *list.Element
	settled bool
	sentTo  string
	sendNo  uint64
}

// pause waits before the next attempt, longer each time.
func (inv *invocation) pause(why error) error {
	if time.Now().After(inv.deadline) {
		return errs.Unavailable(&errs.ActorUnavailableError{ActorID: inv.t.ID, Class: inv.t.Class,
			Reason: fmt.Sprintf("no reachable node for %v: %v", giveUp, why)})
	}
	timer := time.NewTimer(inv.delay)
	defer timer.Stop()
	inv.delay = min(inv.delay*2, 100*time.Millisecond)
	select {
	case <-timer.C:
		return nil
	case <-inv.ctx.Done():
		return errs.FromContext(inv.ctx.Err())
	}
}

// resolve asks the head where the actor lives; "" means it has no node
// yet and the caller should pause.
func (inv *invocation) resolve() (string, error) {
	t := inv.t
	res, err := inv.c.Head.GetActor(inv.ctx, connect.NewRequest(&actorv1.GetActorRequest{ActorId: t.ID}))
	if err != nil {
		if inv.ctx.Err() != nil {
			return "", errs.FromContext(inv.ctx.Err())
		}
		if connect.CodeOf(err) != connect.CodeUnavailable {
			return "", err
		}
		return "", inv.pause(err)
	}
	in := res.Msg.GetActor()
	if in.GetState() == actorv1.ActorState_ACTOR_STATE_DEAD {
		return "", errs.Died(&errs.ActorDiedError{ActorID: t.ID, Class: t.Class, Name: t.Name,
			Cause: CauseFromProto(in.GetDeathCause()), Restarts: int(in.GetRestarts())})
	}
	if in.GetNodeAddress() == "" {
		return "", inv.pause(errors.New(in.GetPendingReason()))
	}
	t.set(in)
	return in.GetNodeAddress(), nil
}

// resend sends inv again once the calls made before it have been: to the
// cached node, or to the one the head names.
func (inv *invocation) resend() (*transport.Pending, error) {
	t := inv.t
	for {
		ordered, err := t.awaitTurn(inv)
		if err != nil {
			return nil, err
		}
		addr := t.address()
		if addr == "" {
			if addr, err = inv.resolve(); err != nil {
				return nil, err
			}
			if addr == "" {
				continue
			}
		}
		t.mu.Lock()
		if !ordered || t.turnLocked(inv) {
			p := t.sendLocked(inv, addr)
			t.mu.Unlock()
			return p, nil
		}
		t.mu.Unlock() // an earlier call failed meanwhile: it goes first
	}
}

func (inv *invocation) run(p *transport.Pending) (proto.Message, error) {
	t := inv.t
	for {
		if p == nil {
			var err error
			if p, err = inv.resend(); err != nil {
				return nil, err
			}
		}
		<-p.Done()
		res, err := p.Result()
		p = nil
		if err == nil {
			if res.GetCode() == 0 {
				out := inv.m.NewResponse()
				if err := proto.Unmarshal(res.GetResponse(), out); err != nil {
					return nil, connect.NewError(connect.CodeInternal, err)
				}
				return out, nil
			}
			werr := transport.EnvelopeToError(res)
			if !isNotOnNode(werr) {
				err := FromWire(werr)
				var died *errs.ActorDiedError
				if !errors.As(err, &died) || died.Cause.Kind != errs.CauseNodeLost || inv.retries == 0 {
					return nil, err
				}
				// Caught by its node's shutdown: it may restart elsewhere.
				if inv.retries > 0 {
					inv.retries--
				}
			}
			t.failed(inv)
			if perr := inv.pause(werr); perr != nil {
				return nil, perr
			}
			continue
		}
		if inv.ctx.Err() != nil || connect.CodeOf(err) != connect.CodeUnavailable {
			return nil, err
		}
		t.failed(inv)
		if delivered(err) {
			if inv.retries == 0 {
				return nil, errs.Unavailable(&errs.ActorUnavailableError{ActorID: t.ID, Class: t.Class,
					Reason: fmt.Sprintf("its node %s was lost while the call was in flight and the call has no task retries: %v", inv.sentTo, err)})
			}
			if inv.retries > 0 {
				inv.retries--
			}
		}
		if perr := inv.pause(err); perr != nil {
			return nil, perr
		}
	}
}

// delivered reports whether a failed call may have reached its node: it
// did not if the connection was refused.
func delivered(err error) bool {
	return !errors.Is(err, syscall.ECONNREFUSED)
}

func isNotOnNode(err error) bool {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return false
	}
	for _, d := range ce.Details() {
		if v, err := d.Value(); err == nil {
			if rd, ok := v.(*actorv1.RuntimeErrorDetail); ok && rd.GetSentinel() == notOnNode {
				return true
			}
		}
	}
	return false
}

// notOnNodeError is the error of a call to an actor this node does not host.
func notOnNodeError(id, nodeID string) error {
	ce := connect.NewError(connect.CodeNotFound, fmt.Errorf("no actor %s on node %s", id, nodeID))
	addDetail(ce, &actorv1.RuntimeErrorDetail{Sentinel: notOnNode})
	return ce
}
