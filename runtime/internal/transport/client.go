package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/errs"
)

// Conn is a caller's connection to one node: one long-lived call stream,
// opened by the first call and opened again by the first call after it
// failed. A Conn is safe for concurrent use.
type Conn struct {
	client *connect.Client[actorv1.CallsRequest, actorv1.CallsResponse]
	cfg    config

	mu     sync.Mutex
	sess   *session
	closed bool
}

// Dial returns a Conn to the node serving [NewHandler] at baseURL (such as
// "http://10.0.0.7:7070"). It does not connect: the first call does.
// httpClient must speak HTTP/2; [NewH2CClient] does for http:// URLs.
func Dial(baseURL string, httpClient connect.HTTPClient, opts ...Option) *Conn {
	cfg := newConfig(opts)
	return &Conn{
		cfg: cfg,
		client: connect.NewClient[actorv1.CallsRequest, actorv1.CallsResponse](httpClient, baseURL+CallsProcedure,
			connect.WithReadMaxBytes(cfg.maxMessageBytes),
			connect.WithSendMaxBytes(cfg.maxMessageBytes),
			connect.WithAcceptCompression("gzip", nil, nil), // no compressed responses
		),
	}
}

// Close ends the Conn's stream. Calls still pending fail with unavailable
// and match [ErrClosed]; so do later calls.
func (c *Conn) Close() error {
	c.mu.Lock()
	s := c.sess
	c.sess, c.closed = nil, true
	c.mu.Unlock()
	if s != nil {
		s.fail(ErrClosed)
	}
	return nil
}

// Call sends env to the node and returns at once. The Conn takes env: it
// sets its id and, from ctx, its deadline. When ctx ends before the result,
// the call completes with canceled or deadline_exceeded: at once if it was
// not sent yet, else once the node, told to cancel it, has (a queued call
// has then left its actor's queue for good).
func (c *Conn) Call(ctx context.Context, env *actorv1.CallEnvelope) *Pending {
	p := &Pending{done: make(chan struct{})}
	c.call(ctx, p, env)
	return p
}

// Receiver takes the result of a call made with [Conn.CallFunc].
type Receiver interface {
	// Receive gets what [Pending.Result] would return. It is called
	// exactly once per call, never before CallFunc returns, most often on
	// the goroutine that reads the stream's results: it must not block,
	// and it may make calls.
	Receive(*actorv1.ResultEnvelope, error)
}

// CallFunc is Call that reports the result to r instead of through Done;
// the Pending it returns is only for [Pending.Cancel]. p, when not nil,
// is a zero Pending for the call to use, so that a caller can allocate it
// with its own state; it must not be used for another call.
func (c *Conn) CallFunc(ctx context.Context, env *actorv1.CallEnvelope, r Receiver, p *Pending) *Pending {
	if p == nil {
		p = new(Pending)
	}
	p.then = r
	c.call(ctx, p, env)
	return p
}

func (c *Conn) call(ctx context.Context, p *Pending, env *actorv1.CallEnvelope) {
	if err := ctx.Err(); err != nil {
		p.finishLater(nil, errs.FromContext(err))
		return
	}
	if env.GetActorId() == "" || env.GetProcedure() == "" {
		// On the stream, empty names repeat the previous call's.
		p.finishLater(nil, connect.NewError(connect.CodeInvalidArgument, errors.New("a call names no actor or no procedure")))
		return
	}
	env.DeadlineUnixNano = 0
	if d, ok := ctx.Deadline(); ok {
		env.DeadlineUnixNano = d.UnixNano()
	}
	size := callSize(env) // with the id at its widest
	if size > c.cfg.maxMessageBytes-64 {
		p.finishLater(nil, connect.NewError(connect.CodeResourceExhausted,
			fmt.Errorf("call to %s: %d bytes is more than the node stream's message limit", env.GetProcedure(), size)))
		return
	}
	// A stream that fails between session and submit is replaced once; a
	// second failure in a row is the call's.
	for range 2 {
		s, err := c.session()
		if err != nil {
			p.finishLater(nil, err)
			return
		}
		if s.submit(ctx, p, env, size) {
			return
		}
	}
	p.finishLater(nil, unavailable(errors.New("the stream failed while the call was submitted")))
}

// session returns the current stream, opening one if there is none or the
// last one failed.
func (c *Conn) session() (*session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, unavailable(ErrClosed)
	}
	if c.sess == nil || c.sess.broken.Load() {
		c.sess = newSession(c)
	}
	return c.sess, nil
}

// session is one call stream of a Conn.
type session struct {
	conn   *Conn
	stream *connect.BidiStreamForClient[actorv1.CallsRequest, actorv1.CallsResponse]
	ctx    context.Context // the stream's; cancelled when it fails
	cancel context.CancelFunc
	wake   chan struct{}
	broken atomic.Bool // set first when the stream fails
	sent   atomic.Bool // set once a message went out: the stream is open

	// sendMu serializes the stream's Send and CloseRequest: the writer
	// takes it for each batch, a caller for a call it sends itself.
	sendMu sync.Mutex
	single actorv1.CallsRequest // the message a caller sends; guarded by sendMu

	mu      sync.Mutex
	err     error // why the stream failed; set once
	nextID  uint64
	pending map[uint64]*Pending
	calls   outbox[*Pending] // calls waiting to be sent
	cancels []uint64         // of calls sent
	// window is how many calls the node lets the stream have in flight:
	// sent and not yet answered (a cancelled call is answered once the
	// node has cancelled it). inFlight counts them; calls beyond the
	// window wait in calls.
	window   int
	inFlight int
}

func newSession(c *Conn) *session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{
		conn:    c,
		stream:  c.client.CallBidiStream(ctx),
		ctx:     ctx,
		cancel:  cancel,
		wake:    make(chan struct{}, 1),
		pending: make(map[uint64]*Pending),
		window:  minCallWindow, // until the node's grant arrives
	}
	go s.write()
	go s.read()
	return s
}

// submit queues the call on the stream; false means the stream has failed.
func (s *session) submit(ctx context.Context, p *Pending, env *actorv1.CallEnvelope, size int) bool {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return false
	}
	s.nextID++
	p.s, p.id, env.Id = s, s.nextID, s.nextID
	s.pending[p.id] = p
	// On a stream with nothing else in flight or queued, the caller sends
	// its call itself: one goroutine hand-off less for a call made alone.
	// Once calls are in flight the writer sends, so that calls made
	// meanwhile go together.
	alone := len(s.pending) == 1 && s.calls.empty() && len(s.cancels) == 0 && s.inFlight < s.window &&
		s.sent.Load() && s.sendMu.TryLock()
	wake := false
	if alone {
		p.sent = true
		s.inFlight++
	} else {
		p.env = env
		wake = s.calls.push(p, size) && len(s.cancels) == 0
	}
	if ctx.Done() != nil {
		// AfterFunc never runs f inline, so setting stop under the lock
		// publishes it to whoever later takes p out of pending.
		p.stop = context.AfterFunc(ctx, func() { s.abandon(p, ctx.Err()) })
	}
	s.mu.Unlock()
	if alone {
		s.sendAlone(env)
	}
	if wake {
		s.signal()
	}
	return true
}

// sendAlone sends env in a message of its own; the caller holds sendMu.
// Calls queued meanwhile woke the writer, which sends them once sendMu is
// free.
func (s *session) sendAlone(env *actorv1.CallEnvelope) {
	s.single.Calls = append(s.single.Calls[:0], env)
	err := s.stream.Send(&s.single)
	s.single.Calls[0] = nil
	s.sendMu.Unlock()
	if err != nil && !errors.Is(err, io.EOF) {
		s.fail(err) // the call is pending: it fails with the stream
	}
	// On io.EOF the response side has ended too: read reports why.
}

func (s *session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// abandon ends p with cause (its ctx's error). A call still queued is
// dropped and ends at once. A sent one is cancelled on the node, and ends
// when the node answers the cancel: by then a queued call has left the
// actor's queue, so a caller that hears canceled knows the call will not
// run. Its place in the window is free once that answer arrives.
func (s *session) abandon(p *Pending, cause error) {
	err := errs.FromContext(cause)
	s.mu.Lock()
	if s.pending[p.id] != p || p.cause != nil {
		s.mu.Unlock()
		return // the result or the stream's failure came first, or a cancel did
	}
	if !p.sent {
		delete(s.pending, p.id)
		p.env = nil // the writer skips it
		s.mu.Unlock()
		if p.stop != nil {
			p.stop()
		}
		p.finish(nil, err)
		return
	}
	p.cause = err
	wake := len(s.cancels) == 0
	s.cancels = append(s.cancels, p.id)
	s.mu.Unlock()
	if wake {
		s.signal()
	}
	if p.stop != nil {
		p.stop()
	}
}

// write sends queued calls, as many as the window has room for, and
// cancels until the stream fails.
func (s *session) write() {
	defer func() {
		if s.sent.Load() {
			s.sendMu.Lock()
			_ = s.stream.CloseRequest()
			s.sendMu.Unlock()
		}
	}()
	var msg actorv1.CallsRequest
	var spareCancels []uint64
	var batch []*Pending
	for {
		select {
		case <-s.wake:
		case <-s.ctx.Done():
			return
		}
		// Let callers that are already runnable (woken by the last
		// batch of results, say) queue their calls first: one yield, no
		// timer, and nothing to wait for when no one else is runnable.
		runtime.Gosched()
		for {
			s.sendMu.Lock()
			s.mu.Lock()
			if s.err != nil {
				s.mu.Unlock()
				s.sendMu.Unlock()
				return
			}
			room := s.window - s.inFlight
			if (s.calls.empty() || room <= 0) && len(s.cancels) == 0 {
				s.mu.Unlock()
				s.sendMu.Unlock()
				break
			}
			if room > 0 && !s.calls.empty() {
				batch, _ = s.calls.take(s.conn.cfg.maxBatchBytes, room)
				for _, p := range batch {
					if p.env != nil { // else abandoned while queued
						msg.Calls = append(msg.Calls, p.env)
						p.env, p.sent = nil, true
					}
				}
				s.calls.recycle(batch)
			}
			// Cancels are of calls sent in earlier messages; the node
			// applies them before this message's calls, and answers each.
			msg.Cancels, s.cancels = s.cancels, spareCancels[:0]
			s.inFlight += len(msg.Calls)
			s.mu.Unlock()
			elideRepeats(msg.Calls)
			err := s.stream.Send(&msg)
			s.sendMu.Unlock()
			s.sent.Store(true)
			clear(msg.Calls)
			msg.Calls = msg.Calls[:0]
			if cap(msg.Calls) > 1<<16 {
				msg.Calls = nil
			}
			spareCancels = msg.Cancels
			msg.Cancels = nil
			if err != nil {
				if !errors.Is(err, io.EOF) {
					s.fail(err)
				}
				// On io.EOF the response side has ended too: read's
				// Receive reports why and fails the stream.
				return
			}
		}
	}
}

// elideRepeats empties the actor ids and procedures that repeat the
// previous call's, which the node fills back in: a batch of calls to one
// actor carries its names once. The calls are the writer's alone by now.
func elideRepeats(calls []*actorv1.CallEnvelope) {
	var actor, procedure string
	for _, env := range calls {
		a, p := env.ActorId, env.Procedure
		if a == actor {
			env.ActorId = ""
		}
		if p == procedure {
			env.Procedure = ""
		}
		actor, procedure = a, p
	}
}

// read completes pending calls with their results until the stream fails.
func (s *session) read() {
	defer func() { _ = s.stream.CloseResponse() }()
	var done []*Pending
	granted := false
	for {
		msg, err := s.stream.Receive()
		if err != nil {
			s.fail(err)
			return
		}
		if !granted {
			// The node's first message comes with the headers that
			// grant the window.
			granted = true
			if n, err := strconv.Atoi(s.stream.ResponseHeader().Get(windowHeader)); err == nil && n > minCallWindow {
				s.mu.Lock()
				s.window = n
				s.mu.Unlock()
				s.signal()
			}
		}
		s.mu.Lock()
		for _, r := range msg.GetResults() {
			if p := s.pending[r.GetId()]; p != nil {
				delete(s.pending, r.GetId())
				if p.cause == nil { // else it is the answer to a cancel, or a result that came first
					p.res = r
				}
				done = append(done, p)
			}
		}
		// Each answered call frees its place in the window.
		s.inFlight -= len(done)
		wake := len(done) > 0 && !s.calls.empty() && s.inFlight+len(done) >= s.window
		s.mu.Unlock()
		if wake {
			s.signal()
		}
		for i, p := range done {
			if p.stop != nil {
				p.stop()
			}
			p.finish(p.res, p.cause)
			done[i] = nil
		}
		done = done[:0]
	}
}

// fail ends the stream: every pending call fails with unavailable and the
// next call on the Conn opens a new stream.
func (s *session) fail(cause error) {
	s.broken.Store(true)
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = unavailable(cause)
	pending := s.pending
	s.pending = nil
	s.calls.reset()
	s.cancels = nil
	s.mu.Unlock()
	s.cancel()
	if !errors.Is(cause, ErrClosed) {
		s.conn.cfg.logger.Debug("node stream failed", "error", cause, "pending", len(pending))
	}
	for _, p := range pending {
		if p.stop != nil {
			p.stop()
		}
		if p.cause != nil {
			p.finish(nil, p.cause) // cancelled: the caller hears why it stopped waiting
			continue
		}
		p.finish(nil, s.err)
	}
}
