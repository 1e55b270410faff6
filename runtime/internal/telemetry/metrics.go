package telemetry

import (
	"context"
	"sync"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Attribute keys of the gauges.
const (
	ActorState   = attribute.Key("troupe.actor.state")
	ResourceName = attribute.Key("troupe.resource.name")
)

// metrics holds the instruments, and the attribute sets of each class,
// method and code, built once: recording a call builds no attributes.
type metrics struct {
	meter     metric.Meter
	calls     metric.Int64Counter
	duration  metric.Float64Histogram
	queueWait metric.Float64Histogram
	restarts  metric.Int64Counter

	actors     metric.Int64ObservableGauge
	queueDepth metric.Int64ObservableGauge
	pending    metric.Int64ObservableGauge
	resTotal   metric.Float64ObservableGauge
	resUsed    metric.Float64ObservableGauge

	sets sync.Map // setKey → *attrSet
}

type setKey struct {
	procedure, class string
	code             connect.Code // 0 is ok
}

// noCode keys the attribute sets without a status code.
const noCode = ^connect.Code(0)

// latencyBuckets suit calls from microseconds to seconds.
var latencyBuckets = []float64{0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func (m *metrics) init(meter metric.Meter) error {
	m.meter = meter
	var err, e error
	m.calls, e = meter.Int64Counter("troupe.calls", metric.WithUnit("{call}"),
		metric.WithDescription("Calls completed, by actor class, method and status code."))
	err = firstErr(err, e)
	m.duration, e = meter.Float64Histogram("troupe.call.duration", metric.WithUnit("s"),
		metric.WithDescription("Time from a call's arrival at its actor to its result, queueing included."),
		metric.WithExplicitBucketBoundaries(latencyBuckets...))
	err = firstErr(err, e)
	m.queueWait, e = meter.Float64Histogram("troupe.call.queue_wait", metric.WithUnit("s"),
		metric.WithDescription("Time a call waited in its actor's mailbox before its method started."),
		metric.WithExplicitBucketBoundaries(latencyBuckets...))
	err = firstErr(err, e)
	m.restarts, e = meter.Int64Counter("troupe.actor.restarts", metric.WithUnit("{restart}"),
		metric.WithDescription("Actor restarts, by class."))
	err = firstErr(err, e)
	m.actors, e = meter.Int64ObservableGauge("troupe.actors", metric.WithUnit("{actor}"),
		metric.WithDescription("Actors on the node, by class and state."))
	err = firstErr(err, e)
	m.queueDepth, e = meter.Int64ObservableGauge("troupe.actor.queue_depth", metric.WithUnit("{call}"),
		metric.WithDescription("Calls queued in the mailboxes of the node's actors, by class."))
	err = firstErr(err, e)
	m.pending, e = meter.Int64ObservableGauge("troupe.actors.pending", metric.WithUnit("{actor}"),
		metric.WithDescription("Actors waiting to be created (PENDING_CREATION), by class."))
	err = firstErr(err, e)
	m.resTotal, e = meter.Float64ObservableGauge("troupe.node.resources.total", metric.WithUnit("{resource}"),
		metric.WithDescription("The node's logical resources, by name."))
	err = firstErr(err, e)
	m.resUsed, e = meter.Float64ObservableGauge("troupe.node.resources.used", metric.WithUnit("{resource}"),
		metric.WithDescription("The node's logical resources held by actors, by name."))
	return firstErr(err, e)
}

func firstErr(err, e error) error {
	if err != nil {
		return err
	}
	return e
}

// attrSet is one attribute set as the options of a measurement, built
// once: passing the slices themselves to Add and Record allocates
// nothing, where a lone option would make a new slice for each.
type attrSet struct {
	add    []metric.AddOption
	record []metric.RecordOption
}

// set returns the attribute set k, built with build on first use.
func (m *metrics) set(k setKey, build func() []attribute.KeyValue) *attrSet {
	if o, ok := m.sets.Load(k); ok {
		return o.(*attrSet)
	}
	opt := metric.WithAttributeSet(attribute.NewSet(build()...))
	o, _ := m.sets.LoadOrStore(k, &attrSet{add: []metric.AddOption{opt}, record: []metric.RecordOption{opt}})
	return o.(*attrSet)
}

// classAttrs is the attribute set of measurements of actors of class.
func (m *metrics) classAttrs(class string) *attrSet {
	return m.set(setKey{class: class, code: noCode}, func() []attribute.KeyValue {
		return []attribute.KeyValue{ActorClass.String(class)}
	})
}

// methodAttrs is the attribute set of measurements of calls to
// procedure on actors of class.
func (m *metrics) methodAttrs(procedure, class string) *attrSet {
	return m.set(setKey{procedure: procedure, class: class, code: noCode}, func() []attribute.KeyValue {
		return []attribute.KeyValue{ActorClass.String(class), rpcMethod(procedure)}
	})
}

// callAttrs is the attribute set of calls to procedure on actors of class
// that ended with err.
func (m *metrics) callAttrs(procedure, class string, err error) *attrSet {
	var code connect.Code
	if err != nil {
		code = connect.CodeOf(err)
	}
	return m.set(setKey{procedure: procedure, class: class, code: code}, func() []attribute.KeyValue {
		status := codeOK
		if code != 0 {
			status = code.String()
		}
		return []attribute.KeyValue{ActorClass.String(class), rpcMethod(procedure),
			semconv.RPCResponseStatusCodeKey.String(status)}
	})
}

// ActorSample is one actor as the gauges count it.
type ActorSample struct {
	Class  string
	State  string
	Queued int
}

// ResourceSample is one resource of the node.
type ResourceSample struct {
	Name        string
	Total, Used float64
}

// Source is what the gauges observe, read at each collection.
type Source struct {
	Actors    func() []ActorSample
	Resources func() []ResourceSample
}

// Observe registers the node's gauges, read from src at each collection.
func (t *Telemetry) Observe(src Source) error {
	if t == nil {
		return nil
	}
	reg, err := t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		type classState struct{ class, state string }
		states := map[classState]int64{}
		depth := map[string]int64{}
		pending := map[string]int64{}
		if src.Actors != nil {
			for _, a := range src.Actors() {
				states[classState{a.Class, a.State}]++
				depth[a.Class] += int64(a.Queued)
				if a.State == "PENDING_CREATION" {
					pending[a.Class]++
				} else if _, ok := pending[a.Class]; !ok {
					pending[a.Class] = 0
				}
			}
		}
		for k, n := range states {
			o.ObserveInt64(t.actors, n, metric.WithAttributes(ActorClass.String(k.class), ActorState.String(k.state)))
		}
		for class, n := range depth {
			o.ObserveInt64(t.queueDepth, n, metric.WithAttributes(ActorClass.String(class)))
		}
		for class, n := range pending {
			o.ObserveInt64(t.pending, n, metric.WithAttributes(ActorClass.String(class)))
		}
		if src.Resources != nil {
			for _, r := range src.Resources() {
				o.ObserveFloat64(t.resTotal, r.Total, metric.WithAttributes(ResourceName.String(r.Name), t.node))
				o.ObserveFloat64(t.resUsed, r.Used, metric.WithAttributes(ResourceName.String(r.Name), t.node))
			}
		}
		return nil
	}, t.actors, t.queueDepth, t.pending, t.resTotal, t.resUsed)
	if err != nil {
		return err
	}
	t.sources = append(t.sources, reg)
	return nil
}
