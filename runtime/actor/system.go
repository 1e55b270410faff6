package actor

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
)

// DefaultNamespace is the namespace of a system started without
// WithNamespace.
const DefaultNamespace = "default"

// System is a running Troupe node as seen by one driver: it spawns, finds,
// calls and kills actors. It is also a job: actors it spawns without a
// detached lifetime end with it.
type System struct {
	namespace string
	job       string
	log       *slog.Logger
	node      *node.Node
	plane     plane // where spawns, lookups, kills and listings go
	tel       *telemetry.Telemetry
	closed    atomic.Bool
	classes   []Registration // as given to WithClasses, for the gateway
	durable   *durableHost
	icpt      *interceptors // nil without WithInterceptors
	// pendingTimeout is WithPendingTimeout's; 0 is off.
	pendingTimeout time.Duration
}

// Start runs an embedded node inside this process, a head and a worker in
// one, with no network and no servers to run, and returns the system to
// drive it. Shutdown ends it.
func Start(ctx context.Context, opts ...Option) (*System, error) {
	cfg := newConfig(opts)
	return newSystem(ctx, &cfg, func(s *System, total resources.Set) plane {
		return newEmbeddedPlane(s, total, cfg.labels)
	})
}

func newConfig(opts []Option) config {
	cfg := config{namespace: DefaultNamespace, log: slog.Default()}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if cfg.namespace == "" {
		cfg.namespace = DefaultNamespace
	}
	if cfg.log == nil {
		cfg.log = slog.Default()
	}
	return cfg
}

// newSystem builds a system's node, with the classes and resources cfg
// gives it, its control plane, which newPlane makes from the system and
// the node's resources, and its telemetry.
func newSystem(ctx context.Context, cfg *config, newPlane func(*System, resources.Set) plane) (*System, error) {
	if err := node.CheckName("namespace", cfg.namespace); err != nil {
		return nil, err
	}
	total, err := nodeResources(cfg)
	if err != nil {
		return nil, err
	}
	retention, stopTimeout, err := cfg.nodeSettings()
	if err != nil {
		return nil, err
	}
	pendingTimeout, err := cfg.pendingTimeoutOf()
	if err != nil {
		return nil, err
	}
	id := cfg.nodeID
	if id == "" {
		id = newID(8)
	}
	n := node.New(id, cfg.log)
	n.SetDeadRetention(retention)
	n.SetStopTimeout(stopTimeout)
	for _, r := range cfg.classes {
		if r.err != nil {
			return nil, r.err
		}
		if r.class == nil {
			return nil, errs.Newf(errs.ErrInvalidOption, "WithClasses: empty registration")
		}
		if r.durable && cfg.durable.store == nil {
			return nil, errs.Newf(errs.ErrInvalidOption, "actor class %s is durable: give its state a store with WithStateStore (runtime/actor/sqlite or runtime/actor/postgres)", r.class.Name)
		}
		if err := n.Register(r.class, r.factory); err != nil {
			return nil, err
		}
	}
	s := &System{namespace: cfg.namespace, job: newID(4), log: cfg.log, node: n, classes: cfg.classes, pendingTimeout: pendingTimeout}
	if len(cfg.interceptors) > 0 {
		s.icpt = &interceptors{list: cfg.interceptors}
		n.Serve = serveFunc(cfg.interceptors, "")
	}
	s.durable = newDurableHost(s, cfg.durable)
	n.Host = s
	s.plane = newPlane(s, total)
	if err := s.startTelemetry(ctx, cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// startTelemetry traces and measures the node as cfg says.
func (s *System) startTelemetry(ctx context.Context, cfg *config) error {
	tel, err := telemetry.New(ctx, telemetry.Config{
		TracerProvider: cfg.tracerProvider, MeterProvider: cfg.meterProvider,
		Propagator: cfg.propagator, PrometheusAddr: cfg.prometheusAddr,
		NodeID: s.node.ID, JobID: s.job, Log: cfg.log,
	})
	if err != nil {
		return errs.New(errs.ErrInvalidOption, fmt.Errorf("telemetry: %w", err))
	}
	err = tel.Observe(telemetry.Source{
		Actors: func() []telemetry.ActorSample {
			actors := s.node.Actors()
			out := make([]telemetry.ActorSample, 0, len(actors))
			for _, a := range actors {
				info := a.Info()
				out = append(out, telemetry.ActorSample{Class: info.Class, State: info.State.String(), Queued: info.Pending})
			}
			return append(out, s.plane.waitingActors()...)
		},
		Resources: s.plane.resources,
	})
	if err != nil {
		_ = tel.Shutdown(ctx)
		return errs.New(errs.ErrInvalidOption, fmt.Errorf("telemetry: %w", err))
	}
	s.tel, s.node.Tel = tel, tel
	return nil
}

func nodeResources(cfg *config) (resources.Set, error) {
	m := map[string]float64{}
	for k, v := range cfg.resources {
		m[k] = v
	}
	if cfg.cpus != nil {
		m[resources.CPU] = *cfg.cpus
	} else if _, ok := m[resources.CPU]; !ok {
		m[resources.CPU] = float64(runtime.NumCPU())
	}
	if cfg.gpus != nil {
		m[resources.GPU] = *cfg.gpus
	} else if _, ok := m[resources.GPU]; !ok {
		m[resources.GPU] = float64(detectGPUs())
	}
	if cfg.memory != nil {
		m[resources.Memory] = *cfg.memory
	} else if _, ok := m[resources.Memory]; !ok {
		m[resources.Memory] = float64(physicalMemory())
	}
	set, err := resources.FromFloat(m)
	if err != nil {
		return nil, errs.New(errs.ErrInvalidOption, fmt.Errorf("node resources: %w", err))
	}
	return set, nil
}

// detectGPUs counts NVIDIA devices.
func detectGPUs() int {
	matches, _ := filepath.Glob("/dev/nvidia[0-9]*")
	return len(matches)
}

// physicalMemory returns the machine's memory in bytes, or 0 if unknown.
func physicalMemory() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

func newID(bytes int) string {
	b := make([]byte, bytes)
	_, _ = rand.Read(b) // never fails on supported platforms
	return hex.EncodeToString(b)
}

// Namespace returns the system's namespace.
func (s *System) Namespace() string { return s.namespace }

// Job returns the id of the job this system is.
func (s *System) Job() string { return s.job }

// NodeID returns the id of the embedded node.
func (s *System) NodeID() string { return s.node.ID }

// MetricsAddr returns the address the node's Prometheus endpoint listens
// on (see WithPrometheus), or "" without one.
func (s *System) MetricsAddr() string { return s.tel.MetricsAddr() }

// Shutdown ends every actor of the system gracefully and waits for their
// Stop hooks (each for at most its stop timeout, see WithStopTimeout) and
// running methods to return, or for ctx to end: then it returns an error
// wrapping ctx.Err() and leaves what still runs to finish on its own.
// Calls made afterwards fail with ErrActorDied or ErrSystemClosed.
func (s *System) Shutdown(ctx context.Context) error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	errPlane := s.plane.close(ctx)
	return errors.Join(errPlane, s.stop(ctx))
}

// stop ends the system's node, its durable actors' store and its
// telemetry.
func (s *System) stop(ctx context.Context) error {
	err := s.node.Shutdown(ctx)
	return errors.Join(err, s.durable.close(), s.tel.Shutdown(ctx))
}

func (s *System) checkOpen() error {
	if s == nil {
		return errs.Newf(errs.ErrSystemClosed, "nil actor system")
	}
	if s.closed.Load() {
		return errs.Newf(errs.ErrSystemClosed, "actor system is shut down")
	}
	return nil
}
