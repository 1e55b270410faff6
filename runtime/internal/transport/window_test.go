package transport_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// counting is held that also counts the calls the node holds, answered
// through answer.
type counting struct {
	*held
	mu         sync.Mutex
	holding    int
	maxHolding int
}

func (c *counting) Dispatch(ctx context.Context, call *actorv1.CallEnvelope, reply transport.Reply) transport.Canceler {
	c.mu.Lock()
	c.holding++
	c.maxHolding = max(c.maxHolding, c.holding)
	c.mu.Unlock()
	return c.held.Dispatch(ctx, call, reply)
}

func (c *counting) answer(hc heldCall) {
	c.mu.Lock()
	c.holding--
	c.mu.Unlock()
	hc.done(&actorv1.ResultEnvelope{Response: hc.env.GetRequest()})
}

// A caller never has more calls on the node than the window it was
// granted; the rest wait on its side and all of them run.
func TestWindowBoundsCallsOnNode(t *testing.T) {
	const window, calls = 64, 1000
	d := &counting{held: newHeld()}
	n := startNode(t, "127.0.0.1:0", d, transport.WithCallWindow(window))
	c := dial(t, n)

	ps := make([]*transport.Pending, calls)
	for i := range ps {
		ps[i] = c.Call(context.Background(), call("/p.S/M", strconv.Itoa(i)))
	}
	// Answer the oldest call whenever the node holds a full window, and
	// everything once all calls have arrived.
	var holding []heldCall
	for range calls {
		holding = append(holding, d.next(t))
		if len(holding) == window {
			d.answer(holding[0])
			holding = holding[1:]
		}
	}
	for _, hc := range holding {
		d.answer(hc)
	}
	for i, p := range ps {
		res, err := wait(t, p)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if string(res.GetResponse()) != strconv.Itoa(i) {
			t.Fatalf("call %d answered %q", i, res.GetResponse())
		}
	}
	if d.maxHolding != window {
		t.Fatalf("the node held up to %d calls at once, want the window, %d", d.maxHolding, window)
	}
}

// A call cancelled while it waits for the window never reaches the node;
// one cancelled on the node frees its place for the next.
func TestWindowCancel(t *testing.T) {
	const window = 64
	h := newHeld()
	n := startNode(t, "127.0.0.1:0", h, transport.WithCallWindow(window))
	c := dial(t, n)

	var first []heldCall
	var sent []*transport.Pending
	for i := range window {
		sent = append(sent, c.Call(context.Background(), call("/p.S/M", strconv.Itoa(i))))
		first = append(first, h.next(t))
	}
	c.Call(context.Background(), call("/p.S/M", "queued"))
	dropped := c.Call(context.Background(), call("/p.S/M", "dropped"))
	c.Call(context.Background(), call("/p.S/M", "last"))
	dropped.Cancel()
	if _, err := wait(t, dropped); connect.CodeOf(err) != connect.CodeCanceled {
		t.Fatalf("cancelled queued call: %v, want canceled", err)
	}

	sent[3].Cancel() // frees a place: "queued" goes
	waitCancel(t, first[3])
	if got := h.next(t); string(got.env.GetRequest()) != "queued" {
		t.Fatalf("after a cancel the node got %q, want the queued call", got.env.GetRequest())
	}
	first[0].done(&actorv1.ResultEnvelope{}) // frees another: "last" goes, not "dropped"
	if got := h.next(t); string(got.env.GetRequest()) != "last" {
		t.Fatalf("after an answer the node got %q, want the last call", got.env.GetRequest())
	}
}

// Many streams cannot multiply the window: a call that arrives with the
// node at its limit is refused at once, and runs once there is room.
func TestMaxCallsInFlightAcrossStreams(t *testing.T) {
	const limit = 100
	h := newHeld()
	n := startNode(t, "127.0.0.1:0", h, transport.WithMaxCallsInFlight(limit))
	a, b := dial(t, n), dial(t, n)

	var held []heldCall
	for i := range limit {
		a.Call(context.Background(), call("/p.S/M", strconv.Itoa(i)))
		held = append(held, h.next(t))
	}
	res, err := wait(t, b.Call(context.Background(), call("/p.S/M", "refused")))
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, transport.EnvelopeToError(res), connect.CodeResourceExhausted)

	held[0].done(&actorv1.ResultEnvelope{})
	// The node's count drops when the answer is queued; b's next call may
	// still race with it, so retry on a refusal until one runs.
	for {
		p := b.Call(context.Background(), call("/p.S/M", "runs"))
		select {
		case got := <-h.calls:
			if string(got.env.GetRequest()) != "runs" {
				t.Fatalf("the node got %q", got.env.GetRequest())
			}
			return
		case <-p.Done():
			res, err := p.Result()
			if err != nil || connect.CodeOf(transport.EnvelopeToError(res)) != connect.CodeResourceExhausted {
				t.Fatalf("call after room was made: %v, %v", res, err)
			}
		}
	}
}

// A caller that does not keep to the window has the calls beyond it
// refused at once; the node tells the window in the stream's headers.
func TestWindowEnforcedOnNode(t *testing.T) {
	const window = 64
	h := newHeld()
	n := startNode(t, "127.0.0.1:0", h, transport.WithCallWindow(window))
	hc := transport.NewH2CClient()
	defer hc.CloseIdleConnections()
	raw := connect.NewClient[actorv1.CallsRequest, actorv1.CallsResponse](hc, n.url()+transport.CallsProcedure)
	stream := raw.CallBidiStream(context.Background())
	defer func() {
		_ = stream.CloseRequest()
		_ = stream.CloseResponse()
	}()
	req := &actorv1.CallsRequest{}
	for i := range window + 1 {
		req.Calls = append(req.Calls, &actorv1.CallEnvelope{Id: uint64(i + 1), ActorId: "a", Procedure: "/p.S/M"})
	}
	if err := stream.Send(req); err != nil {
		t.Fatal(err)
	}
	for {
		msg, err := stream.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if got := stream.ResponseHeader().Get("Troupe-Call-Window"); got != strconv.Itoa(window) {
			t.Fatalf("window header %q, want %d", got, window)
		}
		if len(msg.GetResults()) == 0 {
			continue // the grant
		}
		r := msg.GetResults()[0]
		if r.GetId() != window+1 {
			t.Fatalf("result for call %d, want the refusal of call %d", r.GetId(), window+1)
		}
		wantCode(t, transport.EnvelopeToError(r), connect.CodeResourceExhausted)
		break
	}
	for range window {
		h.next(t) // the window's calls reached the dispatcher
	}
}

// A caller uses the window its node grants, beyond the 64 calls it
// assumes before the grant.
func TestWindowGrant(t *testing.T) {
	h := newHeld()
	n := startNode(t, "127.0.0.1:0", h) // the default window
	c := dial(t, n)
	const calls = 1000
	for i := range calls {
		c.Call(context.Background(), call("/p.S/M", strconv.Itoa(i)))
	}
	for range calls {
		h.next(t) // all of them reach the node unanswered
	}
}
