package caller

import (
	"context"
	"fmt"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/cluster"
)

// DurableTarget returns the target of calls to the durable actor (class,
// id) from the node nodeID ("" for a driver): its node is resolved with
// ActivateDurable. A durable call is not sent again after it may have
// reached a lost node unless retries allow it.
func (c *Client) DurableTarget(class, id, nodeID string, retries int) *Target {
	t := &Target{ID: cluster.DurableActorID(class, id), Class: class, Name: id, MaxTaskRetries: retries}
	t.Resolve = func(ctx context.Context) (*actorv1.ActorInfo, error) {
		res, err := c.Head.ActivateDurable(ctx, connect.NewRequest(&actorv1.ActivateDurableRequest{Class: class, Id: id, NodeId: nodeID}))
		if err != nil {
			return nil, err
		}
		da := res.Msg.GetActivation()
		return &actorv1.ActorInfo{ActorId: t.ID, Class: class, State: actorv1.ActorState_ACTOR_STATE_ALIVE,
			NodeId: da.GetNodeId(), NodeAddress: da.GetNodeAddress()}, nil
	}
	return t
}

// ActivateDurable asks the head whether node nodeID may activate the
// durable actor (class, id): it returns the owner's node id and the
// activation's epoch.
func (c *Client) ActivateDurable(ctx context.Context, class, id, nodeID string) (owner string, epoch uint64, err error) {
	res, err := c.Head.ActivateDurable(ctx, connect.NewRequest(&actorv1.ActivateDurableRequest{Class: class, Id: id, NodeId: nodeID}))
	if err != nil {
		return "", 0, err
	}
	da := res.Msg.GetActivation()
	return da.GetNodeId(), da.GetEpoch(), nil
}

// ReleaseDurable tells the head that node nodeID ended its activation of
// (class, id) of epoch.
func (c *Client) ReleaseDurable(ctx context.Context, class, id, nodeID string, epoch uint64) error {
	_, err := c.Head.ReleaseDurable(ctx, connect.NewRequest(&actorv1.ReleaseDurableRequest{Class: class, Id: id, NodeId: nodeID, Epoch: epoch}))
	if err != nil {
		return fmt.Errorf("releasing durable actor %s/%s: %w", class, id, err)
	}
	return nil
}
