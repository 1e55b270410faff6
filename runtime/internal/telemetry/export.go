package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// configured reports whether the environment names an exporter for a
// signal: OTEL_<SIGNAL>_EXPORTER other than "none", or an OTLP endpoint.
func configured(signal string) bool {
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

// envTracerProvider builds an SDK tracer provider from the OTEL_*
// environment, or returns nil when it configures no trace exporter.
func (t *Telemetry) envTracerProvider(ctx context.Context) (trace.TracerProvider, error) {
	if !configured("TRACES") {
		return nil, nil
	}
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, fmt.Errorf("trace exporter from OTEL_* environment: %w", err)
	}
	if autoexport.IsNoneSpanExporter(exp) {
		return nil, nil
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	t.owned = append(t.owned, tp.Shutdown)
	return tp, nil
}

// envMeterProvider builds an SDK meter provider with the readers the
// OTEL_* environment and prometheusAddr ask for, or returns nil when
// there are none.
func (t *Telemetry) envMeterProvider(ctx context.Context, prometheusAddr string) (metric.MeterProvider, error) {
	var opts []sdkmetric.Option
	if configured("METRICS") {
		r, err := autoexport.NewMetricReader(ctx)
		if err != nil {
			return nil, fmt.Errorf("metric reader from OTEL_* environment: %w", err)
		}
		if !autoexport.IsNoneMetricReader(r) {
			opts = append(opts, sdkmetric.WithReader(r))
		}
	}
	if prometheusAddr != "" {
		r, err := t.servePrometheus(prometheusAddr)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sdkmetric.WithReader(r))
	}
	if len(opts) == 0 {
		return nil, nil
	}
	mp := sdkmetric.NewMeterProvider(opts...)
	// The provider shuts down before the server closes: owned runs in order.
	t.owned = append([]func(context.Context) error{mp.Shutdown}, t.owned...)
	return mp, nil
}

// servePrometheus serves a registry of its own at /metrics on addr and
// returns the reader that fills it. The registry also holds the Go
// runtime's metrics (go_goroutines, go_memstats_*...) and the process's
// (process_resident_memory_bytes, process_open_fds...).
func (t *Telemetry) servePrometheus(addr string) (sdkmetric.Reader, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("prometheus go collector: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("prometheus process collector: %w", err)
	}
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics endpoint: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: promLogger{t}}))
	t.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	t.addr = ln.Addr().String()
	srv := t.server
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.log.Error("metrics endpoint stopped", "addr", ln.Addr().String(), "error", err)
		}
	}()
	t.owned = append(t.owned, func(ctx context.Context) error {
		if err := srv.Shutdown(ctx); err != nil {
			return errors.Join(err, srv.Close())
		}
		return nil
	})
	return exp, nil
}

// MetricsAddr returns the address the metrics endpoint listens on, or ""
// without one.
func (t *Telemetry) MetricsAddr() string {
	if t == nil {
		return ""
	}
	return t.addr
}

// promLogger sends the Prometheus handler's errors to the node's log.
type promLogger struct{ t *Telemetry }

func (l promLogger) Println(v ...any) { l.t.log.Error("metrics endpoint", "error", fmt.Sprint(v...)) }
