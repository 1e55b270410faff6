package actor

import (
	"context"
	"fmt"
	"net/http"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The limits of a gRPC reflection request. Resolving a symbol costs time
// that grows with the square of its length, so the gateway refuses long
// ones before resolving them: no protobuf name or file path comes near
// these.
const (
	// maxReflectionRequestBytes bounds one reflection request message;
	// a larger one fails with resource_exhausted before it is decoded.
	maxReflectionRequestBytes = 16 << 10
	// maxReflectionNameBytes bounds each name in a reflection request (a
	// symbol, a file name, a message type); a longer one fails the stream
	// with invalid_argument.
	maxReflectionNameBytes = 1024
)

// reflectionHandlers returns the gRPC server reflection services (v1 and
// v1alpha) for services, by path, with the request limits above.
func reflectionHandlers(services []string) map[string]http.Handler {
	reflector := grpcreflect.NewStaticReflector(services...)
	opts := []connect.HandlerOption{
		connect.WithReadMaxBytes(maxReflectionRequestBytes),
		connect.WithInterceptors(reflectionLimits{}),
	}
	v1, h1 := grpcreflect.NewHandlerV1(reflector, opts...)
	v1alpha, h1alpha := grpcreflect.NewHandlerV1Alpha(reflector, opts...)
	return map[string]http.Handler{v1: h1, v1alpha: h1alpha}
}

// reflectionLimits checks every reflection request a stream receives
// before the reflector sees it: each name within maxReflectionNameBytes,
// and the client still there.
type reflectionLimits struct{}

func (reflectionLimits) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc { return next }

func (reflectionLimits) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (reflectionLimits) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		return next(ctx, &limitedReflectionConn{StreamingHandlerConn: conn, ctx: ctx})
	}
}

type limitedReflectionConn struct {
	connect.StreamingHandlerConn
	ctx context.Context
}

func (c *limitedReflectionConn) Receive(msg any) error {
	if err := c.StreamingHandlerConn.Receive(msg); err != nil {
		return err
	}
	if err := c.ctx.Err(); err != nil {
		// The client went away: no more work for it.
		return connect.NewError(connect.CodeCanceled, err)
	}
	if m, ok := msg.(proto.Message); ok {
		if err := checkNameLengths(m.ProtoReflect(), 2); err != nil {
			return err
		}
	}
	return nil
}

// checkNameLengths fails with invalid_argument if a string field of m, or
// of the messages it holds down to depth levels, is longer than
// maxReflectionNameBytes.
func checkNameLengths(m protoreflect.Message, depth int) error {
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() || fd.IsMap():
		case fd.Kind() == protoreflect.StringKind:
			if n := len(v.String()); n > maxReflectionNameBytes {
				err = connect.NewError(connect.CodeInvalidArgument, fmt.Errorf(
					"reflection: %s is %d bytes long; the limit is %d", fd.Name(), n, maxReflectionNameBytes))
			}
		case fd.Kind() == protoreflect.MessageKind && depth > 0:
			err = checkNameLengths(v.Message(), depth-1)
		}
		return err == nil
	})
	return err
}
