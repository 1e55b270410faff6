package cluster

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
)

// notOnNode is the sentinel a node answers with for a call to an actor it
// does not host: the caller resolves the actor again.
const notOnNode = "not_on_node"

// ClientErrors is the client interceptor that turns runtime errors from the
// wire back into typed errors.
func ClientErrors() connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			res, err := next(ctx, req)
			return res, FromWire(err)
		}
	})
}

// ServerErrors is the handler interceptor that attaches the details of
// runtime errors, for ClientErrors to rebuild.
func ServerErrors() connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			res, err := next(ctx, req)
			return res, ToWire(err)
		}
	})
}

// IsNotOnNode reports whether err is a node's answer that it does not
// host the actor called: the caller resolves the actor again.
func IsNotOnNode(err error) bool {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return false
	}
	for _, d := range ce.Details() {
		if v, err := d.Value(); err == nil {
			if rd, ok := v.(*actorv1.RuntimeErrorDetail); ok && rd.GetSentinel() == notOnNode {
				return true
			}
		}
	}
	return false
}

// NotOnNodeError is a node's answer to a call to an actor it does not host.
func NotOnNodeError(id, nodeID string) error {
	ce := connect.NewError(connect.CodeNotFound, fmt.Errorf("no actor %s on node %s", id, nodeID))
	addDetail(ce, &actorv1.RuntimeErrorDetail{Sentinel: notOnNode})
	return ce
}
