package caller

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
	"github.com/troupehq/troupe/runtime/internal/errs"
)

// headClient is the head's client as drivers and nodes use it for the
// control plane: a request that is safe to send again waits out a head
// that cannot be reached (restarting, say), the way a call waits for its
// actor's node, until ctx ends or for at most a minute. The requests it
// does not override go once.
//
// Safe to send again are the lookups and listings, kills for good, kills
// with restart that surely did not reach the head (the connection was
// refused), and spawns: each carries a request id the caller chose, and
// the head answers one it has seen with the actor it created then, so a
// spawn sent again never makes a second actor.
type headClient struct {
	actorv1connect.HeadServiceClient
}

// SpawnActor spawns, waiting for the head.
func (h headClient) SpawnActor(ctx context.Context, req *connect.Request[actorv1.SpawnActorRequest]) (*connect.Response[actorv1.SpawnActorResponse], error) {
	if req.Msg.GetRequestId() == "" {
		req.Msg.RequestId = newRequestID()
	}
	return untilHead(ctx, req, h.HeadServiceClient.SpawnActor, always)
}

// GetActor looks up an actor, waiting for the head.
func (h headClient) GetActor(ctx context.Context, req *connect.Request[actorv1.GetActorRequest]) (*connect.Response[actorv1.GetActorResponse], error) {
	return untilHead(ctx, req, h.HeadServiceClient.GetActor, always)
}

// KillActor kills, waiting for the head when sending again cannot kill
// twice.
func (h headClient) KillActor(ctx context.Context, req *connect.Request[actorv1.KillActorRequest]) (*connect.Response[actorv1.KillActorResponse], error) {
	safe := always
	if !req.Msg.GetNoRestart() {
		safe = func(err error) bool { return !delivered(err) }
	}
	return untilHead(ctx, req, h.HeadServiceClient.KillActor, safe)
}

// ListActors lists actors, waiting for the head.
func (h headClient) ListActors(ctx context.Context, req *connect.Request[actorv1.ListActorsRequest]) (*connect.Response[actorv1.ListActorsResponse], error) {
	return untilHead(ctx, req, h.HeadServiceClient.ListActors, always)
}

// ListNodes lists nodes, waiting for the head.
func (h headClient) ListNodes(ctx context.Context, req *connect.Request[actorv1.ListNodesRequest]) (*connect.Response[actorv1.ListNodesResponse], error) {
	return untilHead(ctx, req, h.HeadServiceClient.ListNodes, always)
}

// GetPlacementGroup looks up a placement group, waiting for the head.
func (h headClient) GetPlacementGroup(ctx context.Context, req *connect.Request[actorv1.GetPlacementGroupRequest]) (*connect.Response[actorv1.GetPlacementGroupResponse], error) {
	return untilHead(ctx, req, h.HeadServiceClient.GetPlacementGroup, always)
}

func always(error) bool { return true }

// unreachable reports whether err, from a request whose ctx has not ended,
// says the head could not be reached: unavailable, or canceled by the
// transport, as a request written to a connection the head's death broke
// ends.
func unreachable(err error) bool {
	code := connect.CodeOf(err)
	return code == connect.CodeUnavailable || code == connect.CodeCanceled
}

// untilHead sends req with call, and sends it again, with backoff, while
// the head is unreachable and safe says the failure allows it, until ctx
// ends or giveUp has passed.
func untilHead[Req, Res any](ctx context.Context, req *connect.Request[Req],
	call func(context.Context, *connect.Request[Req]) (*connect.Response[Res], error), safe func(error) bool,
) (*connect.Response[Res], error) {
	deadline := time.Now().Add(giveUp)
	delay := 10 * time.Millisecond
	for {
		attempt := connect.NewRequest(req.Msg)
		for k, v := range req.Header() {
			attempt.Header()[k] = v
		}
		res, err := call(ctx, attempt)
		if err == nil || ctx.Err() != nil || !unreachable(err) || !safe(err) {
			return res, err
		}
		if time.Now().After(deadline) {
			return nil, connect.NewError(connect.CodeUnavailable, fmt.Errorf("the head was unreachable for %v: %w", giveUp, err))
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			ce := errs.FromContext(ctx.Err())
			return nil, connect.NewError(ce.Code(), fmt.Errorf("waiting for the head: %w (last: %v)", ctx.Err(), err))
		case <-timer.C:
		}
		delay = min(2*delay, time.Second)
	}
}

// newRequestID returns a fresh request id.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
