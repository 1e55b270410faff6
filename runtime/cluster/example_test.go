package cluster_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"

	counterv1 "github.com/troupehq/troupe/examples/counter/gen/counter/v1"
	"github.com/troupehq/troupe/examples/counter/gen/counter/v1/counterv1actor"
	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/cluster"
)

// Start a head on a free port, call an actor through its system, and
// shut it down. Other nodes join it at n.Addr(), drivers with
// actor.Connect(ctx, n.Addr(), ...).
func ExampleStartNode() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "troupe-head")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	n, err := cluster.StartNode(ctx, []string{"start", "--head", "--port", "0", "--state-dir", dir},
		actor.WithClasses(counterv1actor.RegisterCounter(newCounter)))
	if err != nil {
		log.Fatal(err)
	}
	host, _, _ := net.SplitHostPort(n.Addr()) // the port is the one --port 0 picked
	fmt.Println("listening on", host)

	c, err := counterv1actor.CounterOptions().Spawn(ctx, n.System(), &counterv1.CounterInit{Start: 40})
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.Increment(ctx, &counterv1.IncrementRequest{By: 2}).Get(ctx)
	fmt.Println(res.GetValue(), err)

	fmt.Println("shut down:", n.Shutdown(ctx))
	<-n.Done()
	// Output:
	// listening on 127.0.0.1
	// 42 <nil>
	// shut down: <nil>
}

// A node's main: the program is run as "prog start --head ..." on one
// machine and "prog start --address HOST:PORT ..." on the others.
func ExampleRunNode() {
	ctx := context.Background()
	if err := cluster.RunNode(ctx, os.Args[1:], actor.WithClasses(counterv1actor.RegisterCounter(newCounter))); err != nil {
		log.Fatal(err)
	}
}
