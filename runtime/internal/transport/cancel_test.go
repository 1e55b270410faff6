package transport_test

import (
	"context"
	"strconv"
	"testing"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// A caller hears that its call was cancelled only once the node has
// cancelled it: a caller that moves on after canceled cannot overtake its
// cancel, whichever way it cancelled and however many calls it cancels.
func TestCancelIsHeardOnceTheNodeCancelled(t *testing.T) {
	const window = 64 // what a Conn assumes before the grant, so exact from the start
	h := newHeld()
	c := dial(t, startNode(t, "127.0.0.1:0", h, transport.WithCallWindow(window)))
	for i := range 4 * window {
		ctx, cancel := context.WithCancel(context.Background())
		p := c.Call(ctx, call("/p.S/M", strconv.Itoa(i)))
		got := h.next(t)
		if i%2 == 0 {
			cancel()
		} else {
			p.Cancel()
		}
		_, err := wait(t, p)
		wantCode(t, err, connect.CodeCanceled)
		select {
		case <-got.cancelled:
		default:
			t.Fatalf("call %d: the caller heard canceled before the node cancelled the call", i)
		}
		got.done(&actorv1.ResultEnvelope{Response: []byte("late")}) // dropped
		cancel()
	}
	// The cancels' answers gave the calls' places back, once each: a
	// window of calls reaches the node, and the next waits for a place.
	var held []heldCall
	for i := range window {
		c.Call(context.Background(), call("/p.S/M", "full"+strconv.Itoa(i)))
		held = append(held, h.next(t))
	}
	c.Call(context.Background(), call("/p.S/M", "extra"))
	held[0].done(&actorv1.ResultEnvelope{})
	if got := h.next(t); string(got.env.GetRequest()) != "extra" {
		t.Fatalf("the node got %q, want the call that waited for a place", got.env.GetRequest())
	}
}
