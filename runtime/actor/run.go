package actor

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/resources"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// RunNode runs this binary as a node of a cluster, hosting the actor
// classes registered through opts (WithClasses), until ctx ends or the
// process gets SIGTERM or SIGINT. args are the command line after the
// program name:
//
//	start --head [--port N] [--host H] [--advertise-host H] [--state-dir DIR] [--heartbeat-interval D] [--heartbeat-timeout D] [node flags]
//	start --address HOST:PORT [--token-file FILE | --token T] [--port N] [--host H] [--advertise-host H] [node flags]
//
// node flags: --num-cpus F, --num-gpus F, --memory BYTES, --resources JSON
// ({"writer_node": 1}), --labels k=v,..., --node-id ID,
// --dead-actor-retention N (see WithDeadActorRetention; on a head it caps
// the head's tables too), --idle-timeout D (default 2m: a connection idle
// that long is closed, and one that sends no request headers within
// min(10s, D)), --max-connections N (default 4096 open at once; more are
// closed as they arrive; 0: no limit), --max-calls-in-flight N (calls from
// other processes the node holds at once, 100,000 by default; see
// docs/semantics.md), and for TLS --tls-cert FILE --tls-key FILE
// [--tls-ca FILE].
//
// With --tls-cert and --tls-key (PEM files) the node serves HTTP/2 over
// TLS only, and reaches the head and other nodes over TLS, trusting the
// certificate authorities in --tls-ca (default: the system's and the
// node's own certificate, which covers one self-signed certificate shared
// by the cluster). A cluster is TLS everywhere or nowhere; drivers join it
// with WithTLS or WithTLSConfig.
//
// A head is the cluster's control plane and a node too. At first start it
// writes a random cluster token to "token" in its state directory (default
// $HOME/.troupe/head), readable only by its user; every request to the head
// and to nodes must carry it. Joining nodes get it from --token-file, --token
// or TROUPE_TOKEN (--token shows it to every user of the machine in ps). A
// token file readable by group or others is used with a warning; a token
// shorter than 32 bytes is refused, by the head in its state directory and
// by joining nodes. Nodes listen on 127.0.0.1 unless --host says otherwise;
// --port 0 (the default) picks a free port. Once serving, RunNode prints
// one line on stdout:
//
//	troupe node listening address=127.0.0.1:40123 node_id=5f0c... head=true
//
// On SIGTERM or SIGINT, or when ctx ends, the node drains: the head places
// nothing more on it, each actor ends once its running calls finish (an
// idle one at once, the rest within 10 s) and restarts elsewhere per its
// max_restarts, and RunNode returns nil. It returns an error, and the node
// leaves the cluster, when the head rejects the node's token or has lost
// its state (the cluster id it answers with changed).
//
// Spans and metrics go to WithTracerProvider and WithMeterProvider, else to
// the otel globals; a node process that exports where the OTEL_*
// environment says calls otlp.Setup (runtime/actor/otlp) before RunNode.
func RunNode(ctx context.Context, args []string, opts ...Option) error {
	return runNode(ctx, args, os.Stdout, opts...)
}

type nodeFlags struct {
	head              bool
	address           string
	host              string
	advertise         string
	port              int
	stateDir          string
	token             string
	tokenFile         string
	nodeID            string
	numCPUs, numGPUs  float64
	memory            uint64
	resources, labels string
	heartbeat         time.Duration
	heartbeatTimeout  time.Duration
	tlsCert, tlsKey   string
	tlsCA             string
	metricsAddr       string
	deadRetention     int
	idleTimeout       time.Duration
	maxConns          int
	maxCallsInFlight  int
}

func parseNodeFlags(args []string) (*nodeFlags, []Option, error) {
	if len(args) > 0 && args[0] == "start" {
		args = args[1:]
	}
	var f nodeFlags
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&f.head, "head", false, "run the head (control plane) and a node")
	fs.StringVar(&f.address, "address", "", "the head's HOST:PORT, to join a cluster")
	fs.StringVar(&f.host, "host", "127.0.0.1", "the address to listen on")
	fs.StringVar(&f.advertise, "advertise-host", "", "the host others reach this node at (default: --host)")
	fs.IntVar(&f.port, "port", 0, "the port to listen on; 0 picks a free one")
	fs.StringVar(&f.stateDir, "state-dir", "", "the head's state directory (default $HOME/.troupe/head)")
	fs.StringVar(&f.token, "token", "", "the cluster token (default: --token-file, then $TROUPE_TOKEN); other users see it in ps")
	fs.StringVar(&f.tokenFile, "token-file", "", "read the cluster token from this file, readable only by its owner")
	fs.StringVar(&f.nodeID, "node-id", "", "the node's id (default: random; a head keeps its first one in its state directory)")
	fs.Float64Var(&f.numCPUs, "num-cpus", -1, "logical CPUs (default: the cores)")
	fs.Float64Var(&f.numGPUs, "num-gpus", -1, "logical GPUs (default: detected)")
	fs.Uint64Var(&f.memory, "memory", 0, "logical memory in bytes (default: physical)")
	fs.StringVar(&f.resources, "resources", "", `custom resources as JSON, {"writer_node": 1}`)
	fs.StringVar(&f.labels, "labels", "", "labels as k=v,k=v")
	fs.DurationVar(&f.heartbeat, "heartbeat-interval", time.Second, "head: how often nodes and drivers heartbeat")
	fs.DurationVar(&f.heartbeatTimeout, "heartbeat-timeout", 10*time.Second, "head: silence after which a node or driver is dead")
	fs.IntVar(&f.maxCallsInFlight, "max-calls-in-flight", transport.DefaultMaxCallsInFlight, "how many calls from other nodes and drivers the node holds at once; each caller's stream holds at most 10,000 of them and keeps the rest waiting on its side")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "serve TLS with this PEM certificate (with --tls-key)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "the PEM private key of --tls-cert")
	fs.StringVar(&f.tlsCA, "tls-ca", "", "trust these PEM certificate authorities for the head and nodes (default: the system's and --tls-cert)")
	fs.StringVar(&f.metricsAddr, "metrics-address", "", "serve the node's Prometheus metrics at HOST:PORT/metrics (default: off)")
	fs.IntVar(&f.deadRetention, "dead-actor-retention", DefaultDeadActorRetention, "how many dead actors the node (and a head) keeps for listings; the oldest dead are evicted first; 0 keeps none")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", transport.DefaultIdleTimeout, "close a connection idle this long (no request in flight); it also bounds the wait for a request's headers")
	fs.IntVar(&f.maxConns, "max-connections", transport.DefaultMaxConnections, "the most connections the node holds open at once; more are closed at once; 0: no limit")
	if err := fs.Parse(args); err != nil {
		return nil, nil, errs.Newf(errs.ErrInvalidOption, "start: %v", err)
	}
	retentionSet := false
	fs.Visit(func(fl *flag.Flag) { retentionSet = retentionSet || fl.Name == "dead-actor-retention" })
	if f.maxCallsInFlight <= 0 {
		return nil, nil, errs.Newf(errs.ErrInvalidOption, "start: --max-calls-in-flight %d must be positive", f.maxCallsInFlight)
	}
	if retentionSet && f.deadRetention < 0 {
		return nil, nil, errs.Newf(errs.ErrInvalidOption, "start: --dead-actor-retention %d: the number of dead actors kept cannot be negative", f.deadRetention)
	}
	if f.idleTimeout <= 0 {
		return nil, nil, errs.Newf(errs.ErrInvalidOption, "start: --idle-timeout %v must be positive", f.idleTimeout)
	}
	if f.maxConns < 0 {
		return nil, nil, errs.Newf(errs.ErrInvalidOption, "start: --max-connections %d cannot be negative", f.maxConns)
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return nil, nil, errs.Newf(errs.ErrInvalidOption, "start: give both --tls-cert and --tls-key, or neither")
	}
	if f.tlsCA != "" && f.tlsCert == "" {
		return nil, nil, errs.Newf(errs.ErrInvalidOption, "start: --tls-ca needs --tls-cert and --tls-key: a cluster speaks TLS everywhere or nowhere")
	}
	if f.token != "" && f.tokenFile != "" {
		return nil, nil, errs.Newf(errs.ErrInvalidOption, "start: give --token or --token-file, not both")
	}
	if f.head && (f.token != "" || f.tokenFile != "") {
		return nil, nil, errs.Newf(errs.ErrInvalidOption, "start: a head keeps its token in <state dir>/%s: --token and --token-file are for joining nodes", cluster.TokenFile)
	}
	if f.head == (f.address != "") {
		return nil, nil, errs.Newf(errs.ErrInvalidOption, "start: give exactly one of --head and --address HOST:PORT")
	}
	var opts []Option
	if f.numCPUs >= 0 {
		opts = append(opts, WithNumCPUs(f.numCPUs))
	}
	if f.numGPUs >= 0 {
		opts = append(opts, WithNumGPUs(f.numGPUs))
	}
	if f.memory > 0 {
		opts = append(opts, WithMemory(f.memory))
	}
	if f.resources != "" {
		var r map[string]float64
		if err := json.Unmarshal([]byte(f.resources), &r); err != nil {
			return nil, nil, errs.Newf(errs.ErrInvalidOption, "start: --resources: %v", err)
		}
		opts = append(opts, WithResources(r))
	}
	if f.labels != "" {
		l := map[string]string{}
		for _, kv := range strings.Split(f.labels, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, nil, errs.Newf(errs.ErrInvalidOption, "start: --labels: %q is not k=v", kv)
			}
			l[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		opts = append(opts, WithLabels(l))
	}
	if f.nodeID != "" {
		opts = append(opts, WithNodeID(f.nodeID))
	}
	if f.token != "" {
		opts = append(opts, WithToken(f.token))
	}
	if f.tlsCA != "" {
		opts = append(opts, WithTLS(f.tlsCA))
	} else if f.tlsCert != "" {
		opts = append(opts, withOwnCA(f.tlsCert))
	}
	if f.metricsAddr != "" {
		opts = append(opts, WithPrometheus(f.metricsAddr))
	}
	if retentionSet {
		opts = append(opts, WithDeadActorRetention(f.deadRetention))
	}
	return &f, opts, nil
}

// withOwnCA makes a node trust the system's certificate authorities and
// its own certificate, for a cluster sharing one self-signed certificate.
func withOwnCA(certFile string) Option {
	return optionFunc(func(c *config) {
		if c.cluster.tls != nil || c.cluster.caFile != "" {
			return
		}
		c.cluster.caFile = certFile
	})
}

func runNode(ctx context.Context, args []string, out io.Writer, opts ...Option) error {
	f, flagOpts, err := parseNodeFlags(args)
	if err != nil {
		return err
	}
	cfg := newConfig(append(opts, flagOpts...))
	tlsConf, err := cfg.cluster.clientTLS()
	if err != nil {
		return err
	}
	retention, err := cfg.deadActorRetention()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	tcp, err := net.Listen("tcp", net.JoinHostPort(f.host, strconv.Itoa(f.port)))
	if err != nil {
		return err
	}
	lis := transport.LimitListener(tcp, f.maxConns)
	addr := lis.Addr().String()
	if f.advertise != "" {
		_, port, _ := net.SplitHostPort(addr)
		addr = net.JoinHostPort(f.advertise, port)
	} else if ip := net.ParseIP(f.host); ip != nil && ip.IsUnspecified() {
		_ = lis.Close()
		return errs.Newf(errs.ErrInvalidOption, "start: --host %s listens on every interface: give --advertise-host, the host others reach this node at", f.host)
	}
	headAddr, token := f.address, cfg.cluster.token
	if f.tokenFile != "" {
		tok, exposed, err := cluster.ReadTokenFile(f.tokenFile)
		if err != nil {
			_ = lis.Close()
			return errs.Newf(errs.ErrInvalidOption, "start: --token-file: %v", err)
		}
		if exposed != 0 {
			cfg.log.Warn(cluster.ExposedWarning(f.tokenFile, exposed))
		}
		token = tok
	} else if f.token != "" {
		cfg.log.Warn("start: --token shows the cluster token to every user of this machine (ps): prefer --token-file or " + TokenEnv)
	}
	if token == "" {
		token = os.Getenv(TokenEnv)
	}
	var head *cluster.Head
	if f.head {
		headAddr = addr
		dir := f.stateDir
		if dir == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				_ = lis.Close()
				return fmt.Errorf("start: no --state-dir and no home directory: %w", err)
			}
			dir = filepath.Join(home, ".troupe", "head")
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			_ = lis.Close()
			return err
		}
		if token, err = cluster.LoadOrCreateToken(dir, cfg.log); err != nil {
			_ = lis.Close()
			return err
		}
		if cfg.nodeID == "" {
			if cfg.nodeID, err = cluster.LoadOrCreateNodeID(dir, func() string { return newID(12) }); err != nil {
				_ = lis.Close()
				return err
			}
		}
		hc, scheme := cluster.HTTPClient(tlsConf)
		head, err = cluster.NewHead(cluster.HeadConfig{
			StateDir: dir, Log: cfg.log, HTTPClient: cluster.AuthClient(hc, token), Scheme: scheme,
			HeartbeatInterval: f.heartbeat, HeartbeatTimeout: f.heartbeatTimeout,
			NewID: func() string { return newID(12) }, DeadActorRetention: &retention,
		})
		if err != nil {
			_ = lis.Close()
			return err
		}
		defer head.Close()
	} else if token == "" {
		_ = lis.Close()
		return errs.Newf(errs.ErrInvalidOption, "start: no cluster token: pass --token-file or set %s (the head wrote it to <state dir>/token)", TokenEnv)
	} else if err := cluster.CheckToken(token); err != nil {
		_ = lis.Close()
		return fmt.Errorf("start: %w", err)
	}

	client := cluster.NewClient(headAddr, token, tlsConf, cfg.log)
	var total resources.Set
	var p *clusterPlane
	s, err := newSystem(ctx, &cfg, func(s *System, t resources.Set) plane {
		total, p = t, newClusterPlane(s, t, client, false)
		return p
	})
	if err != nil {
		client.Close()
		_ = lis.Close()
		return err
	}
	s.job = "" // a node is not a job: actors spawned here belong to their owner's job
	agent := cluster.NewAgent(s.node, &actorv1.NodeInfo{NodeId: s.node.ID, Address: addr, Total: total.Float(),
		Labels: cfg.labels, IsHead: f.head}, client.Head, f.heartbeat, cfg.log)
	agent.SetDurable(p)
	gauges := &telemetry.Source{Resources: agent.Resources}
	if head != nil {
		gauges.Actors = head.PendingActors
	}
	p.gauges.Store(gauges)

	mux := http.NewServeMux()
	interceptors := connect.WithInterceptors(cluster.ServerErrors())
	if head != nil {
		mux.Handle(actorv1connect.NewHeadServiceHandler(head, interceptors))
	}
	mux.Handle(actorv1connect.NewNodeServiceHandler(agent, interceptors))
	mux.Handle(transport.NewHandler(agent, transport.WithLogger(cfg.log), transport.WithMaxCallsInFlight(f.maxCallsInFlight)))
	// Every other path is the gateway: the registered classes at their
	// Connect paths and the control service, for callers in any language.
	// It reaches actors wherever they live, through the head and the
	// nodes' streams, and sits behind the cluster token like the rest.
	gateway, err := s.Gateway()
	if err != nil {
		_ = s.Shutdown(context.WithoutCancel(ctx))
		_ = lis.Close()
		return err
	}
	mux.Handle("/", gateway)
	srv := transport.NewH2CServer(cluster.RequireToken(token, mux), f.idleTimeout)
	if f.tlsCert != "" {
		if err := cluster.ServeTLS(srv, f.tlsCert, f.tlsKey); err != nil {
			_ = s.Shutdown(context.WithoutCancel(ctx))
			_ = lis.Close()
			return errs.New(errs.ErrInvalidOption, err)
		}
	}
	served := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			served <- srv.ServeTLS(lis, "", "")
			return
		}
		served <- srv.Serve(lis)
	}()

	// Shutdown drains the node: the head places nothing more here, each
	// actor ends once its running calls have finished (within the grace
	// period) and the head restarts it elsewhere if it may. Then the node
	// tells the head it has stopped and closes the server and its streams.
	shutdown := func() error {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := agent.Drain(sctx); err != nil {
			cfg.log.Warn("draining the node", "error", err)
		}
		err := s.Shutdown(sctx)
		agent.Stop()
		_ = agent.Stopped(sctx)
		_ = srv.Close()
		return err
	}
	if err := agent.Start(ctx); err != nil {
		_ = shutdown()
		return err
	}
	if m := s.MetricsAddr(); m != "" {
		fmt.Fprintf(out, "troupe node listening address=%s node_id=%s head=%t metrics=%s\n", addr, s.node.ID, f.head, m)
	} else {
		fmt.Fprintf(out, "troupe node listening address=%s node_id=%s head=%t\n", addr, s.node.ID, f.head)
	}
	select {
	case <-ctx.Done():
	case err := <-agent.Failed():
		_ = shutdown()
		return err
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			_ = shutdown()
			return err
		}
	}
	return shutdown()
}
