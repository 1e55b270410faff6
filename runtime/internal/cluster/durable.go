package cluster

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"sync"

	"connectrpc.com/connect"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// DurablePrefix starts the actor id of a call envelope addressed to a
// durable actor: "durable:<class>/<id>". The node routes such a call to its
// activation of (class, id).
const DurablePrefix = "durable:"

// DurableInitKey is the call metadata key carrying a durable actor's
// serialized init (base64), for the node that creates the actor.
const DurableInitKey = "troupe-durable-init"

// DurableActorID is the envelope actor id of the durable actor (class, id).
func DurableActorID(class, id string) string { return DurablePrefix + class + "/" + id }

// parseDurableActorID splits an envelope actor id made by DurableActorID.
// Class names hold no "/", ids may.
func parseDurableActorID(s string) (class, id string, ok bool) {
	rest, ok := strings.CutPrefix(s, DurablePrefix)
	if !ok {
		return "", "", false
	}
	class, id, ok = strings.Cut(rest, "/")
	return class, id, ok && class != "" && id != ""
}

// DurableCallerKey and DurableSeqKey are the call metadata keys carrying a
// durable call's deduplication key (actor.WithCallKey).
const (
	DurableCallerKey = "troupe-durable-caller"
	DurableSeqKey    = "troupe-durable-seq"
)

// EncodeDurableInit is the DurableInitKey metadata value of init.
func EncodeDurableInit(init []byte) string { return base64.StdEncoding.EncodeToString(init) }

// NotOwnerError is the error of a call that reached a node which does not
// own the durable actor: the caller asks the head again.
func NotOwnerError(class, id, nodeID string) error {
	return notOnNodeError(DurableActorID(class, id), nodeID)
}

// DurableHost runs durable calls on a node: the actor package's durable
// host implements it.
type DurableHost interface {
	// SubmitDurable makes the call of m with req, whose metadata is md,
	// and hands it to this node's activation of (class, id): it activates
	// the actor if the head says this node owns it, and fails the call
	// with NotOwnerError if another node does.
	SubmitDurable(ctx context.Context, class *node.Class, id string, init proto.Message, m *node.Method, req proto.Message, md map[string]string) *node.Call
}

// SetDurable makes the agent route durable calls to h.
func (a *Agent) SetDurable(h DurableHost) { a.durable = h }

// dispatchDurable runs a call addressed to a durable actor.
func (a *Agent) dispatchDurable(ctx context.Context, env *actorv1.CallEnvelope, reply transport.Reply) transport.Canceler {
	done := reply.Send
	className, id, ok := parseDurableActorID(env.GetActorId())
	if !ok || a.durable == nil {
		done(errorResult(notOnNodeError(env.GetActorId(), a.node.ID)))
		return nil
	}
	class, ok := a.node.Class(className)
	if !ok {
		done(errorResult(errs.Newf(errs.ErrUnknownClass, "durable actor class %s is not registered on node %s", className, a.node.ID)))
		return nil
	}
	m, ok := class.Method(env.GetProcedure())
	if !ok {
		done(errorResult(errs.Newf(errs.ErrUnknownMethod, "%s is not a method of %s", env.GetProcedure(), className)))
		return nil
	}
	req := m.NewRequest()
	if err := proto.Unmarshal(env.GetRequest(), req); err != nil {
		done(errorResult(connect.NewError(connect.CodeInvalidArgument, err)))
		return nil
	}
	init := class.NewInit()
	if s := env.GetMetadata()[DurableInitKey]; s != "" {
		b, err := base64.StdEncoding.DecodeString(s)
		if err == nil {
			err = proto.Unmarshal(b, init)
		}
		if err != nil {
			done(errorResult(errs.Newf(errs.ErrInvalidOption, "durable actor %s/%s: decoding its init: %v", className, id, err)))
			return nil
		}
	}
	if md := env.GetMetadata(); len(md) > 0 {
		ctx = a.node.Tel.Extract(ctx, md)
	}
	// A durable call may wait for its activation, which asks the head, on
	// the stream's reader: its own context, which the end of the stream
	// ends meanwhile and the transport's cancel ends afterwards.
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(reply.StreamContext(), cancel)
	c := a.durable.SubmitDurable(ctx, class, id, init, m, req, env.GetMetadata())
	go func() {
		<-c.Done()
		stop()
		cancel()
		done(result(c, new(actorv1.ResultEnvelope)))
	}()
	return transport.CancelFunc(cancel)
}

// durableTable is the head's table of durable activations: (class, id) to
// the node hosting it. It is kept in the head's store; an entry whose node
// is lost is dropped when next looked at.
type durableTable struct {
	once sync.Once
	err  error
	acts map[string]*actorv1.DurableActivation // by durableKey
}

var bucketDurable = []byte("durable")

func durableKey(class, id string) string { return class + "\x00" + id }

// durableLocked loads the table from the store on first use.
func (h *Head) durableLocked() (*durableTable, error) {
	t := &h.dur
	t.once.Do(func() {
		t.acts = map[string]*actorv1.DurableActivation{}
		t.err = h.st.db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucketDurable)
			if err != nil {
				return err
			}
			return b.ForEach(func(k, v []byte) error {
				da := new(actorv1.DurableActivation)
				if err := proto.Unmarshal(v, da); err != nil {
					return err
				}
				t.acts[string(k)] = da
				return nil
			})
		})
	})
	return t, t.err
}

// putDurable stores (da != nil) or deletes the entry key.
func (h *Head) putDurable(key string, da *actorv1.DurableActivation) {
	err := h.st.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDurable)
		if da == nil {
			return b.Delete([]byte(key))
		}
		return putMsg(b, key, da)
	})
	if err != nil {
		h.cfg.Log.Error("head state: writing a durable activation failed", "error", err)
	}
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
func (h *Head) ActivateDurable(_ context.Context, req *connect.Request[actorv1.ActivateDurableRequest]) (*connect.Response[actorv1.ActivateDurableResponse], error) {
	m := req.Msg
	if m.GetClass() == "" || m.GetId() == "" {
		return nil, errs.Newf(errs.ErrInvalidOption, "ActivateDurable: class and id are required")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t, err := h.durableLocked()
	if err != nil {
		return nil, err
	}
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
	return connect.NewResponse(&actorv1.ActivateDurableResponse{Activation: proto.Clone(da).(*actorv1.DurableActivation)}), nil
}

// ReleaseDurable drops a node's activation of a durable actor, unless the
// node started a newer one since.
func (h *Head) ReleaseDurable(_ context.Context, req *connect.Request[actorv1.ReleaseDurableRequest]) (*connect.Response[actorv1.ReleaseDurableResponse], error) {
	m := req.Msg
	h.mu.Lock()
	defer h.mu.Unlock()
	t, err := h.durableLocked()
	if err != nil {
		return nil, err
	}
	key := durableKey(m.GetClass(), m.GetId())
	if da := t.acts[key]; da != nil && da.GetNodeId() == m.GetNodeId() && da.GetEpoch() == m.GetEpoch() {
		delete(t.acts, key)
		h.putDurable(key, nil)
	}
	return connect.NewResponse(&actorv1.ReleaseDurableResponse{}), nil
}

// ListDurable lists the durable activations on live nodes.
func (h *Head) ListDurable(context.Context, *connect.Request[actorv1.ListDurableRequest]) (*connect.Response[actorv1.ListDurableResponse], error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, err := h.durableLocked()
	if err != nil {
		return nil, err
	}
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
	return connect.NewResponse(out), nil
}

// DurableTarget returns the target of calls to the durable actor (class,
// id) from the node nodeID ("" for a driver): its node is resolved with
// ActivateDurable. A durable call is not sent again after it may have
// reached a lost node unless retries allow it.
func (c *Client) DurableTarget(class, id, nodeID string, retries int) *Target {
	t := &Target{ID: DurableActorID(class, id), Class: class, Name: id, MaxTaskRetries: retries}
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
