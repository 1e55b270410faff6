package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/internal/actorbridge"
	icluster "github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/cluster/agent"
	"github.com/troupehq/troupe/runtime/internal/cluster/caller"
	"github.com/troupehq/troupe/runtime/internal/cluster/head"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// drainTimeout is how long Shutdown lets running calls finish when its ctx
// has no deadline, and how long a node that stops on its own drains.
const drainTimeout = 10 * time.Second

// ErrOutOfCluster is the error of a node that left its cluster on its
// own (see Node.Err): the head rejects its cluster token, or lost its
// state and runs a new cluster. Restarted, the node joins afresh.
var ErrOutOfCluster = agent.ErrOutOfCluster

// A Node is a node of a cluster started by StartNode: it serves the head's
// and other nodes' requests, its actors' calls and the gateway at Addr
// until Shutdown, or until it leaves the cluster on its own (see Err).
type Node struct {
	addr string
	head bool
	sys  *actor.System
	log  *slog.Logger

	// What StartNode made, each nil until made; close ends them.
	lis    net.Listener
	hd     *head.Head
	client *caller.Client
	agent  *agent.Agent
	joined bool // the agent registered with the head
	srv    *http.Server
	served chan error // the server's end

	stopping atomic.Bool
	done     chan struct{}
	err      error // why the node stopped on its own; set before done closes
	drainErr error // what its drain returned; set before done closes
}

// StartNode starts this process as a node of a cluster, hosting the actor
// classes registered through opts (actor.WithClasses), and returns once
// it serves and the head has registered it. args are the command line
// after the program name, as for RunNode; the flags win over opts. ctx
// bounds the start only: a joining node retries the head until it answers
// or ctx ends. The node then runs until Shutdown, or until it leaves the
// cluster on its own (Done and Err say so).
//
// With -h or --help StartNode starts nothing and returns flag.ErrHelp; a
// command line it cannot honour is an actor.ErrInvalidOption. On any error
// it leaves nothing behind: no listener, no head, no goroutine.
func StartNode(ctx context.Context, args []string, opts ...actor.Option) (*Node, error) {
	f, flagOpts, err := parseFlags(args)
	if err != nil {
		return nil, err
	}
	cfg, err := nodeConfig(append(opts, flagOpts...), ownCA(f))
	if err != nil {
		return nil, err
	}
	n := &Node{head: f.head, log: cfg.Log, done: make(chan struct{})}
	if err := n.start(ctx, f, cfg); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
		defer cancel()
		_ = n.close(cctx)
		return nil, err
	}
	go n.watch()
	return n, nil
}

// ownCA is the certificate a node trusts beside the system's authorities
// when --tls-ca does not say: its own, which covers one self-signed
// certificate shared by the cluster.
func ownCA(f *nodeFlags) string {
	if f.tlsCA == "" {
		return f.tlsCert
	}
	return ""
}

// start makes the node's parts one by one, recording each in n so that
// close ends what was made when a later one fails.
func (n *Node) start(ctx context.Context, f *nodeFlags, cfg *actorbridge.Config) error {
	if err := checkHost(f); err != nil {
		return err
	}
	token, err := nodeToken(f, cfg)
	if err != nil {
		return err
	}
	tcp, err := net.Listen("tcp", net.JoinHostPort(f.host, strconv.Itoa(f.port)))
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	n.lis = transport.LimitListener(tcp, f.maxConns)
	n.addr = n.lis.Addr().String()
	if f.advertise != "" {
		_, port, _ := net.SplitHostPort(n.addr)
		n.addr = net.JoinHostPort(f.advertise, port)
	}
	headAddr := f.address
	if f.head {
		headAddr = n.addr
		if token, err = n.startHead(f, cfg); err != nil {
			return err
		}
	}

	n.client = caller.NewClient(headAddr, token, cfg.TLS, cfg.Log)
	sys, bs, err := nodeSystem(ctx, cfg, n.client)
	if err != nil {
		return err
	}
	n.sys = sys
	n.agent = agent.New(bs.Node, &actorv1.NodeInfo{NodeId: n.sys.NodeID(), Address: n.addr, Total: bs.Total.Float(),
		Labels: cfg.Labels, IsHead: f.head}, n.client.Head, f.heartbeat, cfg.Log)
	n.agent.SetDurable(bs.Durable)
	gauges := &telemetry.Source{Resources: n.agent.Resources}
	if n.hd != nil {
		gauges.Actors = n.hd.PendingActors
	}
	bs.SetGauges(gauges)

	if err := n.serve(f, token); err != nil {
		return err
	}
	if err := n.agent.Start(ctx); err != nil {
		return err
	}
	n.joined = true
	return nil
}

// checkHost refuses to listen on every interface without a host to
// advertise: others could not reach the node at the address it gives.
func checkHost(f *nodeFlags) error {
	if ip := net.ParseIP(f.host); f.advertise == "" && ip != nil && ip.IsUnspecified() {
		return errs.Newf(errs.ErrInvalidOption, "start: --host %s listens on every interface: give --advertise-host, the host others reach this node at", f.host)
	}
	return nil
}

// nodeToken returns a joining node's cluster token: --token-file's,
// --token's (cfg.Token), else $TROUPE_TOKEN's. A head's comes from its
// state directory ("" here).
func nodeToken(f *nodeFlags, cfg *actorbridge.Config) (string, error) {
	if f.head {
		return "", nil
	}
	token := cfg.Token
	if f.tokenFile != "" {
		tok, exposed, err := icluster.ReadTokenFile(f.tokenFile)
		if err != nil {
			return "", errs.Newf(errs.ErrInvalidOption, "start: --token-file: %v", err)
		}
		if exposed != 0 {
			cfg.Log.Warn(icluster.ExposedWarning(f.tokenFile, exposed))
		}
		token = tok
	} else if f.token != "" {
		cfg.Log.Warn("start: --token shows the cluster token to every user of this machine (ps): prefer --token-file or " + actor.TokenEnv)
	}
	if token == "" {
		token = os.Getenv(actor.TokenEnv)
	}
	if token == "" {
		return "", errs.Newf(errs.ErrInvalidOption, "start: no cluster token: pass --token-file or set %s (the head wrote it to <state dir>/%s)", actor.TokenEnv, icluster.TokenFile)
	}
	if err := icluster.CheckToken(token); err != nil {
		return "", fmt.Errorf("start: %w", err)
	}
	return token, nil
}

// startHead opens the head's state directory and starts the head, which
// n.addr serves. It returns the cluster token.
func (n *Node) startHead(f *nodeFlags, cfg *actorbridge.Config) (string, error) {
	dir := f.stateDir
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("start: no --state-dir and no home directory: %w", err)
		}
		dir = filepath.Join(home, ".troupe", "head")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("start: %w", err)
	}
	token, err := icluster.LoadOrCreateToken(dir, cfg.Log)
	if err != nil {
		return "", err
	}
	if cfg.NodeID == "" {
		if cfg.NodeID, err = head.LoadOrCreateNodeID(dir, func() string { return newID(12) }); err != nil {
			return "", err
		}
	}
	hc, scheme := icluster.HTTPClient(cfg.TLS)
	retention := cfg.DeadActorRetention
	n.hd, err = head.New(head.Config{
		StateDir: dir, Log: cfg.Log, HTTPClient: icluster.AuthClient(hc, token), Scheme: scheme,
		HeartbeatInterval: f.heartbeat, HeartbeatTimeout: f.heartbeatTimeout,
		NewID: func() string { return newID(12) }, DeadActorRetention: &retention,
	})
	return token, err
}

// serve serves the node's services, the head's on a head, behind the
// cluster token.
func (n *Node) serve(f *nodeFlags, token string) error {
	mux := http.NewServeMux()
	interceptors := connect.WithInterceptors(icluster.ServerErrors())
	if n.hd != nil {
		mux.Handle(actorv1connect.NewHeadServiceHandler(n.hd, interceptors))
	}
	mux.Handle(actorv1connect.NewNodeServiceHandler(n.agent, interceptors))
	mux.Handle(transport.NewHandler(n.agent, transport.WithLogger(n.log), transport.WithMaxCallsInFlight(f.maxCallsInFlight)))
	// Every other path is the gateway: the registered classes at their
	// Connect paths and the control service, for callers in any language.
	// It reaches actors wherever they live, through the head and the
	// nodes' streams, and sits behind the cluster token like the rest.
	gateway, err := n.sys.Gateway()
	if err != nil {
		return err
	}
	mux.Handle("/", gateway)
	srv := transport.NewH2CServer(icluster.RequireToken(token, mux), f.idleTimeout)
	if f.tlsCert != "" {
		if err := icluster.ServeTLS(srv, f.tlsCert, f.tlsKey); err != nil {
			return errs.New(errs.ErrInvalidOption, err)
		}
	}
	n.srv, n.served = srv, make(chan error, 1)
	lis := n.lis
	go func() {
		if srv.TLSConfig != nil {
			n.served <- srv.ServeTLS(lis, "", "")
			return
		}
		n.served <- srv.Serve(lis)
	}()
	return nil
}

// watch stops the node when it leaves the cluster on its own: the head
// rejects its token or lost its state, or its server fails.
func (n *Node) watch() {
	var err error
	select {
	case <-n.done:
		return
	case err = <-n.agent.Failed():
	case err = <-n.served:
		if errors.Is(err, http.ErrServerClosed) {
			return // Shutdown closed it
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	n.stop(ctx, err)
}

// Addr returns the address other nodes and drivers reach the node at,
// HOST:PORT: the port it listens on (the free one --port 0 picked) at
// --advertise-host, else at --host.
func (n *Node) Addr() string { return n.addr }

// NodeID returns the node's id.
func (n *Node) NodeID() string { return n.sys.NodeID() }

// System returns the node's actor system: spawns, calls and lookups
// through it reach the whole cluster. Stop the node with Shutdown, not
// with the system's own Shutdown, which leaves the node serving.
func (n *Node) System() *actor.System { return n.sys }

// Done returns a channel closed once the node has stopped: after
// Shutdown, or when it left the cluster on its own (see Err).
func (n *Node) Done() <-chan struct{} { return n.done }

// Err returns nil while the node runs and after Shutdown stopped it. Once
// the node has stopped on its own it returns why: the head rejected the
// node's token or lost its state (errors.Is ErrOutOfCluster), or the
// server failed.
func (n *Node) Err() error {
	select {
	case <-n.done:
		return n.err
	default:
		return nil
	}
}

// Shutdown drains the node and stops it: the head places nothing more
// here, each actor ends once its running calls finish (an idle one at
// once; the rest within ctx, or 10 s when ctx has no deadline) and
// restarts elsewhere per its max_restarts; then the node tells the head
// it has stopped and closes its server, its streams and, on a head, the
// head. It returns the error of the drain, or the one that stopped the
// node on its own before. Calling it again waits for the first to end.
func (n *Node) Shutdown(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, drainTimeout)
		defer cancel()
	}
	if !n.stop(ctx, nil) {
		select {
		case <-n.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if n.err != nil {
		return n.err
	}
	return n.drainErr
}

// stop stops the node, once: it reports whether this call did.
func (n *Node) stop(ctx context.Context, cause error) bool {
	if !n.stopping.CompareAndSwap(false, true) {
		return false
	}
	n.drainErr = n.close(ctx)
	n.err = cause
	close(n.done)
	return true
}

// close ends what start made, in reverse: it drains a node that joined
// the cluster, shuts its system down (closing the client), tells the head
// it stopped, closes the server and the head. It is the one clean-up of
// every way a node ends, a failed start included.
func (n *Node) close(ctx context.Context) error {
	if n.joined {
		if err := n.agent.Drain(ctx); err != nil {
			n.log.Warn("draining the node", "error", err)
		}
	}
	var err error
	if n.sys != nil {
		err = n.sys.Shutdown(ctx)
	} else if n.client != nil {
		n.client.Close()
	}
	if n.agent != nil {
		n.agent.Stop()
	}
	if n.joined {
		_ = n.agent.Stopped(ctx)
	}
	if n.srv != nil {
		_ = n.srv.Close()
	}
	if n.hd != nil {
		_ = n.hd.Close()
	}
	if n.lis != nil {
		_ = n.lis.Close()
	}
	return err
}

func newID(bytes int) string {
	b := make([]byte, bytes)
	_, _ = rand.Read(b) // never fails on supported platforms
	return hex.EncodeToString(b)
}
