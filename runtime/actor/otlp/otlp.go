// Package otlp exports a program's spans and metrics where the standard
// OTEL_* environment says: OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER
// (otlp, console, prometheus, none), OTEL_EXPORTER_OTLP_ENDPOINT and its
// per-signal forms, OTEL_EXPORTER_OTLP_PROTOCOL (grpc, http/protobuf) and
// the rest of the OpenTelemetry SDK's variables.
//
// The runtime itself builds no exporter: a System sends its spans and
// metrics to WithTracerProvider and WithMeterProvider, else to the otel
// global providers, as libraries in the OpenTelemetry world do, and the
// program picks the exporters. This package is that choice made from the
// environment, for node processes and tools; it links the OTLP exporters
// (and gRPC), which a program that does not import it does not:
//
//	func main() {
//		shutdown, err := otlp.Setup(ctx)
//		if err != nil { ... }
//		defer shutdown(context.Background()) // flushes what is buffered
//		err = cluster.RunNode(ctx, os.Args[1:], ...)
//	}
package otlp

import (
	"context"
	"errors"
	"fmt"
	"os"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Configured reports whether the environment names an exporter for
// signal ("TRACES" or "METRICS"): OTEL_<SIGNAL>_EXPORTER other than
// "none", or an OTLP endpoint for it.
func Configured(signal string) bool {
	switch os.Getenv("OTEL_" + signal + "_EXPORTER") {
	case "":
	case "none":
		return false
	default:
		return true
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" ||
		os.Getenv("OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT") != ""
}

// NewTracerProvider returns an SDK tracer provider that batches spans to
// the exporter the environment names, or nil when it names none. The
// caller shuts it down.
func NewTracerProvider(ctx context.Context) (*sdktrace.TracerProvider, error) {
	if !Configured("TRACES") {
		return nil, nil
	}
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp: trace exporter from the OTEL_* environment: %w", err)
	}
	if autoexport.IsNoneSpanExporter(exp) {
		return nil, nil
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp)), nil
}

// NewMeterProvider returns an SDK meter provider with the reader the
// environment names, or nil when it names none. The caller shuts it down.
func NewMeterProvider(ctx context.Context) (*sdkmetric.MeterProvider, error) {
	if !Configured("METRICS") {
		return nil, nil
	}
	r, err := autoexport.NewMetricReader(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp: metric reader from the OTEL_* environment: %w", err)
	}
	if autoexport.IsNoneMetricReader(r) {
		return nil, nil
	}
	return sdkmetric.NewMeterProvider(sdkmetric.WithReader(r)), nil
}

// Setup installs, as the otel global tracer and meter providers, the SDK
// providers the environment configures (NewTracerProvider,
// NewMeterProvider); a signal it names no exporter for is left as it was.
// Systems that were given no provider follow the globals, also those
// started before Setup. shutdown flushes and stops what Setup installed;
// call it after the systems' Shutdown. With nothing configured Setup
// installs nothing and shutdown does nothing.
func Setup(ctx context.Context) (shutdown func(context.Context) error, err error) {
	var stops []func(context.Context) error
	shutdown = func(ctx context.Context) error {
		var errs []error
		for _, stop := range stops {
			errs = append(errs, stop(ctx))
		}
		stops = nil
		return errors.Join(errs...)
	}
	tp, err := NewTracerProvider(ctx)
	if err != nil {
		return nil, err
	}
	mp, err := NewMeterProvider(ctx)
	if err != nil {
		if tp != nil {
			_ = tp.Shutdown(ctx)
		}
		return nil, err
	}
	if tp != nil {
		otel.SetTracerProvider(tp)
		stops = append(stops, tp.Shutdown)
	}
	if mp != nil {
		otel.SetMeterProvider(mp)
		stops = append(stops, mp.Shutdown)
	}
	return shutdown, nil
}
