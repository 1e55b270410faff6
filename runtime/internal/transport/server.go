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
	// Dispatch starts call and returns without waiting for it. ctx carries
	// the caller's deadline and is cancelled when the caller cancels the
	// call or the stream ends. done must be called exactly once, from any
	// goroutine, with the call's result; the transport sets the result's
	// id. done does not block.
	Dispatch(ctx context.Context, call *actorv1.CallEnvelope, done func(*actorv1.ResultEnvelope))
}

// DispatcherFunc adapts a function to [Dispatcher].
type DispatcherFunc func(ctx context.Context, call *actorv1.CallEnvelope, done func(*actorv1.ResultEnvelope))

// Dispatch calls f.
func (f DispatcherFunc) Dispatch(ctx context.Context, call *actorv1.CallEnvelope, done func(*actorv1.ResultEnvelope)) {
	f(ctx, call, done)
}

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
	ctx context.Context // ended with the stream; parent of a call's ctx with a deadline
	// values is ctx without its end, the parent of a callCtx: the calls
	// without a deadline end through running instead.
	values context.Context
	wake   chan struct{}

	mu      sync.Mutex
	ended   bool
	running map[uint64]*serverCall
	out     outbox[*actorv1.ResultEnvelope]
}

// serverCall is one running call.
type serverCall struct {
	s      *serverStream
	id     uint64
	cancel context.CancelFunc
}

func (h *handler) serve(ctx context.Context, stream *connect.BidiStream[actorv1.CallsRequest, actorv1.CallsResponse]) error {
	ctx, cancel := context.WithCancel(ctx)
	s := &serverStream{
		cfg:     h.cfg,
		ctx:     ctx,
		values:  context.WithoutCancel(ctx),
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
		s.cancelRunning() // a callCtx does not follow ctx
	}()
	err := s.read(stream, h.d)
	cancel()
	s.mu.Lock()
	s.ended = true
	running := s.running
	s.running = nil
	s.out.reset()
	s.mu.Unlock()
	for _, c := range running {
		c.cancel()
	}
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
		for _, env := range req.GetCalls() {
			if err := s.dispatch(env, d); err != nil {
				return err
			}
		}
		for _, id := range req.GetCancels() {
			s.mu.Lock()
			c := s.running[id]
			delete(s.running, id)
			s.mu.Unlock()
			if c != nil {
				c.cancel() // the dispatcher's later done is dropped
			}
		}
	}
}

func (s *serverStream) dispatch(env *actorv1.CallEnvelope, d Dispatcher) error {
	c := &serverCall{s: s, id: env.GetId()}
	var ctx context.Context
	if dl := env.GetDeadlineUnixNano(); dl != 0 {
		ctx, c.cancel = context.WithDeadline(s.ctx, time.Unix(0, dl))
	} else {
		// Most calls have no deadline: a context of their own, which the
		// stream's end reaches through the running calls, costs less than
		// a child of the stream's.
		cc := &callCtx{Context: s.values}
		ctx, c.cancel = cc, cc.cancel
	}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		c.cancel()
		return nil
	}
	if _, dup := s.running[c.id]; dup {
		s.mu.Unlock()
		c.cancel()
		return connect.NewError(connect.CodeInvalidArgument, errors.New("node stream: call id reused while the call runs"))
	}
	s.running[c.id] = c
	s.mu.Unlock()
	d.Dispatch(ctx, env, c.done)
	return nil
}

// cancelRunning ends the contexts of the running calls.
func (s *serverStream) cancelRunning() {
	s.mu.Lock()
	calls := make([]*serverCall, 0, len(s.running))
	for _, c := range s.running {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	for _, c := range calls {
		c.cancel()
	}
}

// done queues the call's result for the writer, unless the call was
// cancelled, already done, or its stream ended.
func (c *serverCall) done(res *actorv1.ResultEnvelope) {
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
	c.cancel()
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

// callCtx is the context of a call without a deadline: its values are the
// stream's, and it ends when cancel is called (by a cancel from the
// caller, the end of the stream, or the call's result).
type callCtx struct {
	context.Context // the stream's values, without its end

	mu    sync.Mutex
	done  chan struct{} // made on first use
	err   error
	funcs []*afterFunc
}

type afterFunc struct{ f func() }

var closedDone = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

func (c *callCtx) Deadline() (time.Time, bool) { return time.Time{}, false }

func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.err != nil {
			return closedDone
		}
		c.done = make(chan struct{})
	}
	return c.done
}

func (c *callCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// AfterFunc is what [context.AfterFunc] uses for a callCtx, and contexts
// derived from one: f runs on its own goroutine once c ends.
func (c *callCtx) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.funcs = append(c.funcs, a)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range c.funcs {
			if x == a {
				c.funcs = append(c.funcs[:i], c.funcs[i+1:]...)
				return true
			}
		}
		return false
	}
}

func (c *callCtx) cancel() {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = context.Canceled
	if c.done != nil {
		close(c.done)
	}
	funcs := c.funcs
	c.funcs = nil
	c.mu.Unlock()
	for _, a := range funcs {
		go a.f()
	}
}

func (c *callCtx) String() string { return "transport.callCtx" }
