package cluster

import (
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
	hc, scheme := HTTPClient(tlsConf)
	hc = AuthClient(hc, token)
	head := actorv1connect.NewHeadServiceClient(hc, scheme+"://"+headAddr, connect.WithInterceptors(ClientErrors()))
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
	// Resolve, when set, finds the actor's node instead of the head's
	// GetActor (durable actors are found by class and id).
	Resolve func(ctx context.Context) (*actorv1.ActorInfo, error)

	mu     sync.Mutex
	nodeID string
	addr   string
	// first and last end the list of calls not finished, in the order
	// they were made (linked through their prev and next). Those whose
	// last attempt failed, or is doomed to (it went to the same node
	// before an attempt there failed), are unsettled until sent again; a
	// call is sent again only once every earlier one is settled, so
	// retried calls reach the actor in the order they were made.
	first, last *invocation
	unsettled   int
	sends       uint64
	changed     chan struct{} // closed when a flight settles or ends
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
	for f := t.first; f != nil && f != inv; f = f.next {
		if !f.settled {
			return false
		}
	}
	return true
}

// pushLocked appends inv to the calls not finished.
func (t *Target) pushLocked(inv *invocation) {
	inv.prev = t.last
	if t.last != nil {
		t.last.next = inv
	} else {
		t.first = inv
	}
	t.last = inv
}

// removeLocked takes inv out of the calls not finished.
func (t *Target) removeLocked(inv *invocation) {
	if inv.prev != nil {
		inv.prev.next = inv.next
	} else {
		t.first = inv.next
	}
	if inv.next != nil {
		inv.next.prev = inv.prev
	} else {
		t.last = inv.prev
	}
	inv.prev, inv.next = nil, nil
}

// sendLocked sends inv's next attempt to addr and settles it. The
// attempt's outcome goes to inv.attempted.
func (t *Target) sendLocked(inv *invocation, addr string) {
	t.sends++
	inv.sendNo, inv.sentTo = t.sends, addr
	if !inv.settled {
		inv.settled = true
		t.unsettled--
		t.notifyLocked()
	}
	// The first attempt uses the envelope and Pending allocated with the
	// call; one sent again gets new ones, as the stream that failed under
	// the last may still hold them.
	env, p := &inv.env, &inv.first
	if inv.attempts > 0 {
		env, p = new(actorv1.CallEnvelope), nil
	}
	inv.attempts++
	env.ActorId, env.Procedure, env.Request, env.Metadata = t.ID, inv.m.Procedure, inv.body, inv.md
	inv.pending = inv.c.conn(addr).CallFunc(inv.ctx, env, inv, p)
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
	for f := t.first; f != nil; f = f.next {
		if f.settled && f.sentTo == inv.sentTo && f.sendNo <= inv.sendNo {
			f.settled = false
			t.unsettled++
		}
	}
}

// finish removes inv from the flights and returns what ends its own ctx,
// if it has one.
func (t *Target) finish(inv *invocation) context.CancelFunc {
	t.mu.Lock()
	t.removeLocked(inv)
	if !inv.settled {
		t.unsettled--
	}
	t.notifyLocked()
	stop := inv.stopLocked()
	t.mu.Unlock()
	return stop
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

// invocation is one remote call with what its retries need.
type invocation struct {
	c *Client
	// ctx is the caller's, or, once the call is sent again, a child of it
	// that Cancel ends.
	ctx     context.Context
	t       *Target
	m       *node.Method
	body    []byte
	md      map[string]string
	done    Resolver
	retries int
	again   *resending // nil until the call is sent again

	// Guarded by t.mu.
	prev, next *invocation // in t's calls not finished
	sentTo     string
	sendNo     uint64
	pending    *transport.Pending // the last attempt
	attempts   uint32
	settled    bool
	cancelled  bool

	env   actorv1.CallEnvelope // the first attempt's
	first transport.Pending    // the first attempt's
}

// resending is what a call sent again needs, made the first time: most
// calls never are.
type resending struct {
	caller   context.Context // the caller's
	deadline time.Time       // when waiting for a node gives up; set by the first pause
	delay    time.Duration
	stop     context.CancelFunc // ends the invocation's ctx; guarded by t.mu
}

// Cancel ends the call with canceled and tells its node to cancel it.
func (inv *invocation) Cancel() {
	t := inv.t
	t.mu.Lock()
	if inv.cancelled {
		t.mu.Unlock()
		return
	}
	inv.cancelled = true
	p, stop := inv.pending, inv.stopLocked()
	t.mu.Unlock()
	if p != nil {
		p.Cancel() // nothing once the attempt has its result
	}
	if stop != nil {
		stop()
	}
}

// pause waits before the next attempt, longer each time.
func (inv *invocation) pause(why error) error {
	r := inv.again // set by retry, which calls pause
	if r.deadline.IsZero() {
		r.deadline = time.Now().Add(giveUp)
	}
	if time.Now().After(r.deadline) {
		return errs.Unavailable(&errs.ActorUnavailableError{ActorID: inv.t.ID, Class: inv.t.Class,
			Reason: fmt.Sprintf("no reachable node for %v: %v", giveUp, why)})
	}
	timer := time.NewTimer(r.delay)
	defer timer.Stop()
	r.delay = min(r.delay*2, 100*time.Millisecond)
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
	in, err := inv.lookup()
	if err != nil {
		if inv.ctx.Err() != nil {
			return "", errs.FromContext(inv.ctx.Err())
		}
		if connect.CodeOf(err) != connect.CodeUnavailable {
			return "", err
		}
		return "", inv.pause(err)
	}
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

// lookup asks the head for the actor's info.
func (inv *invocation) lookup() (*actorv1.ActorInfo, error) {
	if inv.t.Resolve != nil {
		return inv.t.Resolve(inv.ctx)
	}
	res, err := inv.c.head.GetActor(inv.ctx, connect.NewRequest(&actorv1.GetActorRequest{ActorId: inv.t.ID}))
	if err != nil {
		return nil, err
	}
	return res.Msg.GetActor(), nil
}

// resend sends inv again once the calls made before it have been: to the
// cached node, or to the one the head names.
func (inv *invocation) resend() error {
	t := inv.t
	for {
		ordered, err := t.awaitTurn(inv)
		if err != nil {
			return err
		}
		addr := t.address()
		if addr == "" {
			if addr, err = inv.resolve(); err != nil {
				return err
			}
			if addr == "" {
				continue
			}
		}
		t.mu.Lock()
		if !ordered || t.turnLocked(inv) {
			t.sendLocked(inv, addr)
			t.mu.Unlock()
			return nil
		}
		t.mu.Unlock() // an earlier call failed meanwhile: it goes first
	}
}

// Receive takes the outcome of inv's last attempt, on the goroutine that
// reads its node's results: the call ends there, or is sent again from a
// goroutine of its own, as that may wait.
func (inv *invocation) Receive(res *actorv1.ResultEnvelope, err error) {
	out, err, again := inv.settle(res, err)
	if again != nil {
		go inv.retry(again)
		return
	}
	inv.end(out, err)
}

// end removes inv from its target's flights and reports its outcome.
func (inv *invocation) end(out proto.Message, err error) {
	if stop := inv.t.finish(inv); stop != nil {
		stop()
	}
	inv.done.Resolve(out, err)
}

// stopLocked returns what ends the invocation's own ctx, nil if it has
// none. The caller holds t.mu.
func (inv *invocation) stopLocked() context.CancelFunc {
	if inv.again == nil {
		return nil
	}
	return inv.again.stop
}

// retry sends inv again, after a pause when why (the last attempt's
// failure) is set, and ends it when that fails. From here on the call
// has a context of its own, which Cancel ends.
func (inv *invocation) retry(why error) {
	inv.t.mu.Lock()
	if inv.cancelled {
		inv.t.mu.Unlock()
		inv.end(nil, errs.FromContext(context.Canceled))
		return
	}
	if inv.again == nil {
		inv.again = &resending{caller: inv.ctx, delay: time.Millisecond}
	}
	r := inv.again
	last := r.stop
	inv.ctx, r.stop = context.WithCancel(r.caller)
	inv.t.mu.Unlock()
	if last != nil {
		last()
	}
	if why != nil {
		if err := inv.pause(why); err != nil {
			inv.end(nil, err)
			return
		}
	}
	if err := inv.resend(); err != nil {
		inv.end(nil, err)
	}
}

// settle judges an attempt's outcome: the call's response or error, or,
// when again is set, the failure after which it is to be sent again.
func (inv *invocation) settle(res *actorv1.ResultEnvelope, err error) (out proto.Message, _ error, again error) {
	t := inv.t
	if err == nil {
		if res.GetCode() == 0 {
			out := inv.m.NewResponse()
			if err := proto.Unmarshal(res.GetResponse(), out); err != nil {
				return nil, connect.NewError(connect.CodeInternal, err), nil
			}
			return out, nil, nil
		}
		werr := transport.EnvelopeToError(res)
		if !isNotOnNode(werr) {
			err := FromWire(werr)
			var died *errs.ActorDiedError
			if !errors.As(err, &died) || died.Cause.Kind != errs.CauseNodeLost || inv.retries == 0 {
				return nil, err, nil
			}
			// Caught by its node's shutdown: it may restart elsewhere.
			if inv.retries > 0 {
				inv.retries--
			}
		}
		t.failed(inv)
		return nil, nil, werr
	}
	if inv.ctx.Err() != nil || connect.CodeOf(err) != connect.CodeUnavailable {
		return nil, err, nil
	}
	t.failed(inv)
	if delivered(err) {
		if inv.retries == 0 {
			return nil, errs.Unavailable(&errs.ActorUnavailableError{ActorID: t.ID, Class: t.Class,
				Reason: fmt.Sprintf("its node %s was lost while the call was in flight and the call has no task retries: %v", inv.sentTo, err)}), nil
		}
		if inv.retries > 0 {
			inv.retries--
		}
	}
	return nil, nil, err
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
