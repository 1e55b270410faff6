package actor

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// The request headers that name the actor a call through the gateway goes
// to: its id, or its name and, optionally, the namespace of the name (by
// default the system's). The id wins when both are set. Responses carry
// the id of the actor that served the call in HeaderActorID.
const (
	HeaderActorID   = "Troupe-Actor-Id"
	HeaderActorName = "Troupe-Actor-Name"
	HeaderNamespace = "Troupe-Namespace"
)

// DefaultMaxMessageBytes is the largest request message the gateway reads
// unless MaxMessageBytes says otherwise: 4 MiB.
const DefaultMaxMessageBytes = 4 << 20

// A GatewayOption configures the handler Gateway returns.
type GatewayOption interface {
	applyGateway(*gatewayConfig)
}

type gatewayConfig struct {
	token    string
	maxBytes int
}

type gatewayFunc func(*gatewayConfig)

func (f gatewayFunc) applyGateway(c *gatewayConfig) { f(c) }

// BearerToken makes every request to the actors, the control service and
// reflection carry "Authorization: Bearer <token>"; others fail with
// unauthenticated. Health checks stay open. Default: no token.
func BearerToken(token string) GatewayOption {
	return gatewayFunc(func(c *gatewayConfig) { c.token = token })
}

// MaxMessageBytes bounds the size of a request message, after
// decompression; a larger one fails with resource_exhausted. Default
// DefaultMaxMessageBytes.
func MaxMessageBytes(n int) GatewayOption {
	return gatewayFunc(func(c *gatewayConfig) { c.maxBytes = n })
}

// Gateway returns the HTTP handler through which programs in any language
// call the system's actors. It serves, for the Connect, gRPC and gRPC-Web
// protocols:
//
//   - every method of every actor class registered with WithClasses at its
//     standard path, "/counter.v1.Counter/Increment", with the headers
//     HeaderActorID or HeaderActorName (and HeaderNamespace) naming the
//     actor; a call runs like a Go caller's actor.Call, wherever the actor
//     lives;
//   - actor.v1.ControlService, to spawn, find, kill and list actors;
//   - gRPC server reflection (v1 and v1alpha) for those services, so that
//     buf curl and grpcurl need no schema; a reflection request is at most
//     16 KiB and each name in it at most 1 KiB;
//   - gRPC health checking (grpc.health.v1.Health), NOT_SERVING once the
//     system is shut down.
//
// Serve it over HTTP/2 for gRPC (h2c without TLS), from an http.Server
// with ReadHeaderTimeout and IdleTimeout set so idle connections are
// closed (a node's listener sets them, see runtime/cluster). Errors are Connect
// errors: a missing actor header is invalid_argument, an unknown actor
// not_found, and runtime and application errors keep their codes.
func (s *System) Gateway(opts ...GatewayOption) (http.Handler, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	cfg := gatewayConfig{maxBytes: DefaultMaxMessageBytes}
	for _, o := range opts {
		if o != nil {
			o.applyGateway(&cfg)
		}
	}
	if cfg.maxBytes < 1 {
		return nil, errs.Newf(errs.ErrInvalidOption, "MaxMessageBytes(%d) must be ≥ 1", cfg.maxBytes)
	}
	handlerOpts := []connect.HandlerOption{connect.WithReadMaxBytes(cfg.maxBytes)}

	mux := http.NewServeMux()
	var services []string
	seen := map[string]bool{}
	for name := range builtinServices {
		seen[name] = true
	}
	for _, r := range s.classes {
		if r.typed == nil || r.class == nil {
			continue
		}
		if seen[r.class.Name] {
			if _, builtin := builtinServices[r.class.Name]; builtin {
				return nil, errs.Newf(errs.ErrInvalidOption, "actor class %s: the gateway serves its own service of that name", r.class.Name)
			}
			continue // registered twice
		}
		seen[r.class.Name] = true
		services = append(services, r.class.Name)
		for procedure, h := range r.typed.gatewayRoutes(s, handlerOpts) {
			mux.Handle(procedure, h)
		}
	}
	mux.Handle(actorv1connect.NewControlServiceHandler(&controlService{s: s}, handlerOpts...))
	services = append(services, actorv1connect.ControlServiceName)

	for path, h := range reflectionHandlers(services) {
		mux.Handle(path, h)
	}
	health := &healthChecker{s: s, services: map[string]bool{"": true}}
	for _, name := range services {
		health.services[name] = true
	}
	mux.Handle(grpchealth.NewHandler(health))
	if cfg.token != "" {
		return requireBearer(cfg.token, mux), nil
	}
	return mux, nil
}

// builtinServices are the services every gateway serves besides the
// actor classes.
var builtinServices = map[string]struct{}{
	actorv1connect.ControlServiceName: {}, grpchealth.HealthV1ServiceName: {},
	grpcreflect.ReflectV1ServiceName: {}, grpcreflect.ReflectV1AlphaServiceName: {},
}

// gatewayRoutes is an actor class with its types: *Class.
type gatewayRoutes interface {
	// gatewayRoutes returns the class's method handlers by path.
	gatewayRoutes(s *System, opts []connect.HandlerOption) map[string]http.Handler
}

// gatewayClass is what each method handler of one class shares.
type gatewayClass struct {
	sys  *System
	name string
	// resolve finds the actor a request's headers name.
	resolve func(ctx context.Context, h http.Header) (*Ref, error)
	opts    []connect.HandlerOption
	service protoreflect.ServiceDescriptor // nil if not in the registry
}

func (c *Class[I, A]) gatewayRoutes(s *System, opts []connect.HandlerOption) map[string]http.Handler {
	g := &gatewayClass{sys: s, name: c.c.Name, opts: opts}
	if d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(c.c.Name)); err == nil {
		g.service, _ = d.(protoreflect.ServiceDescriptor)
	}
	self := func(r *Ref) *Ref { return r }
	// Through Lookup and FromRef, like a Go caller, so the actor is found
	// wherever in the cluster it lives.
	g.resolve = func(ctx context.Context, h http.Header) (*Ref, error) {
		id, name, ns := h.Get(HeaderActorID), h.Get(HeaderActorName), h.Get(HeaderNamespace)
		for _, v := range []struct{ header, value string }{{HeaderActorID, id}, {HeaderActorName, name}, {HeaderNamespace, ns}} {
			if err := node.CheckName("header "+strings.ToLower(v.header), v.value); err != nil {
				return nil, err
			}
		}
		switch {
		case id != "":
			return FromRef(ctx, s, c, &actorv1.ActorRef{ActorId: id}, self)
		case name != "":
			if ns == "" {
				ns = s.namespace
			}
			return Lookup(ctx, s, c, name, self, InNamespace(ns))
		}
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf(
			"%s: no actor named: set the header %s to the actor's id, or %s to its name (and %s to its namespace, default %q)",
			c.c.Name, strings.ToLower(HeaderActorID), strings.ToLower(HeaderActorName), strings.ToLower(HeaderNamespace), s.namespace))
	}
	routes := make(map[string]http.Handler, len(c.methods))
	for _, m := range c.methods {
		routes[m.desc().Procedure] = m.gatewayHandler(g)
	}
	return routes
}

// gatewayHandler serves the method as a unary Connect handler: it finds
// the actor the headers name and calls it with actor.Call.
func (m *Method[Req, Res]) gatewayHandler(g *gatewayClass) http.Handler {
	opts := append([]connect.HandlerOption(nil), g.opts...)
	if m.m.Readonly {
		// Connect GET requests, cacheable, for methods that change nothing.
		opts = append(opts, connect.WithIdempotency(connect.IdempotencyNoSideEffects))
	}
	if g.service != nil {
		name := m.m.Procedure[strings.LastIndexByte(m.m.Procedure, '/')+1:]
		if md := g.service.Methods().ByName(protoreflect.Name(name)); md != nil {
			opts = append(opts, connect.WithSchema(md))
		}
	}
	return connect.NewUnaryHandler(m.m.Procedure, func(ctx context.Context, req *connect.Request[boxed[Req]]) (*connect.Response[boxed[Res]], error) {
		ref, err := g.resolve(ctx, req.Header())
		if err != nil {
			return nil, err
		}
		if tel := g.sys.tel; tel.Tracing() {
			ctx = tel.Extract(ctx, traceHeaders(req.Header()))
		}
		fut := Call(ctx, ref, m, req.Msg.message())
		res, err := fut.Get(ctx)
		if err != nil {
			if ctx.Err() != nil {
				fut.Cancel() // the caller went away: so does its call
			}
			return nil, err
		}
		resp := connect.NewResponse(&boxed[Res]{m: res, set: true})
		resp.Header().Set(HeaderActorID, ref.ID())
		return resp, nil
	}, opts...)
}

// boxed carries a message of type M, a pointer such as
// *counterv1.IncrementRequest, through connect's generic handler, whose
// type parameter is the message's struct rather than its pointer. It is a
// proto.Message: its reflection is M's, allocated on first use, so
// connect's codecs decode into and encode from M itself.
type boxed[M proto.Message] struct {
	m   M
	set bool
}

func (b *boxed[M]) ProtoReflect() protoreflect.Message { return b.message().ProtoReflect() }

// message returns the boxed message, empty if none was decoded.
func (b *boxed[M]) message() M {
	if !b.set {
		b.m, b.set = newMessage[M](), true
	}
	return b.m
}

// traceHeaders returns the request's headers as the lower-case metadata a
// propagator reads (traceparent, tracestate, baggage...).
func traceHeaders(h http.Header) map[string]string {
	md := make(map[string]string, len(h))
	for k, v := range h {
		if len(v) > 0 {
			md[strings.ToLower(k)] = v[0]
		}
	}
	return md
}

// requireBearer wraps h so that every request but health checks carries
// the token; others fail with unauthenticated, in whichever protocol they
// speak, before their body is read, and their connection is closed once
// the answer is sent (an HTTP/2 connection after its other requests end).
func requireBearer(token string, h http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	ew := connect.NewErrorWriter()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/"+grpchealth.HealthV1ServiceName+"/") &&
			subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("Connection", "close")
			_ = ew.Write(w, r, connect.NewError(connect.CodeUnauthenticated, errBadToken))
			return
		}
		h.ServeHTTP(w, r)
	})
}

var errBadToken = errors.New(`missing or wrong bearer token: send the header "Authorization: Bearer <token>"`)

// healthChecker answers gRPC health checks for the gateway's services:
// SERVING while the system runs.
type healthChecker struct {
	s        *System
	services map[string]bool
}

func (h *healthChecker) Check(_ context.Context, req *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	if !h.services[req.Service] {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("unknown service %q", req.Service))
	}
	if h.s.closed.Load() {
		return &grpchealth.CheckResponse{Status: grpchealth.StatusNotServing}, nil
	}
	return &grpchealth.CheckResponse{Status: grpchealth.StatusServing}, nil
}
