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

// Actor is what spans say about an actor. The functions given one read it
// and keep nothing of it, so a caller may pass the address of a local.
type Actor struct {
	ID, Class, Name, Job, Node string
}

// attrs returns the actor's attributes followed by extra, in a slice
// allocated once at its final size.
func (a *Actor) attrs(extra ...attribute.KeyValue) []attribute.KeyValue {
	n := 2 + len(extra)
	for _, s := range [...]string{a.Name, a.Node, a.Job} {
		if s != "" {
			n++
		}
	}
	return append(a.appendAttrs(make([]attribute.KeyValue, 0, n)), extra...)
}

// appendAttrs appends the actor's attributes, at most five, to kv.
func (a *Actor) appendAttrs(kv []attribute.KeyValue) []attribute.KeyValue {
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

// rpcMethod is the rpc.method attribute of a call to procedure.
func rpcMethod(procedure string) attribute.KeyValue { return semconv.RPCMethod(SpanName(procedure)) }

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
	span.SetAttributes(t.clientAttrs.get(procedure, target, t.job)...)
	return ctx, span
}

// Server is the server side of one run of a call: its span and the
// measurements taken when it ends. The zero Server records nothing.
type Server struct {
	span trace.Span
}

// startTimer is the part of an SDK span that tells when it started.
type startTimer interface{ StartTime() time.Time }

// StartServer starts the server span around a method of actor a, under
// the client span ctx carries. queued is when the call was queued, zero
// if not measured.
func (t *Telemetry) StartServer(ctx context.Context, procedure string, a *Actor, queued time.Time) (context.Context, Server) {
	if queued.IsZero() || t == nil {
		// Not measured: nothing records this call.
		return ctx, Server{}
	}
	var span trace.Span
	sctx := ctx
	if t.Tracing() {
		sctx, span = t.tracer.Start(ctx, SpanName(procedure), serverOpts...)
		if !span.IsRecording() {
			span = nil
		}
	}
	// The call waited until its span started: take the span's start time
	// rather than read the clock again, so that the two agree.
	var now time.Time
	if st, ok := span.(startTimer); ok {
		now = st.StartTime()
	}
	if now.IsZero() {
		now = time.Now()
	}
	wait := now.Sub(queued)
	if t.Metering() {
		t.queueWait.Record(ctx, wait.Seconds(), t.methodAttrs(procedure, a.Class).record...)
	}
	if span == nil {
		return sctx, Server{}
	}
	span.SetAttributes(a.attrs(rpcSystem, rpcMethod(procedure), statusOK, QueuedNanos.Int64(int64(wait)))...)
	return sctx, Server{span: span}
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
//
// A call's spans start with the status code ok, replaced here only when
// the call failed (a later value of an attribute wins). Setting it at the
// start, with the other attributes, lets the SDK size the span's
// attributes once: an attribute added at the end would make it grow them,
// the largest allocation of a traced call.
func endWith(span trace.Span, err error) {
	if err != nil {
		code := connect.CodeOf(err)
		span.SetAttributes(codeAttrs(code)...)
		span.SetStatus(codes.Error, code.String()+": "+err.Error())
	}
	span.End()
}

// codeOK is the status code of a call that succeeded; the others are
// Connect's code names.
const codeOK = "ok"

// statusOK is the status code attribute of a call that succeeded, and of
// one in flight; errAttrs are those of calls that failed, built once:
// ending a span builds no attributes.
var (
	statusOK = semconv.RPCResponseStatusCodeKey.String(codeOK)
	errAttrs = func() (kv [maxCode + 1][]attribute.KeyValue) {
		for c := range kv {
			kv[c] = []attribute.KeyValue{semconv.RPCResponseStatusCodeKey.String(connect.Code(c).String())}
		}
		return kv
	}()
)

// maxCode is the highest Connect code, unauthenticated.
const maxCode = connect.CodeUnauthenticated

// codeAttrs returns the status attributes of a call that failed with
// code.
func codeAttrs(code connect.Code) []attribute.KeyValue {
	if code <= maxCode {
		return errAttrs[code]
	}
	return []attribute.KeyValue{semconv.RPCResponseStatusCodeKey.String(code.String())}
}

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
	set := t.callAttrs(procedure, class, err)
	t.calls.Add(context.Background(), 1, set.add...)
	t.duration.Record(context.Background(), d.Seconds(), set.record...)
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
		t.restarts.Add(ctx, 1, t.classAttrs(a.Class).add...)
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
