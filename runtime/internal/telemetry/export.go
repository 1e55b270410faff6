package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// prometheusMeterProvider builds an SDK meter provider whose reader
// serves the node's metrics for Prometheus on addr.
func (t *Telemetry) prometheusMeterProvider(addr string) (metric.MeterProvider, error) {
	r, err := t.servePrometheus(addr)
	if err != nil {
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
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
