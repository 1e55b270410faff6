package transport_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

func TestRoundTrip(t *testing.T) {
	h := newHeld()
	n := startNode(t, "127.0.0.1:0", h)
	c := dial(t, n)

	env := call("/counter.v1.Counter/Increment", "req")
	env.Metadata = map[string]string{"traceparent": "00-abc-def-01", "caller": "job-1"}
	p := c.Call(context.Background(), env)

	got := h.next(t)
	if got.env.GetActorId() != "a-1" || got.env.GetProcedure() != "/counter.v1.Counter/Increment" ||
		string(got.env.GetRequest()) != "req" || got.env.GetMetadata()["traceparent"] != "00-abc-def-01" ||
		got.env.GetMetadata()["caller"] != "job-1" {
		t.Fatalf("dispatcher got %v", got.env)
	}
	if got.env.GetDeadlineUnixNano() != 0 {
		t.Fatalf("deadline %d for a call without one", got.env.GetDeadlineUnixNano())
	}
	if _, ok := got.ctx.Deadline(); ok {
		t.Fatal("dispatcher ctx has a deadline for a call without one")
	}
	select {
	case <-p.Done():
		t.Fatal("done before the dispatcher answered")
	default:
	}
	got.done(&actorv1.ResultEnvelope{Response: []byte("resp")})

	res, err := wait(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.GetResponse()) != "resp" || res.GetCode() != 0 || res.GetId() != env.GetId() {
		t.Fatalf("result %v for call id %d", res, env.GetId())
	}
	if err := transport.EnvelopeToError(res); err != nil {
		t.Fatalf("EnvelopeToError of a success: %v", err)
	}
}

func TestPipelinedCallsArriveInOrder(t *testing.T) {
	const calls = 10000
	var mu sync.Mutex
	var order []uint64
	d := transport.DispatcherFunc(func(_ context.Context, env *actorv1.CallEnvelope, reply transport.Reply) transport.Canceler {
		mu.Lock()
		order = append(order, binary.BigEndian.Uint64(env.GetRequest()))
		mu.Unlock()
		go reply.Send(&actorv1.ResultEnvelope{Response: env.GetRequest()}) // finish out of order
		return nil
	})
	c := dial(t, startNode(t, "127.0.0.1:0", d))

	pending := make([]*transport.Pending, calls)
	for i := range pending {
		pending[i] = c.Call(context.Background(), &actorv1.CallEnvelope{
			ActorId: "a", Procedure: "/p.S/M", Request: binary.BigEndian.AppendUint64(nil, uint64(i)),
		})
	}
	for i, p := range pending {
		res, err := wait(t, p)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if got := binary.BigEndian.Uint64(res.GetResponse()); got != uint64(i) {
			t.Fatalf("call %d got the response of call %d", i, got)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != calls {
		t.Fatalf("dispatcher saw %d calls, want %d", len(order), calls)
	}
	for i, v := range order {
		if v != uint64(i) {
			t.Fatalf("arrival %d is call %d: submission order lost", i, v)
		}
	}
}

func TestManyGoroutines(t *testing.T) {
	c := dial(t, startNode(t, "127.0.0.1:0", echo))
	const goroutines, each = 32, 300
	var wg sync.WaitGroup
	errc := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				want := fmt.Sprintf("g%d-%d", g, i)
				res, err := c.Call(context.Background(), call("/p.S/M", want)).Result()
				if err != nil {
					errc <- err
					return
				}
				if string(res.GetResponse()) != want {
					errc <- fmt.Errorf("got %q, want %q", res.GetResponse(), want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

func TestErrorsSurviveTheWire(t *testing.T) {
	appErr := connect.NewError(connect.CodeNotFound, errors.New("no such actor"))
	detail, err := connect.NewErrorDetail(&actorv1.ActorRef{ActorId: "a-7", Class: "counter.v1.Counter"})
	if err != nil {
		t.Fatal(err)
	}
	appErr.AddDetail(detail)
	results := map[string]error{
		"detail":   appErr,
		"wrapped":  fmt.Errorf("lookup: %w", connect.NewError(connect.CodePermissionDenied, errors.New("nope"))),
		"plain":    errors.New("boom"),
		"deadline": context.DeadlineExceeded,
	}
	d := transport.DispatcherFunc(func(_ context.Context, env *actorv1.CallEnvelope, reply transport.Reply) transport.Canceler {
		reply.Send(transport.ErrorEnvelope(results[string(env.GetRequest())]))
		return nil
	})
	c := dial(t, startNode(t, "127.0.0.1:0", d))
	get := func(name string) error {
		t.Helper()
		res, err := c.Call(context.Background(), call("/p.S/M", name)).Result()
		if err != nil {
			t.Fatalf("%s: transport error %v", name, err)
		}
		return transport.EnvelopeToError(res)
	}

	err = get("detail")
	wantCode(t, err, connect.CodeNotFound)
	var ce *connect.Error
	errors.As(err, &ce)
	if ce.Message() != "no such actor" {
		t.Fatalf("message %q", ce.Message())
	}
	if len(ce.Details()) != 1 || ce.Details()[0].Type() != "actor.v1.ActorRef" {
		t.Fatalf("details %v", ce.Details())
	}
	v, err := ce.Details()[0].Value()
	if err != nil {
		t.Fatal(err)
	}
	if ref, ok := v.(*actorv1.ActorRef); !ok || ref.GetActorId() != "a-7" || ref.GetClass() != "counter.v1.Counter" {
		t.Fatalf("detail %v", v)
	}

	err = get("wrapped")
	wantCode(t, err, connect.CodePermissionDenied)
	err = get("plain")
	wantCode(t, err, connect.CodeUnknown)
	if !strings.Contains(err.Error(), "boom") {
		t.Fatalf("plain error lost its text: %v", err)
	}
	wantCode(t, get("deadline"), connect.CodeDeadlineExceeded)

	if res := transport.ErrorEnvelope(nil); res.GetCode() != 0 || res.GetMessage() != "" || res.GetDetails() != nil || res.GetErrorMetadata() != nil {
		t.Fatalf("ErrorEnvelope(nil) = %v", res)
	}
	wantCode(t, transport.EnvelopeToError(&actorv1.ResultEnvelope{Code: 99, Message: "x"}), connect.CodeUnknown)
}

func TestCancelReachesTheDispatcher(t *testing.T) {
	h := newHeld()
	c := dial(t, startNode(t, "127.0.0.1:0", h))

	ctx, cancel := context.WithCancel(context.Background())
	p := c.Call(ctx, call("/p.S/M", "x"))
	got := h.next(t)
	cancel()

	_, err := wait(t, p)
	wantCode(t, err, connect.CodeCanceled)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("%v does not match context.Canceled", err)
	}
	waitCancel(t, got)
	if got.ctx.Err() != nil {
		t.Fatalf("the call's ctx ended (%v): cancels reach the Canceler", got.ctx.Err())
	}
	got.done(&actorv1.ResultEnvelope{Response: []byte("late")}) // dropped, harmless

	// The stream still works, and a call whose ctx ended before it was
	// made never leaves.
	p = c.Call(ctx, call("/p.S/M", "y"))
	_, err = wait(t, p)
	wantCode(t, err, connect.CodeCanceled)
	p = c.Call(context.Background(), call("/p.S/M", "z"))
	next := h.next(t)
	if string(next.env.GetRequest()) != "z" {
		t.Fatalf("next call is %q, want z", next.env.GetRequest())
	}
	next.done(&actorv1.ResultEnvelope{Response: []byte("ok")})
	if res, err := wait(t, p); err != nil || string(res.GetResponse()) != "ok" {
		t.Fatalf("after a cancel: %v, %v", res, err)
	}
}

func TestDeadlineReachesTheDispatcher(t *testing.T) {
	h := newHeld()
	c := dial(t, startNode(t, "127.0.0.1:0", h))

	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	p := c.Call(ctx, call("/p.S/M", "x"))
	got := h.next(t)
	if d, ok := got.ctx.Deadline(); !ok || !d.Equal(time.Unix(0, deadline.UnixNano())) {
		t.Fatalf("dispatcher deadline %v %v, want %v", d, ok, deadline)
	}
	if got.env.GetDeadlineUnixNano() != deadline.UnixNano() {
		t.Fatalf("envelope deadline %d, want %d", got.env.GetDeadlineUnixNano(), deadline.UnixNano())
	}
	got.done(&actorv1.ResultEnvelope{})
	if _, err := wait(t, p); err != nil {
		t.Fatal(err)
	}

	// A deadline that passes while the call runs ends both sides.
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	p = c.Call(short, call("/p.S/M", "slow"))
	got = h.next(t)
	_, err := wait(t, p)
	wantCode(t, err, connect.CodeDeadlineExceeded)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v does not match context.DeadlineExceeded", err)
	}
	// The node's own timer ends the call's ctx, or the caller's cancel
	// reaches the node first, which releases the timer and ends it too.
	if err := waitCtx(t, got.ctx); err == nil {
		t.Fatal("dispatcher ctx did not end")
	}
}

func TestServerClosedFailsPendingAndReconnects(t *testing.T) {
	h := newHeld()
	n := startNode(t, "127.0.0.1:0", h)
	c := dial(t, n)

	const calls = 100
	pending := make([]*transport.Pending, calls)
	for i := range pending {
		pending[i] = c.Call(context.Background(), call("/p.S/M", "x"))
	}
	var dispatched []heldCall
	for range calls {
		dispatched = append(dispatched, h.next(t))
	}
	start := time.Now()
	n.stop()
	for i, p := range pending {
		_, err := wait(t, p)
		wantCode(t, err, connect.CodeUnavailable)
		if i == 0 {
			t.Logf("first pending call failed %v after the server closed", time.Since(start))
		}
	}
	// The node cancelled the calls with the stream.
	for _, d := range dispatched {
		waitCancel(t, d)
	}

	// Back on the same address: the next call opens a new stream.
	startNode(t, n.addr, echo)
	res, err := wait(t, c.Call(context.Background(), call("/p.S/M", "again")))
	if err != nil {
		t.Fatalf("after the node came back: %v", err)
	}
	if string(res.GetResponse()) != "again" {
		t.Fatalf("response %q", res.GetResponse())
	}
}

func TestCallsFailWhileTheNodeIsDown(t *testing.T) {
	n := startNode(t, "127.0.0.1:0", echo)
	c := dial(t, n)
	n.stop()
	_, err := wait(t, c.Call(context.Background(), call("/p.S/M", "x")))
	wantCode(t, err, connect.CodeUnavailable)
}

func TestClose(t *testing.T) {
	h := newHeld()
	c := dial(t, startNode(t, "127.0.0.1:0", h))
	p := c.Call(context.Background(), call("/p.S/M", "x"))
	h.next(t)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := wait(t, p)
	wantCode(t, err, connect.CodeUnavailable)
	if !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("%v does not match ErrClosed", err)
	}
	_, err = wait(t, c.Call(context.Background(), call("/p.S/M", "y")))
	if !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("call after Close: %v", err)
	}
}

func TestOversizeCalls(t *testing.T) {
	n := startNode(t, "127.0.0.1:0", echo, transport.WithMaxMessageBytes(4096))

	// Over the caller's own limit: fails alone, before the wire.
	small := dial(t, n, transport.WithMaxMessageBytes(4096))
	_, err := wait(t, small.Call(context.Background(), call("/p.S/M", strings.Repeat("x", 8192))))
	wantCode(t, err, connect.CodeResourceExhausted)
	if _, err := wait(t, small.Call(context.Background(), call("/p.S/M", "fits"))); err != nil {
		t.Fatal(err)
	}

	// A caller with a bigger limit than the node's: the node ends the
	// stream, the caller sees unavailable, the node keeps serving.
	big := dial(t, n, transport.WithMaxMessageBytes(1<<20))
	_, err = wait(t, big.Call(context.Background(), call("/p.S/M", strings.Repeat("x", 8192))))
	wantCode(t, err, connect.CodeUnavailable)
	res, err := wait(t, big.Call(context.Background(), call("/p.S/M", "fits")))
	if err != nil || string(res.GetResponse()) != "fits" {
		t.Fatalf("after an oversize call: %v %v", res, err)
	}

	// A response too big for the stream becomes that call's error.
	huge := transport.DispatcherFunc(func(_ context.Context, env *actorv1.CallEnvelope, reply transport.Reply) transport.Canceler {
		reply.Send(&actorv1.ResultEnvelope{Response: bytes.Repeat(env.GetRequest(), 10000)})
		return nil
	})
	c := dial(t, startNode(t, "127.0.0.1:0", huge, transport.WithMaxMessageBytes(4096)), transport.WithMaxMessageBytes(4096))
	res, err = wait(t, c.Call(context.Background(), call("/p.S/M", "x")))
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, transport.EnvelopeToError(res), connect.CodeResourceExhausted)
}

func TestMalformedInput(t *testing.T) {
	h := newHeld()
	n := startNode(t, "127.0.0.1:0", h)
	hc := transport.NewH2CClient()
	defer hc.CloseIdleConnections()

	// Bytes that are not a Connect envelope, and an envelope that is not a
	// CallsRequest.
	for _, body := range [][]byte{
		[]byte("garbage"),
		append([]byte{0, 0, 0, 0, 5}, 0xff, 0xff, 0xff, 0xff, 0xff),
		{0, 0xff, 0xff, 0xff, 0xff}, // claims a 4 GiB message
	} {
		req, err := http.NewRequest(http.MethodPost, n.url()+transport.CallsProcedure, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/connect+proto")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		_ = resp.Body.Close()
		if !bytes.Contains(buf.Bytes(), []byte(`"code"`)) {
			t.Fatalf("body %q: no Connect error in the response %q", body, buf.Bytes())
		}
	}

	// A caller that reuses an id while the call runs loses its stream.
	raw := connect.NewClient[actorv1.CallsRequest, actorv1.CallsResponse](hc, n.url()+transport.CallsProcedure)
	stream := raw.CallBidiStream(context.Background())
	dup := &actorv1.CallsRequest{Calls: []*actorv1.CallEnvelope{{Id: 7}, {Id: 7}}}
	if err := stream.Send(dup); err != nil {
		t.Fatal(err)
	}
	first := h.next(t)
	// The node's first message, empty, grants the window; it may be
	// overtaken by the stream's end.
	msg, err := stream.Receive()
	if err == nil {
		if len(msg.GetResults()) != 0 {
			t.Fatalf("first message %v: want the empty grant", msg)
		}
		_, err = stream.Receive()
	}
	wantCode(t, err, connect.CodeInvalidArgument)
	_ = stream.CloseRequest()
	_ = stream.CloseResponse()
	waitCancel(t, first)
	first.done(&actorv1.ResultEnvelope{}) // after the stream ended: dropped
	first.done(&actorv1.ResultEnvelope{}) // twice: still harmless

	// The node still serves.
	c := dial(t, n)
	p := c.Call(context.Background(), call("/p.S/M", "ok"))
	got := h.next(t)
	got.done(nil) // a nil result becomes internal
	res, err := wait(t, p)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, transport.EnvelopeToError(res), connect.CodeInternal)
}

// Calls batched on one stream message leave out the names that repeat the
// previous call's; the node sees every call's own.
func TestRepeatedNamesArriveWhole(t *testing.T) {
	const calls = 3000
	d := transport.DispatcherFunc(func(_ context.Context, env *actorv1.CallEnvelope, reply transport.Reply) transport.Canceler {
		want := string(env.GetRequest())
		if got := env.GetActorId() + " " + env.GetProcedure(); got != want {
			reply.Send(&actorv1.ResultEnvelope{Code: int32(connect.CodeInternal), Message: "got " + got + ", want " + want})
			return nil
		}
		reply.Send(&actorv1.ResultEnvelope{})
		return nil
	})
	c := dial(t, startNode(t, "127.0.0.1:0", d))
	pending := make([]*transport.Pending, calls)
	for i := range pending {
		// Runs of one actor and one procedure, changing at different
		// strides, so that batches hold repeats and changes of each.
		actor := fmt.Sprintf("a-%d", i/7%3)
		procedure := fmt.Sprintf("/p.S/M%d", i/5%2)
		pending[i] = c.Call(context.Background(), &actorv1.CallEnvelope{
			ActorId: actor, Procedure: procedure, Request: []byte(actor + " " + procedure)})
	}
	for i, p := range pending {
		res, err := wait(t, p)
		if err == nil {
			err = transport.EnvelopeToError(res)
		}
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}

	// A call that names no actor or no procedure is refused before it
	// leaves: on the stream, an empty name repeats the previous call's.
	for _, env := range []*actorv1.CallEnvelope{{Procedure: "/p.S/M"}, {ActorId: "a-1"}} {
		_, err := wait(t, c.Call(context.Background(), env))
		wantCode(t, err, connect.CodeInvalidArgument)
	}
}
