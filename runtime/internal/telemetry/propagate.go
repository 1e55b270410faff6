package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
)

// Inject returns the trace context of ctx as string metadata, to travel
// with a call to another node; nil when ctx carries none.
func (t *Telemetry) Inject(ctx context.Context) map[string]string {
	if t == nil {
		return nil
	}
	carrier := propagation.MapCarrier{}
	t.propagator.Inject(ctx, carrier)
	if len(carrier) == 0 {
		return nil
	}
	return carrier
}

// Extract returns ctx carrying the trace context found in metadata
// received with a call from another node.
func (t *Telemetry) Extract(ctx context.Context, metadata map[string]string) context.Context {
	if t == nil || len(metadata) == 0 {
		return ctx
	}
	return t.propagator.Extract(ctx, propagation.MapCarrier(metadata))
}
