package head

import (
	"context"
	"sort"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// durableTable is the head's table of durable activations: (class, id) to
// the node hosting it. It is kept in the head's store; an entry whose node
// is lost is dropped when next looked at.
type durableTable struct {
	acts map[string]*actorv1.DurableActivation // by durableKey
}

var bucketDurable = []byte("durable")

func durableKey(class, id string) string { return class + "\x00" + id }

// putDurable stores (da != nil) or deletes the entry key with the next
// write.
func (h *Head) putDurable(key string, da *actorv1.DurableActivation) {
	h.dirty.durable = append(h.dirty.durable, durableWrite{key: key, da: da})
}

// liveOwnerLocked returns the entry for key if its node is alive, dropping
// it otherwise.
func (h *Head) liveOwnerLocked(t *durableTable, key string) *actorv1.DurableActivation {
	da := t.acts[key]
	if da == nil {
		return nil
	}
	if n := h.nodes[da.GetNodeId()]; n != nil && n.alive() {
		da.NodeAddress = n.info.GetAddress()
		return da
	}
	delete(t.acts, key)
	h.putDurable(key, nil)
	return nil
}

// ActivateDurable returns the node of a durable actor, choosing one if it
// has none: the asking node when it hosts the class, else by placement.
func (h *Head) ActivateDurable(ctx context.Context, req *connect.Request[actorv1.ActivateDurableRequest]) (*connect.Response[actorv1.ActivateDurableResponse], error) {
	m := req.Msg
	if m.GetClass() == "" || m.GetId() == "" {
		return nil, errs.Newf(errs.ErrInvalidOption, "ActivateDurable: class and id are required")
	}
	h.mu.Lock()
	da, err := h.activateLocked(m)
	var stored <-chan error
	if err == nil {
		da = proto.Clone(da).(*actorv1.DurableActivation)
		stored = h.persistLocked(&write{})
	}
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := written(ctx, stored); err != nil {
		return nil, err
	}
	return connect.NewResponse(&actorv1.ActivateDurableResponse{Activation: da}), nil
}

// activateLocked is ActivateDurable under the lock.
func (h *Head) activateLocked(m *actorv1.ActivateDurableRequest) (*actorv1.DurableActivation, error) {
	t := &h.dur
	key := durableKey(m.GetClass(), m.GetId())
	da := h.liveOwnerLocked(t, key)
	if da == nil {
		var host *headNode
		if n := h.nodes[m.GetNodeId()]; n != nil && n.open() && hostsClass(n.info, m.GetClass()) {
			host = n
		} else {
			var reason string
			if host, reason, _ = h.chooseLocked(m.GetClass(), &node.Spec{}); host == nil {
				return nil, errs.Unavailable(&errs.ActorUnavailableError{ActorID: m.GetId(), Class: m.GetClass(),
					Reason: "no node to activate the durable actor on: " + reason})
			}
		}
		da = &actorv1.DurableActivation{Class: m.GetClass(), Id: m.GetId(), NodeId: host.info.GetNodeId(), NodeAddress: host.info.GetAddress()}
		t.acts[key] = da
	}
	if m.GetNodeId() != "" && m.GetNodeId() == da.GetNodeId() {
		da.Epoch++ // the owner starts an activation
		h.putDurable(key, da)
	} else if da.GetEpoch() == 0 {
		h.putDurable(key, da)
	}
	return da, nil
}

// ReleaseDurable drops a node's activation of a durable actor, unless the
// node started a newer one since.
func (h *Head) ReleaseDurable(ctx context.Context, req *connect.Request[actorv1.ReleaseDurableRequest]) (*connect.Response[actorv1.ReleaseDurableResponse], error) {
	m := req.Msg
	h.mu.Lock()
	t := &h.dur
	key := durableKey(m.GetClass(), m.GetId())
	if da := t.acts[key]; da != nil && da.GetNodeId() == m.GetNodeId() && da.GetEpoch() == m.GetEpoch() {
		delete(t.acts, key)
		h.putDurable(key, nil)
	}
	stored := h.persistLocked(&write{})
	h.mu.Unlock()
	if err := written(ctx, stored); err != nil {
		return nil, err
	}
	return connect.NewResponse(&actorv1.ReleaseDurableResponse{}), nil
}

// ListDurable lists the durable activations on live nodes.
func (h *Head) ListDurable(context.Context, *connect.Request[actorv1.ListDurableRequest]) (*connect.Response[actorv1.ListDurableResponse], error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := &h.dur
	out := &actorv1.ListDurableResponse{}
	keys := make([]string, 0, len(t.acts))
	for k := range t.acts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if da := h.liveOwnerLocked(t, k); da != nil {
			out.Activations = append(out.Activations, proto.Clone(da).(*actorv1.DurableActivation))
		}
	}
	h.persistLocked(&write{}) // the entries of lost nodes it dropped
	return connect.NewResponse(out), nil
}
