package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
)

// CallsProcedure is the path of the node call stream.
const CallsProcedure = "/actor.v1.NodeService/Calls"

// Dispatcher runs the calls that arrive on a node's streams. The cluster
// code implements it: it finds the actor, decodes the request and submits
// the call to the actor's mailbox.
type Dispatcher interface {
	// Dispatch starts call and returns without waiting for it, with what
	// cancels it, or nil when nothing can (it is already answered, say).
	//
	// ctx carries the caller's deadline, if it set one, and none of the
	// stream's values (trace context travels in the call's metadata). It
	// does not end when the caller cancels the call or the stream
	// ends: the transport calls the Canceler instead, so that a call costs
	// no context of its own. The dispatcher answers through reply exactly
	// once, from any goroutine, without blocking; an answer after a cancel
	// is dropped.
	Dispatch(ctx context.Context, call *actorv1.CallEnvelope, reply Reply) Canceler
}

// Canceler cancels a call a [Dispatcher] started.
type Canceler interface {
	// Cancel is called at most once per call, from any goroutine, and may
	// race with the call's answer.
	Cancel()
}

// CancelFunc adapts a function to [Canceler].
type CancelFunc func()

// Cancel calls f.
func (f CancelFunc) Cancel() { f() }

// DispatcherFunc adapts a function to [Dispatcher].
type DispatcherFunc func(ctx context.Context, call *actorv1.CallEnvelope, reply Reply) Canceler

// Dispatch calls f.
func (f DispatcherFunc) Dispatch(ctx context.Context, call *actorv1.CallEnvelope, reply Reply) Canceler {
	return f(ctx, call, reply)
}

// Reply answers one call that arrived on a node stream. It is a small
// value: pass it around by copy.
type Reply struct{ c *serverCall }

// Send queues res as the call's result, unless the call was cancelled or
// its stream ended; the transport sets the result's id. A nil res answers
// with an internal error. Send does not block.
func (r Reply) Send(res *actorv1.ResultEnvelope) { r.c.send(res) }

// NewHandler returns the path and handler of the node call stream, to mount
// on the node's mux next to its other Connect handlers.
func NewHandler(d Dispatcher, opts ...Option) (string, http.Handler) {
	cfg := newConfig(opts)
	h := &handler{d: d, cfg: cfg}
	return CallsProcedure, connect.NewBidiStreamHandler(CallsProcedure, h.serve,
		connect.WithReadMaxBytes(cfg.maxMessageBytes),
		connect.WithSendMaxBytes(cfg.maxMessageBytes),
		connect.WithCompression("gzip", nil, nil), // batches of small protos: not worth the CPU
	)
}

type handler struct {
	d   Dispatcher
	cfg config
}

// serverStream is one caller's stream on the node: the calls running for
// it and the results waiting for its writer.
type serverStream struct {
	cfg config
	ctx context.Context // ended with the stream
	// values is the context of a call without a deadline, and the parent
	// of one with: an empty one, as nothing of the HTTP request's context
	// is the call's, and calls end through their Canceler.
	values context.Context
	wake   chan struct{}

	mu      sync.Mutex
	ended   bool
	running map[uint64]*serverCall
	out     outbox[*actorv1.ResultEnvelope]
}

// serverCall is one running call.
type serverCall struct {
	s  *serverStream
	id uint64
	// stopTimer releases the deadline's timer; nil without a deadline.
	stopTimer context.CancelFunc

	// Guarded by s.mu.
	canceler  Canceler // what Dispatch returned; nil until it has
	cancelled bool     // a cancel came before Dispatch returned
}

func (h *handler) serve(ctx context.Context, stream *connect.BidiStream[actorv1.CallsRequest, actorv1.CallsResponse]) error {
	ctx, cancel := context.WithCancel(ctx)
	s := &serverStream{
		cfg:     h.cfg,
		ctx:     ctx,
		values:  context.Background(),
		wake:    make(chan struct{}, 1),
		running: make(map[uint64]*serverCall),
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		if err := s.write(stream); err != nil {
			h.cfg.logger.Debug("node stream: send failed", "peer", stream.Peer().Addr, "error", err)
		}
		cancel()
		s.cancelRunning() // the calls do not follow ctx
	}()
	err := s.read(stream, h.d)
	cancel()
	s.cancelRunning()
	<-writerDone
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil && ctx.Err() == nil {
		h.cfg.logger.Debug("node stream: receive failed", "peer", stream.Peer().Addr, "error", err)
	}
	return err
}

// read dispatches the stream's calls and applies its cancels until the
// stream ends.
func (s *serverStream) read(stream *connect.BidiStream[actorv1.CallsRequest, actorv1.CallsResponse], d Dispatcher) error {
	for {
		req, err := stream.Receive()
		if err != nil {
			return err
		}
		var actor, procedure string
		for _, env := range req.GetCalls() {
			// Empty names repeat the previous call's.
			if env.ActorId == "" {
				env.ActorId = actor
			}
			if env.Procedure == "" {
				env.Procedure = procedure
			}
			actor, procedure = env.ActorId, env.Procedure
			if err := s.dispatch(env, d); err != nil {
				return err
			}
		}
		for _, id := range req.GetCancels() {
			s.mu.Lock()
			c := s.running[id]
			delete(s.running, id)
			k := c.cancelLocked()
			s.mu.Unlock()
			c.end(k) // the dispatcher's later answer is dropped
		}
	}
}

func (s *serverStream) dispatch(env *actorv1.CallEnvelope, d Dispatcher) error {
	c := &serverCall{s: s, id: env.GetId()}
	ctx := s.values
	if dl := env.GetDeadlineUnixNano(); dl != 0 {
		ctx, c.stopTimer = context.WithDeadline(s.values, time.Unix(0, dl))
	}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		c.end(nil)
		return nil
	}
	if _, dup := s.running[c.id]; dup {
		s.mu.Unlock()
		c.end(nil)
		return connect.NewError(connect.CodeInvalidArgument, errors.New("node stream: call id reused while the call runs"))
	}
	s.running[c.id] = c
	s.mu.Unlock()
	k := d.Dispatch(ctx, env, Reply{c})
	if k == nil {
		return nil
	}
	s.mu.Lock()
	cancelled := c.cancelled
	if !cancelled {
		c.canceler = k // cancels from now on find it
	}
	s.mu.Unlock()
	if cancelled {
		k.Cancel() // the stream ended while Dispatch ran
	}
	return nil
}

// cancelLocked marks c cancelled and returns its Canceler, nil if Dispatch
// has not returned it yet (dispatch then cancels) or c is nil.
func (c *serverCall) cancelLocked() Canceler {
	if c == nil {
		return nil
	}
	c.cancelled = true
	return c.canceler
}

// end cancels c through k, when set, and releases its deadline's timer.
func (c *serverCall) end(k Canceler) {
	if k != nil {
		k.Cancel()
	}
	if c != nil && c.stopTimer != nil {
		c.stopTimer()
	}
}

// cancelRunning ends the stream for the calls still running: they are
// cancelled and their answers dropped.
func (s *serverStream) cancelRunning() {
	s.mu.Lock()
	s.ended = true
	running := s.running
	s.running = nil
	s.out.reset()
	type cancel struct {
		c *serverCall
		k Canceler
	}
	cancels := make([]cancel, 0, len(running))
	for _, c := range running {
		cancels = append(cancels, cancel{c, c.cancelLocked()})
	}
	s.mu.Unlock()
	for _, x := range cancels {
		x.c.end(x.k)
	}
}

// send queues the call's result for the writer, unless the call was
// cancelled, already answered, or its stream ended.
func (c *serverCall) send(res *actorv1.ResultEnvelope) {
	s := c.s
	if res == nil {
		res = &actorv1.ResultEnvelope{Code: int32(connect.CodeInternal), Message: "dispatcher returned no result"}
	}
	res.Id = c.id
	size := proto.Size(res)
	if size > s.cfg.maxMessageBytes-64 {
		res = &actorv1.ResultEnvelope{Id: c.id, Code: int32(connect.CodeResourceExhausted),
			Message: "node stream: the response is larger than the message limit"}
		size = proto.Size(res)
	}
	s.mu.Lock()
	if s.running[c.id] != c {
		s.mu.Unlock()
		return
	}
	delete(s.running, c.id)
	wake := s.out.push(res, size)
	s.mu.Unlock()
	c.end(nil)
	if wake {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// write sends queued results, everything queued at once, until the stream
// ends.
func (s *serverStream) write(stream *connect.BidiStream[actorv1.CallsRequest, actorv1.CallsResponse]) error {
	var msg actorv1.CallsResponse
	for {
		select {
		case <-s.wake:
		case <-s.ctx.Done():
			return nil
		}
		runtime.Gosched() // as in the client's writer: let runnable calls finish first
		for {
			s.mu.Lock()
			if s.out.empty() || s.ended {
				s.mu.Unlock()
				break
			}
			msg.Results, _ = s.out.take(s.cfg.maxBatchBytes)
			s.mu.Unlock()
			err := stream.Send(&msg)
			s.mu.Lock()
			s.out.recycle(msg.Results)
			s.mu.Unlock()
			msg.Results = nil
			if err != nil {
				return err
			}
		}
	}
}
