package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
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
type Reply struct {
	s  *serverStream
	id uint64
	// gen tells the call from a later one on the stream that reuses its
	// id once it is answered or cancelled.
	gen uint64
}

// Send queues res as the call's result, unless the call was cancelled or
// its stream ended; the transport sets the result's id. A nil res answers
// with an internal error. Send does not block.
func (r Reply) Send(res *actorv1.ResultEnvelope) { r.s.send(r, res) }

// StreamContext returns a context that ends when the call's stream ends.
// A dispatcher that must block before it can return the call's Canceler
// (to ask another service, say) bounds the wait with it: the stream's
// reader, and with it the cancels, wait on the dispatcher meanwhile.
func (r Reply) StreamContext() context.Context { return r.s.ctx }

// NewHandler returns the path and handler of the node call stream, to mount
// on the node's mux next to its other Connect handlers.
func NewHandler(d Dispatcher, opts ...Option) (string, http.Handler) {
	cfg := newConfig(opts)
	h := &handler{d: d, cfg: cfg, inFlight: new(atomic.Int64)}
	return CallsProcedure, connect.NewBidiStreamHandler(CallsProcedure, h.serve,
		connect.WithReadMaxBytes(cfg.maxMessageBytes),
		connect.WithSendMaxBytes(cfg.maxMessageBytes),
		connect.WithCompression("gzip", nil, nil), // batches of small protos: not worth the CPU
	)
}

type handler struct {
	d        Dispatcher
	cfg      config
	inFlight *atomic.Int64 // calls in flight on all of the handler's streams
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
	// inFlight counts the calls in running on all of the node's streams.
	inFlight *atomic.Int64

	mu      sync.Mutex
	ended   bool
	gen     uint64                 // calls dispatched so far
	running map[uint64]runningCall // by call id
	out     outbox[*actorv1.ResultEnvelope]
}

// runningCall is a call that runs, held by value so that a call costs the
// stream no allocation.
type runningCall struct {
	gen      uint64             // see Reply
	canceler Canceler           // what Dispatch returned; nil until it has
	stop     context.CancelFunc // releases the deadline's timer; nil without one
}

// end cancels the call, when it has a Canceler, and releases its
// deadline's timer.
func (c runningCall) end() {
	if c.canceler != nil {
		c.canceler.Cancel()
	}
	if c.stop != nil {
		c.stop()
	}
}

func (h *handler) serve(ctx context.Context, stream *connect.BidiStream[actorv1.CallsRequest, actorv1.CallsResponse]) error {
	ctx, cancel := context.WithCancel(ctx)
	s := &serverStream{
		cfg:      h.cfg,
		ctx:      ctx,
		values:   context.Background(),
		wake:     make(chan struct{}, 1),
		running:  make(map[uint64]runningCall),
		inFlight: h.inFlight,
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
	if ctx.Err() == nil {
		h.cfg.logger.Debug("node stream: receive failed", "peer", stream.Peer().Addr, "error", err)
	}
	return err
}

// read dispatches the stream's calls and applies its cancels until the
// stream ends.
func (s *serverStream) read(stream *connect.BidiStream[actorv1.CallsRequest, actorv1.CallsResponse], d Dispatcher) error {
	var cancels []uint64
	for {
		req, err := stream.Receive()
		if err != nil {
			return err
		}
		// Cancels go first, so that the calls they end make room in the
		// window for the calls that came with them. A cancel of a call in
		// this same message waits for its call.
		later := s.cancel(req.GetCancels(), cancels[:0])
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
		cancels = s.cancel(later, later[:0])
		// Answered already, or never known: the caller still waits for
		// the cancel's answer.
		for _, id := range cancels {
			s.cancelled(id)
		}
	}
}

// cancel ends the running calls with the given ids, answering each with
// canceled once its Canceler has returned (the dispatcher's own answer is
// dropped), and appends the ids of those not running to rest.
func (s *serverStream) cancel(ids, rest []uint64) []uint64 {
	for _, id := range ids {
		s.mu.Lock()
		c, ok := s.running[id]
		delete(s.running, id)
		s.mu.Unlock()
		if !ok {
			rest = append(rest, id)
			continue
		}
		s.inFlight.Add(-1)
		c.end()
		s.cancelled(id)
	}
	return rest
}

// cancelled answers the cancel of call id. The caller ends the call on
// the first answer it gets for it: the call's result, when that was on its
// way before the cancel arrived, or this one.
func (s *serverStream) cancelled(id uint64) {
	res := &actorv1.ResultEnvelope{Id: id, Code: int32(connect.CodeCanceled), Message: "canceled by the caller"}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	wake := s.out.push(res, resultSize(res))
	s.mu.Unlock()
	if wake {
		s.signal()
	}
}

func (s *serverStream) dispatch(env *actorv1.CallEnvelope, d Dispatcher) error {
	id := env.GetId()
	var c runningCall
	ctx := s.values
	if dl := env.GetDeadlineUnixNano(); dl != 0 {
		ctx, c.stop = context.WithDeadline(s.values, time.Unix(0, dl))
	}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		c.end()
		return nil
	}
	if _, dup := s.running[id]; dup {
		s.mu.Unlock()
		c.end()
		return connect.NewError(connect.CodeInvalidArgument, errors.New("node stream: call id reused while the call runs"))
	}
	if reason := s.admit(); reason != "" {
		// Answered at once, ahead of nothing but the results already
		// queued: the call never reaches the dispatcher.
		res := &actorv1.ResultEnvelope{Id: id, Code: int32(connect.CodeResourceExhausted), Message: reason}
		wake := s.out.push(res, resultSize(res))
		s.mu.Unlock()
		c.end()
		if wake {
			s.signal()
		}
		return nil
	}
	s.gen++
	c.gen = s.gen
	s.running[id] = c
	s.mu.Unlock()
	k := d.Dispatch(ctx, env, Reply{s: s, id: id, gen: c.gen})
	if k == nil {
		return nil
	}
	s.mu.Lock()
	ended := s.ended
	if r, ok := s.running[id]; ok && r.gen == c.gen {
		r.canceler = k // cancels from now on find it
		s.running[id] = r
	}
	s.mu.Unlock()
	if ended {
		k.Cancel() // the stream ended while Dispatch ran
	}
	return nil
}

// admit takes a place for a new call in the stream's window and the node's
// limit, or says why there is none. The caller holds s.mu.
func (s *serverStream) admit() (refused string) {
	if len(s.running) >= s.cfg.callWindow {
		return fmt.Sprintf("node stream: the caller has %d calls in flight, the node's window", len(s.running))
	}
	if s.inFlight.Add(1) > int64(s.cfg.maxCallsRunning) {
		s.inFlight.Add(-1)
		return fmt.Sprintf("node: %d calls in flight from all callers, its limit", s.cfg.maxCallsRunning)
	}
	return ""
}

func (s *serverStream) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
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
	s.mu.Unlock()
	s.inFlight.Add(-int64(len(running)))
	for _, c := range running {
		c.end()
	}
}

// send queues the result of the call r answers for the writer, unless the
// call was cancelled, already answered, or its stream ended.
func (s *serverStream) send(r Reply, res *actorv1.ResultEnvelope) {
	if res == nil {
		res = &actorv1.ResultEnvelope{Code: int32(connect.CodeInternal), Message: "dispatcher returned no result"}
	}
	res.Id = r.id
	size := resultSize(res)
	if size > s.cfg.maxMessageBytes-64 {
		res = &actorv1.ResultEnvelope{Id: r.id, Code: int32(connect.CodeResourceExhausted),
			Message: "node stream: the response is larger than the message limit"}
		size = proto.Size(res)
	}
	s.mu.Lock()
	c, ok := s.running[r.id]
	if !ok || c.gen != r.gen {
		s.mu.Unlock()
		return
	}
	delete(s.running, r.id)
	wake := s.out.push(res, size)
	s.mu.Unlock()
	s.inFlight.Add(-1)
	if c.stop != nil {
		c.stop()
	}
	if wake {
		s.signal()
	}
}

// write sends queued results, everything queued at once, until the stream
// ends.
func (s *serverStream) write(stream *connect.BidiStream[actorv1.CallsRequest, actorv1.CallsResponse]) error {
	// The first message, empty, sends the headers that tell the caller
	// its window.
	stream.ResponseHeader().Set(windowHeader, strconv.Itoa(s.cfg.callWindow))
	var msg actorv1.CallsResponse
	if err := stream.Send(&msg); err != nil {
		return err
	}
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
			msg.Results, _ = s.out.take(s.cfg.maxBatchBytes, math.MaxInt)
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
