package actor_test

import (
	"context"
	"testing"

	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// With no telemetry configured, a local call allocates only what the call
// itself needs: its future and the method's response. Tracing and metrics
// code on the path costs nothing until a provider is installed.
func TestCallsAllocateNothingExtraWithoutTelemetry(t *testing.T) {
	for _, k := range []string{"OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		t.Setenv(k, "")
	}
	sys := start(t, nil)
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	req := &testv1.AddRequest{By: 1}
	if _, err := h.Add(ctx, req).Get(ctx); err != nil { // warm the worker pool
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := h.Add(ctx, req).Get(ctx); err != nil {
			t.Fatal(err)
		}
	})
	// The future and the AddResponse the method returns.
	if allocs > 2 {
		t.Fatalf("a local call allocates %.1f times with no telemetry, want at most 2 (the future and the response)", allocs)
	}
}
