package actor_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	counterv1 "github.com/troupehq/troupe/examples/counter/gen/counter/v1"
	"github.com/troupehq/troupe/examples/counter/gen/counter/v1/counterv1actor"
	"github.com/troupehq/troupe/runtime/actor"
)

// counter implements the generated counterv1actor.CounterActor.
type counter struct{ n int64 }

func newCounter(_ context.Context, init *counterv1.CounterInit) (counterv1actor.CounterActor, error) {
	return &counter{n: init.GetStart()}, nil
}

func (c *counter) Increment(_ context.Context, r *counterv1.IncrementRequest) (*counterv1.IncrementResponse, error) {
	c.n += r.GetBy()
	return &counterv1.IncrementResponse{Value: c.n}, nil
}

func (c *counter) Get(context.Context, *counterv1.GetRequest) (*counterv1.GetResponse, error) {
	return &counterv1.GetResponse{Value: c.n}, nil
}

// Start an embedded node, spawn a named counter, call it and find it again
// by name.
func Example() {
	ctx := context.Background()
	sys, err := actor.Start(ctx, actor.WithClasses(counterv1actor.RegisterCounter(newCounter)))
	if err != nil {
		panic(err)
	}
	defer sys.Shutdown(ctx)

	c, err := counterv1actor.CounterOptions().Name("hits").Spawn(ctx, sys, &counterv1.CounterInit{Start: 40})
	if err != nil {
		panic(err)
	}
	fut := c.Increment(ctx, &counterv1.IncrementRequest{By: 2}) // returns at once
	resp, err := fut.Get(ctx)                                   // waits
	fmt.Println(resp.GetValue(), err)

	same, _ := counterv1actor.GetCounter(ctx, sys, "hits")
	got, _ := same.Get(ctx, &counterv1.GetRequest{}).Get(ctx)
	fmt.Println(got.GetValue())
	// Output:
	// 42 <nil>
	// 42
}

// Wait returns when the first n futures are ready.
func ExampleWait() {
	ctx := context.Background()
	sys, _ := actor.Start(ctx, actor.WithClasses(counterv1actor.RegisterCounter(newCounter)))
	defer sys.Shutdown(ctx)

	var futs []*actor.Future[*counterv1.IncrementResponse]
	for i := range 3 {
		c, _ := counterv1actor.CounterOptions().Spawn(ctx, sys, &counterv1.CounterInit{Start: int64(10 * i)})
		futs = append(futs, c.Increment(ctx, &counterv1.IncrementRequest{By: 1}))
	}
	ready, _, err := actor.Wait(ctx, futs, len(futs))
	fmt.Println(len(ready), err)
	for _, f := range ready {
		r, _ := f.Get(ctx)
		fmt.Println(r.GetValue())
	}
	// Output:
	// 3 <nil>
	// 1
	// 11
	// 21
}

// A killed actor's calls fail with ErrActorDied, and its name is free
// again.
func ExampleSystem_Kill() {
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	sys, _ := actor.Start(ctx, actor.WithLogger(quiet), actor.WithClasses(counterv1actor.RegisterCounter(newCounter)))
	defer sys.Shutdown(ctx)

	c, _ := counterv1actor.CounterOptions().Name("temp").Spawn(ctx, sys, nil)
	_ = sys.Kill(ctx, c, actor.NoRestart())

	_, err := c.Get(ctx, &counterv1.GetRequest{}).Get(ctx)
	var died *actor.ActorDiedError
	fmt.Println(errors.Is(err, actor.ErrActorDied), errors.As(err, &died) && died.Cause.Kind == actor.CauseKilled)

	_, err = counterv1actor.CounterOptions().Name("temp").Spawn(ctx, sys, nil)
	fmt.Println(err)
	// Output:
	// true true
	// <nil>
}

// ListActors shows each actor's id, class, state, job, name, node and
// namespace.
func ExampleSystem_ListActors() {
	ctx := context.Background()
	sys, _ := actor.Start(ctx, actor.WithNamespace("colors"), actor.WithClasses(counterv1actor.RegisterCounter(newCounter)))
	defer sys.Shutdown(ctx)

	c, _ := counterv1actor.CounterOptions().Name("red").Spawn(ctx, sys, nil)
	_, _ = c.Get(ctx, &counterv1.GetRequest{}).Get(ctx) // wait for the constructor
	list, _ := sys.ListActors(ctx)
	for _, a := range list {
		fmt.Println(a.Class, a.State, a.Name, a.Namespace, a.Node == sys.NodeID())
	}
	// Output:
	// counter.v1.Counter ALIVE red colors true
}
