package cluster

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
	icluster "github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// nodeFlags is a node's command line.
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

// newFlagSet returns the flag set of the start command, filling f. It
// prints nothing: errors are returned, the help is printed by usage.
func newFlagSet(f *nodeFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolVar(&f.head, "head", false, "run the head (the cluster's control plane) and a node")
	fs.StringVar(&f.address, "address", "", "the head's `HOST:PORT`, to join its cluster")
	fs.StringVar(&f.host, "host", "127.0.0.1", "the `address` to listen on")
	fs.StringVar(&f.advertise, "advertise-host", "", "the `host` others reach this node at (default: --host)")
	fs.IntVar(&f.port, "port", 0, "the `port` to listen on; 0 picks a free one")
	fs.StringVar(&f.stateDir, "state-dir", "", "the head's state `directory` (default $HOME/.troupe/head)")
	fs.StringVar(&f.token, "token", "", "the cluster `token` (default: --token-file, then $"+actor.TokenEnv+"); other users see it in ps")
	fs.StringVar(&f.tokenFile, "token-file", "", "read the cluster token from this `file`, readable only by its owner")
	fs.StringVar(&f.nodeID, "node-id", "", "the node's `id` (default: random; a head keeps its first one in its state directory)")
	fs.Float64Var(&f.numCPUs, "num-cpus", -1, "logical `CPUs` (default: the cores)")
	fs.Float64Var(&f.numGPUs, "num-gpus", -1, "logical `GPUs` (default: detected)")
	fs.Uint64Var(&f.memory, "memory", 0, "logical memory in `bytes` (default: physical)")
	fs.StringVar(&f.resources, "resources", "", "custom resources as `JSON`, {\"writer_node\": 1}")
	fs.StringVar(&f.labels, "labels", "", "labels as `k=v,k=v`")
	fs.DurationVar(&f.heartbeat, "heartbeat-interval", time.Second, "head: how often nodes and drivers heartbeat")
	fs.DurationVar(&f.heartbeatTimeout, "heartbeat-timeout", 10*time.Second, "head: silence after which a node or driver is dead")
	fs.IntVar(&f.maxCallsInFlight, "max-calls-in-flight", transport.DefaultMaxCallsInFlight, "how many calls from other nodes and drivers the node holds at once; each caller's stream holds at most 10,000 of them and keeps the rest waiting on its side")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "serve TLS with this PEM certificate `file` (with --tls-key)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "the PEM private key `file` of --tls-cert")
	fs.StringVar(&f.tlsCA, "tls-ca", "", "trust the PEM certificate authorities in this `file` for the head and nodes (default: the system's and --tls-cert)")
	fs.StringVar(&f.metricsAddr, "metrics-address", "", "serve the node's Prometheus metrics at `HOST:PORT`/metrics (default: off)")
	fs.IntVar(&f.deadRetention, "dead-actor-retention", actor.DefaultDeadActorRetention, "how many dead actors the node (and a head) keeps for listings; the oldest dead are evicted first; 0 keeps none")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", transport.DefaultIdleTimeout, "close a connection idle this long (no request in flight); it also bounds the wait for a request's headers")
	fs.IntVar(&f.maxConns, "max-connections", transport.DefaultMaxConnections, "the most connections the node holds open at once; more are closed at once; 0: no limit")
	return fs
}

// usage prints the start command's help: its synopsis and every flag with
// its doc and default.
func usage(w io.Writer) {
	prog := filepath.Base(os.Args[0])
	fmt.Fprintf(w, "Usage:\n  %[1]s start --head [flags]\n  %[1]s start --address HOST:PORT [flags]\n\n", prog)
	fmt.Fprintf(w, "Runs this program as a node of a Troupe cluster: the head with --head, or a\n"+
		"node joining the head at --address, with the cluster token from --token-file,\n"+
		"--token or $%s. It serves until SIGTERM or SIGINT, then drains.\n\nFlags:\n", actor.TokenEnv)
	var f nodeFlags
	newFlagSet(&f).VisitAll(func(fl *flag.Flag) {
		name, doc := flag.UnquoteUsage(fl)
		line := "  --" + fl.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, doc)
		if fl.DefValue != "" && fl.DefValue != "0" && fl.DefValue != "false" && fl.DefValue != "-1" && !strings.Contains(doc, "(default") {
			fmt.Fprintf(w, " (default %s)", fl.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// parseFlags parses a node's command line (with or without the leading
// "start"). It returns flag.ErrHelp for -h, -help or --help, and an
// ErrInvalidOption for anything it cannot honour.
func parseFlags(args []string) (*nodeFlags, []actor.Option, error) {
	if len(args) > 0 && args[0] == "start" {
		args = args[1:]
	}
	var f nodeFlags
	fs := newFlagSet(&f)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil, nil, err
		}
		return nil, nil, errs.Newf(errs.ErrInvalidOption, "start: %v (see start --help)", err)
	}
	if fs.NArg() > 0 {
		return nil, nil, errs.Newf(errs.ErrInvalidOption, "start: unexpected arguments %q (see start --help)", fs.Args())
	}
	retentionSet := false
	fs.Visit(func(fl *flag.Flag) { retentionSet = retentionSet || fl.Name == "dead-actor-retention" })
	if err := f.check(retentionSet); err != nil {
		return nil, nil, err
	}
	opts, err := f.options(retentionSet)
	if err != nil {
		return nil, nil, err
	}
	return &f, opts, nil
}

// check refuses flags that contradict each other or are out of range.
func (f *nodeFlags) check(retentionSet bool) error {
	switch {
	case f.maxCallsInFlight <= 0:
		return errs.Newf(errs.ErrInvalidOption, "start: --max-calls-in-flight %d must be positive", f.maxCallsInFlight)
	case retentionSet && f.deadRetention < 0:
		return errs.Newf(errs.ErrInvalidOption, "start: --dead-actor-retention %d: the number of dead actors kept cannot be negative", f.deadRetention)
	case f.idleTimeout <= 0:
		return errs.Newf(errs.ErrInvalidOption, "start: --idle-timeout %v must be positive", f.idleTimeout)
	case f.maxConns < 0:
		return errs.Newf(errs.ErrInvalidOption, "start: --max-connections %d cannot be negative", f.maxConns)
	case (f.tlsCert == "") != (f.tlsKey == ""):
		return errs.Newf(errs.ErrInvalidOption, "start: give both --tls-cert and --tls-key, or neither")
	case f.tlsCA != "" && f.tlsCert == "":
		return errs.Newf(errs.ErrInvalidOption, "start: --tls-ca needs --tls-cert and --tls-key: a cluster speaks TLS everywhere or nowhere")
	case f.token != "" && f.tokenFile != "":
		return errs.Newf(errs.ErrInvalidOption, "start: give --token or --token-file, not both")
	case f.head && (f.token != "" || f.tokenFile != ""):
		return errs.Newf(errs.ErrInvalidOption, "start: a head keeps its token in <state dir>/%s: --token and --token-file are for joining nodes", icluster.TokenFile)
	case f.head == (f.address != ""):
		return errs.Newf(errs.ErrInvalidOption, "start: give exactly one of --head and --address HOST:PORT")
	}
	return nil
}

// options are the actor options the flags stand for; they win over the
// caller's.
func (f *nodeFlags) options(retentionSet bool) ([]actor.Option, error) {
	var opts []actor.Option
	if f.numCPUs >= 0 {
		opts = append(opts, actor.WithNumCPUs(f.numCPUs))
	}
	if f.numGPUs >= 0 {
		opts = append(opts, actor.WithNumGPUs(f.numGPUs))
	}
	if f.memory > 0 {
		opts = append(opts, actor.WithMemory(f.memory))
	}
	if f.resources != "" {
		var r map[string]float64
		if err := json.Unmarshal([]byte(f.resources), &r); err != nil {
			return nil, errs.Newf(errs.ErrInvalidOption, "start: --resources: %v", err)
		}
		opts = append(opts, actor.WithResources(r))
	}
	if f.labels != "" {
		l := map[string]string{}
		for _, kv := range strings.Split(f.labels, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, errs.Newf(errs.ErrInvalidOption, "start: --labels: %q is not k=v", kv)
			}
			l[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		opts = append(opts, actor.WithLabels(l))
	}
	if f.nodeID != "" {
		opts = append(opts, actor.WithNodeID(f.nodeID))
	}
	if f.token != "" {
		opts = append(opts, actor.WithToken(f.token))
	}
	if f.tlsCA != "" {
		opts = append(opts, actor.WithTLS(f.tlsCA))
	}
	if f.metricsAddr != "" {
		opts = append(opts, actor.WithPrometheus(f.metricsAddr))
	}
	if retentionSet {
		opts = append(opts, actor.WithDeadActorRetention(f.deadRetention))
	}
	return opts, nil
}
