package telemetry

import (
	"context"
	"strings"
	"time"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Troupe's own attribute keys; the rpc.* keys come from semconv.
const (
	ActorID       = attribute.Key("troupe.actor.id")
	ActorClass    = attribute.Key("troupe.actor.class")
	ActorName     = attribute.Key("troupe.actor.name")
	NodeID        = attribute.Key("troupe.node.id")
	JobID         = attribute.Key("troupe.job.id")
	QueuedNanos   = attribute.Key("troupe.call.queued_ns")
	DeathCause    = attribute.Key("troupe.actor.death_cause")
	RestartNumber = attribute.Key("troupe.actor.restarts")
)

// rpcSystem names the protocol family of actor calls: Connect, whose
// procedure names they share.
var rpcSystem = semconv.RPCSystemNameConnectrpc

var (
	clientOpts   = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
	serverOpts   = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}
	internalOpts = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal)}
)

// Actor is what spans say about an actor.
type Actor struct {
	ID, Class, Name, Job, Node string
}

func (a *Actor) attrs() []attribute.KeyValue {
	kv := make([]attribute.KeyValue, 0, 5)
	kv = append(kv, ActorID.String(a.ID), ActorClass.String(a.Class))
	if a.Name != "" {
		kv = append(kv, ActorName.String(a.Name))
	}
	if a.Node != "" {
		kv = append(kv, NodeID.String(a.Node))
	}
	if a.Job != "" {
		kv = append(kv, JobID.String(a.Job))
	}
	return kv
}

// SpanName is the name of a call's spans: its procedure without the
// leading slash, "counter.v1.Counter/Increment".
func SpanName(procedure string) string { return strings.TrimPrefix(procedure, "/") }

// StartClient starts the client span of a call to target, made with ctx.
// It returns the ctx the call carries to the method, and the span to end
// with EndCall, nil when it does not record.
func (t *Telemetry) StartClient(ctx context.Context, procedure string, target *Actor) (context.Context, trace.Span) {
	if !t.Tracing() {
		return ctx, nil
	}
	ctx, span := t.tracer.Start(ctx, SpanName(procedure), clientOpts...)
	if !span.IsRecording() {
		return ctx, nil
	}
	kv := append(target.attrs(), rpcSystem, semconv.RPCMethod(SpanName(procedure)))
	if target.Job == "" {
		kv = append(kv, t.job)
	}
	span.SetAttributes(kv...)
	return ctx, span
}

// Server is the server side of one run of a call: its span and the
// measurements taken when it ends. The zero Server records nothing.
type Server struct {
	span trace.Span
}

// StartServer starts the server span around a method of actor a, under
// the client span ctx carries. queued is when the call was queued, zero
// if not measured.
func (t *Telemetry) StartServer(ctx context.Context, procedure string, a *Actor, queued time.Time) (context.Context, Server) {
	if queued.IsZero() || t == nil {
		// Not measured: nothing records this call.
		return ctx, Server{}
	}
	now := time.Now()
	wait := now.Sub(queued)
	if t.Metering() {
		t.queueWait.Record(ctx, wait.Seconds(), t.methodAttrs(procedure, a.Class))
	}
	if !t.Tracing() {
		return ctx, Server{}
	}
	ctx, span := t.tracer.Start(ctx, SpanName(procedure), serverOpts[0], trace.WithTimestamp(now))
	if !span.IsRecording() {
		return ctx, Server{}
	}
	span.SetAttributes(append(a.attrs(), rpcSystem, semconv.RPCMethod(SpanName(procedure)),
		QueuedNanos.Int64(int64(wait)))...)
	return ctx, Server{span: span}
}

// Panicked marks the method as panicked with message and stack.
func (s Server) Panicked(message, stack string) {
	if s.span == nil {
		return
	}
	s.span.AddEvent(semconv.ExceptionEventName, trace.WithAttributes(
		semconv.ExceptionTypeKey.String("panic"),
		semconv.ExceptionMessageKey.String(message),
		semconv.ExceptionStacktraceKey.String(stack)))
	s.span.SetAttributes(semconv.RPCResponseStatusCodeKey.String(connect.CodeUnknown.String()))
	s.span.SetStatus(codes.Error, "panic: "+message)
	s.span.End()
}

// End ends the server span with the method's error.
func (s Server) End(err error) {
	if s.span == nil {
		return
	}
	endWith(s.span, err)
}

// endWith sets the status from err and ends span.
func endWith(span trace.Span, err error) {
	if err == nil {
		span.SetAttributes(semconv.RPCResponseStatusCodeKey.String(codeOK))
	} else {
		code := connect.CodeOf(err)
		span.SetAttributes(semconv.RPCResponseStatusCodeKey.String(code.String()))
		span.SetStatus(codes.Error, code.String()+": "+err.Error())
	}
	span.End()
}

// codeOK is the status code of a call that succeeded; the others are
// Connect's code names.
const codeOK = "ok"

// EndCall ends a call: its client span, if any, and, on the node that
// hosts the target (class is its class), the call's count and duration
// since queued. A nil t only ends the span.
func (t *Telemetry) EndCall(span trace.Span, procedure, class string, queued time.Time, err error) {
	if span != nil {
		endWith(span, err)
	}
	if t == nil || queued.IsZero() || class == "" || !t.Metering() {
		return
	}
	d := time.Since(queued)
	opt := t.callAttrs(procedure, class, err)
	t.calls.Add(context.Background(), 1, opt)
	t.duration.Record(context.Background(), d.Seconds(), opt)
}

// StartSpawn starts the span of spawning an actor of class. The returned
// ctx is the actor's: its constructor and restarts are traced under it.
func (t *Telemetry) StartSpawn(ctx context.Context, class string) (context.Context, trace.Span) {
	if !t.Tracing() {
		return ctx, nil
	}
	ctx, span := t.tracer.Start(ctx, "troupe.spawn "+class, internalOpts...)
	if !span.IsRecording() {
		return ctx, nil
	}
	span.SetAttributes(ActorClass.String(class), t.node, t.job)
	return ctx, span
}

// EndSpawn ends a spawn span with the actor spawned, or the error.
func EndSpawn(span trace.Span, a *Actor, err error) {
	if span == nil {
		return
	}
	if a != nil {
		span.SetAttributes(a.attrs()...)
	}
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Kill records a kill of actor a asked for with ctx.
func (t *Telemetry) Kill(ctx context.Context, a *Actor, restart bool) {
	if !t.Tracing() {
		return
	}
	_, span := t.tracer.Start(ctx, "troupe.kill "+a.Class, internalOpts...)
	if span.IsRecording() {
		span.SetAttributes(append(a.attrs(), attribute.Bool("troupe.kill.restart", restart))...)
	}
	span.End()
}

// Restarted records that actor a is restarting after cause, for the
// restarts-th time. ctx is the actor's: the restart is traced under its
// spawn.
func (t *Telemetry) Restarted(ctx context.Context, a *Actor, cause string, restarts int) {
	if t == nil {
		return
	}
	if t.Metering() {
		t.restarts.Add(ctx, 1, t.classAttrs(a.Class))
	}
	if !t.Tracing() {
		return
	}
	_, span := t.tracer.Start(ctx, "troupe.restart "+a.Class, internalOpts...)
	if span.IsRecording() {
		span.SetAttributes(append(a.attrs(), DeathCause.String(cause), RestartNumber.Int(restarts))...)
	}
	span.End()
}
