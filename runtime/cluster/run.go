package cluster

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/troupehq/troupe/runtime/actor"
)

// RunNode runs this binary as a node of a cluster, hosting the actor
// classes registered through opts (actor.WithClasses), until ctx ends or
// the process gets SIGTERM or SIGINT: StartNode, then a wait for either,
// then Shutdown. args are the command line after the program name:
//
//	start --head [--port N] [--host H] [--advertise-host H] [--state-dir DIR] [--heartbeat-interval D] [--heartbeat-timeout D] [node flags]
//	start --address HOST:PORT [--token-file FILE | --token T] [--port N] [--host H] [--advertise-host H] [node flags]
//
// node flags: --num-cpus F, --num-gpus F, --memory BYTES, --resources JSON
// ({"writer_node": 1}), --labels k=v,..., --node-id ID,
// --dead-actor-retention N (see actor.WithDeadActorRetention; on a head it
// caps the head's tables too), --idle-timeout D (default 2m: a connection
// idle that long is closed, and one that sends no request headers within
// min(10s, D)), --max-connections N (default 4096 open at once; more are
// closed as they arrive; 0: no limit), --max-calls-in-flight N (calls from
// other processes the node holds at once, 100,000 by default; see
// docs/semantics.md), --metrics-address HOST:PORT, and for TLS --tls-cert
// FILE --tls-key FILE [--tls-ca FILE]. With -h or --help RunNode prints
// every flag with its doc on stdout and returns nil; a flag it cannot
// honour is an actor.ErrInvalidOption, returned before it listens.
//
// Once serving, RunNode prints one line on stdout:
//
//	troupe node listening address=127.0.0.1:40123 node_id=5f0c... head=true
//
// On SIGTERM or SIGINT, or when ctx ends, the node drains (see
// Node.Shutdown) and RunNode returns nil. It returns an error, and the
// node leaves the cluster, when the head rejects the node's token or has
// lost its state (the cluster id it answers with changed).
//
// Spans and metrics go to actor.WithTracerProvider and
// actor.WithMeterProvider, else to the otel globals; a node process that
// exports where the OTEL_* environment says calls otlp.Setup
// (runtime/actor/otlp) before RunNode.
func RunNode(ctx context.Context, args []string, opts ...actor.Option) error {
	return runNode(ctx, args, os.Stdout, opts...)
}

func runNode(ctx context.Context, args []string, out io.Writer, opts ...actor.Option) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	n, err := StartNode(ctx, args, opts...)
	if errors.Is(err, flag.ErrHelp) {
		usage(out)
		return nil
	}
	if err != nil {
		return err
	}
	if m := n.sys.MetricsAddr(); m != "" {
		fmt.Fprintf(out, "troupe node listening address=%s node_id=%s head=%t metrics=%s\n", n.addr, n.NodeID(), n.head, m)
	} else {
		fmt.Fprintf(out, "troupe node listening address=%s node_id=%s head=%t\n", n.addr, n.NodeID(), n.head)
	}
	select {
	case <-ctx.Done():
		return n.Shutdown(context.WithoutCancel(ctx))
	case <-n.Done():
		return n.Err()
	}
}
