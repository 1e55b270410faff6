// Command node serves the Counter actor class to programs in any language:
// an embedded Troupe system behind the gateway, over HTTP/1.1 and cleartext
// HTTP/2 (h2c) on 127.0.0.1, until SIGTERM or SIGINT. Once serving it
// prints one line on stdout:
//
//	troupe gateway listening address=127.0.0.1:40123
//
// Flags: -port N (default 8080; 0 picks a free port), -token T (require
// "Authorization: Bearer T"; default none).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	counterv1 "github.com/troupehq/troupe/examples/counter/gen/counter/v1"
	"github.com/troupehq/troupe/examples/counter/gen/counter/v1/counterv1actor"
	"github.com/troupehq/troupe/runtime/actor"
)

// counter implements counterv1actor.CounterActor.
type counter struct{ n int64 }

func newCounter(_ context.Context, init *counterv1.CounterInit) (counterv1actor.CounterActor, error) {
	return &counter{n: init.GetStart()}, nil
}

func (c *counter) Increment(_ context.Context, req *counterv1.IncrementRequest) (*counterv1.IncrementResponse, error) {
	c.n += req.GetBy()
	return &counterv1.IncrementResponse{Value: c.n}, nil
}

func (c *counter) Get(context.Context, *counterv1.GetRequest) (*counterv1.GetResponse, error) {
	return &counterv1.GetResponse{Value: c.n}, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	port := fs.Int("port", 8080, "the port to listen on, on 127.0.0.1; 0 picks a free one")
	token := fs.String("token", "", `require "Authorization: Bearer <token>" (default: none)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	lis, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		return err
	}
	var opts []actor.GatewayOption
	if *token != "" {
		opts = append(opts, actor.BearerToken(*token))
	}
	return serve(ctx, lis, out, opts...)
}

// serve runs the system and its gateway on lis until ctx ends.
func serve(ctx context.Context, lis net.Listener, out io.Writer, opts ...actor.GatewayOption) error {
	sys, err := actor.Start(ctx, actor.WithClasses(counterv1actor.RegisterCounter(newCounter)))
	if err != nil {
		_ = lis.Close()
		return err
	}
	h, err := sys.Gateway(opts...)
	if err != nil {
		_ = lis.Close()
		_ = sys.Shutdown(ctx)
		return err
	}
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: h, Protocols: p, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	fmt.Fprintf(out, "troupe gateway listening address=%s\n", lis.Addr())

	select {
	case <-ctx.Done():
	case err = <-served:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	errSrv := srv.Shutdown(sctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, errSrv, sys.Shutdown(sctx))
}
