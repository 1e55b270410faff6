// Command counter is Troupe's first example: it spawns a named Counter actor
// on an embedded node, increments it twice and reads it back, printing 1, 2
// and 2.
package main

import (
	"context"
	"fmt"
	"log"

	counterv1 "github.com/troupehq/troupe/examples/counter/gen/counter/v1"
	"github.com/troupehq/troupe/examples/counter/gen/counter/v1/counterv1actor"
	"github.com/troupehq/troupe/runtime/actor"
)

// counter implements counterv1actor.CounterActor. Its state is plain Go: the
// runtime runs one method at a time, so no lock is needed.
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
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	sys, err := actor.Start(ctx, actor.WithClasses(counterv1actor.RegisterCounter(newCounter)))
	if err != nil {
		return err
	}
	defer sys.Shutdown(ctx)

	c, err := counterv1actor.CounterOptions().Name("hits").Spawn(ctx, sys, &counterv1.CounterInit{})
	if err != nil {
		return err
	}
	for range 2 {
		fut := c.Increment(ctx, &counterv1.IncrementRequest{By: 1}) // returns at once
		resp, err := fut.Get(ctx)                                   // waits, like ray.get
		if err != nil {
			return err
		}
		fmt.Println(resp.GetValue())
	}

	same, err := counterv1actor.GetCounter(ctx, sys, "hits") // like ray.get_actor
	if err != nil {
		return err
	}
	resp, err := same.Get(ctx, &counterv1.GetRequest{}).Get(ctx)
	if err != nil {
		return err
	}
	fmt.Println(resp.GetValue())
	return nil
}
