package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protodelim"

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/cluster"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// serve is the main of the server process: it listens on a free port of
// 127.0.0.1, prints the address on stdout and serves until its stdin
// closes, which happens when the parent stops it or dies. A node server
// listens and prints its address through cluster.RunNode instead.
func serve(kind string) int {
	if kind == serverNode {
		return serveNode()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	switch kind {
	case serverEcho:
		go serveEcho(ln)
	case serverConnect:
		go serveConnect(ln)
	default:
		fmt.Fprintf(os.Stderr, "%s: unknown server %q\n", ServerEnv, kind)
		return 2
	}
	fmt.Println(ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// serveNode runs a cluster head, which is a node too, hosting Probe on a
// free port of 127.0.0.1, with its state (the cluster token) in the
// directory stateDirEnv names. RunNode prints the line that gives its
// address. It shuts down when stdin closes.
func serveNode() int {
	dir := os.Getenv(stateDirEnv)
	if dir == "" {
		fmt.Fprintf(os.Stderr, "%s=%s: %s is not set\n", ServerEnv, serverNode, stateDirEnv)
		return 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	factory := func(context.Context, *testv1.ProbeInit) (testv1actor.ProbeActor, error) { return new(probe), nil }
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	err := cluster.RunNode(ctx, []string{"start", "--head", "--port", "0", "--state-dir", dir},
		actor.WithClasses(testv1actor.RegisterProbe(factory)), actor.WithLogger(log))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench node:", err)
		return 1
	}
	return 0
}

// serveEcho answers each varint-delimited AddRequest with an AddResponse
// carrying the connection's running sum. Responses are flushed when no
// further request is already buffered, so one request in flight gets its
// answer at once and a pipelined batch is answered in few writes.
func serveEcho(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
			req, resp := new(testv1.AddRequest), new(testv1.AddResponse)
			for {
				if err := protodelim.UnmarshalFrom(r, req); err != nil {
					return
				}
				resp.Value += req.GetBy()
				if _, err := protodelim.MarshalTo(w, resp); err != nil {
					return
				}
				if r.Buffered() == 0 {
					if err := w.Flush(); err != nil {
						return
					}
				}
			}
		}()
	}
}

// serveConnect serves Probe's Add procedure as a bare Connect unary
// handler, over HTTP/1.1 and unencrypted HTTP/2 (h2c), answering with the
// server's running sum.
func serveConnect(ln net.Listener) {
	var sum atomic.Int64
	mux := http.NewServeMux()
	mux.Handle(testv1actor.ProbeAddProcedure, connect.NewUnaryHandler(testv1actor.ProbeAddProcedure,
		func(_ context.Context, req *connect.Request[testv1.AddRequest]) (*connect.Response[testv1.AddResponse], error) {
			return connect.NewResponse(&testv1.AddResponse{Value: sum.Add(req.Msg.GetBy())}), nil
		}))
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: mux, Protocols: protocols, ReadHeaderTimeout: 10 * time.Second}
	_ = srv.Serve(ln)
}
