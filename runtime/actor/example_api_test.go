package actor_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	counterv1 "github.com/troupehq/troupe/examples/counter/gen/counter/v1"
	"github.com/troupehq/troupe/examples/counter/gen/counter/v1/counterv1actor"
	"github.com/troupehq/troupe/examples/counter/gen/counter/v1/counterv1connect"
	virtualcounterv1 "github.com/troupehq/troupe/examples/virtualcounter/gen/virtualcounter/v1"
	"github.com/troupehq/troupe/examples/virtualcounter/gen/virtualcounter/v1/virtualcounterv1actor"
	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/actor/sqlite"
)

// Connect joins a running cluster as a driver: its actors live on the
// cluster's nodes, which must have registered their classes. Start a head
// with `troupe start --head` (it prints its address and writes the
// cluster token to its state directory) and give the token in
// TROUPE_TOKEN or with WithToken.
func ExampleConnect() {
	ctx := context.Background()
	sys, err := actor.Connect(ctx, "127.0.0.1:6380", actor.WithToken(os.Getenv(actor.TokenEnv)))
	if err != nil {
		fmt.Println("connect:", err)
		return
	}
	defer sys.Shutdown(ctx)

	c, err := counterv1actor.CounterOptions().Name("hits").GetIfExists(true).Spawn(ctx, sys, nil)
	if err != nil {
		fmt.Println("spawn:", err)
		return
	}
	resp, err := c.Increment(ctx, &counterv1.IncrementRequest{By: 1}).Get(ctx)
	fmt.Println(resp.GetValue(), err)
}

// vcounter implements the durable virtualcounterv1actor.CounterActor: its
// count lives in the state the runtime hands each call.
type vcounter struct{}

func (vcounter) Increment(_ context.Context, st *virtualcounterv1.CounterState, r *virtualcounterv1.IncrementRequest) (*virtualcounterv1.IncrementResponse, error) {
	st.Count += r.GetBy()
	return &virtualcounterv1.IncrementResponse{Count: st.GetCount()}, nil
}

func (vcounter) Get(_ context.Context, st *virtualcounterv1.CounterState, _ *virtualcounterv1.GetRequest) (*virtualcounterv1.GetResponse, error) {
	return &virtualcounterv1.GetResponse{Count: st.GetCount()}, nil
}

// GetOrCreateCounter, generated for a durable class, returns the actor
// with an id, creating its state from init the first time. Its state
// outlives the process: a second system on the same store goes on from
// it.
func ExampleGetOrCreate() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	create := func(_ context.Context, id string, init *virtualcounterv1.CounterInit) (*virtualcounterv1.CounterState, error) {
		return &virtualcounterv1.CounterState{Count: init.GetStart()}, nil
	}
	for range 2 {
		store, _ := sqlite.Open(filepath.Join(dir, "state.db"))
		sys, _ := actor.Start(ctx, actor.WithStateStore(store),
			actor.WithClasses(virtualcounterv1actor.RegisterCounter(vcounter{}, create)))
		c, _ := virtualcounterv1actor.GetOrCreateCounter(ctx, sys, "visits", &virtualcounterv1.CounterInit{Start: 100})
		resp, err := c.Increment(ctx, &virtualcounterv1.IncrementRequest{By: 1}).Get(ctx)
		fmt.Println(resp.GetCount(), err)
		_ = sys.Shutdown(ctx)
		_ = store.Close()
	}
	// Output:
	// 101 <nil>
	// 102 <nil>
}

// The gateway serves the actors to callers in any language, over Connect,
// gRPC and gRPC-Web, at the paths connect gives the service; headers name
// the actor. Here a connect-go client calls a named counter.
func ExampleSystem_Gateway() {
	ctx := context.Background()
	sys, _ := actor.Start(ctx, actor.WithClasses(counterv1actor.RegisterCounter(newCounter)))
	defer sys.Shutdown(ctx)
	_, _ = counterv1actor.CounterOptions().Name("hits").Spawn(ctx, sys, &counterv1.CounterInit{Start: 7})

	h, _ := sys.Gateway()
	srv := httptest.NewServer(h)
	defer srv.Close()

	client := counterv1connect.NewCounterClient(srv.Client(), srv.URL)
	req := connect.NewRequest(&counterv1.IncrementRequest{By: 3})
	req.Header().Set(actor.HeaderActorName, "hits")
	resp, err := client.Increment(ctx, req)
	fmt.Println(resp.Msg.GetValue(), err)

	req = connect.NewRequest(&counterv1.IncrementRequest{By: 1})
	req.Header().Set(actor.HeaderActorName, "nobody")
	_, err = client.Increment(ctx, req)
	fmt.Println(connect.CodeOf(err))
	// Output:
	// 10 <nil>
	// not_found
}

// A placement group reserves resources for a set of actors together:
// each bundle on one node, all or none. Actors spawned in a bundle hold
// its reservation.
func ExampleCreatePlacementGroup() {
	ctx := context.Background()
	sys, _ := actor.Start(ctx, actor.WithNumCPUs(4), actor.WithClasses(counterv1actor.RegisterCounter(newCounter)))
	defer sys.Shutdown(ctx)

	pg, err := actor.CreatePlacementGroup(ctx, sys, []map[string]float64{{"CPU": 2}, {"CPU": 1}}, actor.Pack)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := pg.Ready(ctx); err != nil {
		fmt.Println(err)
		return
	}
	info, _ := pg.Info(ctx)
	fmt.Println(pg.Bundles(), info.State)

	c, _ := counterv1actor.CounterOptions().NumCPUs(2).PlacementGroup(pg, 0).Spawn(ctx, sys, nil)
	resp, err := c.Increment(ctx, &counterv1.IncrementRequest{By: 1}).Get(ctx)
	fmt.Println(resp.GetValue(), err)

	// A bundle holds no more than it reserved.
	_, err = counterv1actor.CounterOptions().NumCPUs(2).PlacementGroup(pg, 1).Spawn(ctx, sys, nil)
	fmt.Println(errors.Is(err, actor.ErrInfeasible))
	// Output:
	// 2 CREATED
	// 1 <nil>
	// true
}

// All waits for every future and returns the results in order.
func ExampleAll() {
	ctx := context.Background()
	sys, _ := actor.Start(ctx, actor.WithClasses(counterv1actor.RegisterCounter(newCounter)))
	defer sys.Shutdown(ctx)

	var futs []*actor.Future[*counterv1.IncrementResponse]
	for i := range 3 {
		c, _ := counterv1actor.CounterOptions().Spawn(ctx, sys, &counterv1.CounterInit{Start: int64(10 * i)})
		futs = append(futs, c.Increment(ctx, &counterv1.IncrementRequest{By: 1}))
	}
	results, err := actor.All(ctx, futs...)
	for _, r := range results {
		fmt.Println(r.GetValue())
	}
	fmt.Println(err)
	// Output:
	// 1
	// 11
	// 21
	// <nil>
}

// An interceptor sees both sides of each call: here it logs the calls
// made through the system and refuses, on the serving side, increments
// by more than 100. The method never runs and the caller gets the
// interceptor's error with its code.
func ExampleWithInterceptors() {
	limit := actor.InterceptorFunc(func(next actor.CallFunc) actor.CallFunc {
		return func(ctx context.Context, req *actor.Request) (proto.Message, error) {
			if req.IsClient {
				fmt.Println("call", req.Procedure)
			} else if r, ok := req.Msg.(*counterv1.IncrementRequest); ok && r.GetBy() > 100 {
				return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("by more than 100"))
			}
			return next(ctx, req)
		}
	})
	ctx := context.Background()
	sys, _ := actor.Start(ctx, actor.WithInterceptors(limit), actor.WithClasses(counterv1actor.RegisterCounter(newCounter)))
	defer sys.Shutdown(ctx)

	c, _ := counterv1actor.CounterOptions().Spawn(ctx, sys, nil)
	_, err := c.Increment(ctx, &counterv1.IncrementRequest{By: 1000}).Get(ctx)
	fmt.Println(connect.CodeOf(err), err)
	resp, _ := c.Get(ctx, &counterv1.GetRequest{}).Get(ctx)
	fmt.Println(resp.GetValue())
	// Output:
	// call /counter.v1.Counter/Increment
	// invalid_argument invalid_argument: by more than 100
	// call /counter.v1.Counter/Get
	// 0
}

// With WithPendingTimeout, a call on an actor that cannot be placed fails
// after the timeout, saying why, instead of waiting.
func ExampleWithPendingTimeout() {
	ctx := context.Background()
	sys, _ := actor.Start(ctx, actor.WithLogger(slog.New(slog.DiscardHandler)),
		actor.WithNumGPUs(1), actor.WithPendingTimeout(100*time.Millisecond),
		actor.WithClasses(counterv1actor.RegisterCounter(newCounter)))
	defer sys.Shutdown(ctx)

	_, _ = counterv1actor.CounterOptions().NumGPUs(1).Spawn(ctx, sys, nil) // takes the GPU
	waiting, err := counterv1actor.CounterOptions().NumGPUs(1).Spawn(ctx, sys, nil)
	fmt.Println(err) // Spawn returns at once
	_, err = waiting.Get(ctx, &counterv1.GetRequest{}).Get(ctx)
	fmt.Println(errors.Is(err, actor.ErrActorPending), connect.CodeOf(err))
	// Output:
	// <nil>
	// true unavailable
}
