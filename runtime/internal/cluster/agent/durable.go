package agent

import (
	"context"
	"encoding/base64"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

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
	className, id, ok := cluster.ParseDurableActorID(env.GetActorId())
	if !ok || a.durable == nil {
		done(errorResult(cluster.NotOnNodeError(env.GetActorId(), a.node.ID)))
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
	if s := env.GetMetadata()[cluster.DurableInitKey]; s != "" {
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
