package head

import (
	"context"
	"fmt"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/errs"
)

// DrainNode marks a node that shuts down as draining: nothing more is
// placed there while its actors end. Once it has stopped, it is dead at
// once, not after the heartbeat timeout, and the actors it still hosted
// restart elsewhere when they may.
func (h *Head) DrainNode(ctx context.Context, req *connect.Request[actorv1.DrainNodeRequest]) (*connect.Response[actorv1.DrainNodeResponse], error) {
	id := req.Msg.GetNodeId()
	h.mu.Lock()
	n := h.nodes[id]
	if n == nil {
		h.mu.Unlock()
		return nil, errs.Newf(errs.ErrInvalidOption, "DrainNode: no node %s", id)
	}
	var w write
	var todo []func()
	switch {
	case !n.alive():
	case req.Msg.GetStopped():
		h.cfg.Log.Info("node stopped after draining", "node_id", id, "address", n.info.GetAddress())
		todo = h.nodeLostLocked(n, &w, fmt.Sprintf("node %s shut down", id))
		todo = append(todo, h.placePendingLocked(&w)...)
	case n.open():
		h.cfg.Log.Info("node draining", "node_id", id, "address", n.info.GetAddress())
		n.info.State = actorv1.NodeState_NODE_STATE_DRAINING
		w.nodes = append(w.nodes, n.info)
	}
	stored := h.persistLocked(&w)
	h.mu.Unlock()
	h.run(todo)
	if err := written(ctx, stored); err != nil {
		return nil, err
	}
	return connect.NewResponse(&actorv1.DrainNodeResponse{}), nil
}
