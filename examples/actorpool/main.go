// Command actorpool maps 100 numbers over a pool of 4 Squarer actors with
// actor.MapUnordered, as Ray's ActorPool.map_unordered, and kills one of
// them mid-way. The call the killed actor held fails with an actor-died
// error; the pool drops that actor and resubmits the call to another, so
// every number's result still arrives, exactly once.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"sync/atomic"

	actorpoolv1 "github.com/troupehq/troupe/examples/actorpool/gen/actorpool/v1"
	"github.com/troupehq/troupe/examples/actorpool/gen/actorpool/v1/actorpoolv1actor"
	"github.com/troupehq/troupe/runtime/actor"
)

// victim is the worker that is killed: after answering 5 calls it holds
// the next one until it dies.
const victim = "worker-2"

var (
	victimDone atomic.Int64          // calls the victim answered
	hung       = make(chan int64, 1) // the number the victim holds
)

type squarer struct{ name string }

func newSquarer(_ context.Context, init *actorpoolv1.SquarerInit) (actorpoolv1actor.SquarerActor, error) {
	return &squarer{name: init.GetName()}, nil
}

func (s *squarer) Square(ctx context.Context, req *actorpoolv1.SquareRequest) (*actorpoolv1.SquareResponse, error) {
	if s.name == victim && victimDone.Load() == 5 {
		hung <- req.GetN()
		<-ctx.Done() // until the actor is killed
		return nil, ctx.Err()
	}
	if s.name == victim {
		victimDone.Add(1)
	}
	return &actorpoolv1.SquareResponse{N: req.GetN(), Square: req.GetN() * req.GetN(), Worker: s.name}, nil
}

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	sys, err := actor.Start(ctx,
		actor.WithClasses(actorpoolv1actor.RegisterSquarer(newSquarer)),
		actor.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		return err
	}
	defer sys.Shutdown(ctx)

	var workers []*actorpoolv1actor.SquarerHandle
	for i := range 4 {
		h, err := actorpoolv1actor.SquarerOptions().Spawn(ctx, sys, &actorpoolv1.SquarerInit{Name: fmt.Sprintf("worker-%d", i)})
		if err != nil {
			return err
		}
		workers = append(workers, h)
	}
	pool, err := actor.NewPool(workers...)
	if err != nil {
		return err
	}
	fmt.Printf("pool of %d workers, mapping 100 numbers\n", pool.Len())

	// Kill the victim while it holds a call.
	killed := make(chan int64, 1)
	go func() {
		n := <-hung
		if err := sys.Kill(ctx, workers[2], actor.NoRestart()); err != nil {
			log.Print(err)
		}
		killed <- n
	}()

	numbers := make([]int64, 100)
	for i := range numbers {
		numbers[i] = int64(i)
	}
	square := func(ctx context.Context, w *actorpoolv1actor.SquarerHandle, n int64) *actor.Future[*actorpoolv1.SquareResponse] {
		return w.Square(ctx, &actorpoolv1.SquareRequest{N: n})
	}
	seen := map[int64]int{}
	by := map[int64]string{}
	wrong, total := 0, 0
	for r, err := range actor.MapUnordered(ctx, pool, square, numbers) {
		if err != nil {
			return err
		}
		seen[r.GetN()]++
		total++
		by[r.GetN()] = r.GetWorker()
		if r.GetSquare() != r.GetN()*r.GetN() {
			wrong++
		}
	}
	held := <-killed

	once := 0
	for _, n := range numbers {
		if seen[n] == 1 {
			once++
		}
	}
	fmt.Printf("%s killed while it held a call; it had answered %d\n", victim, victimDone.Load())
	fmt.Printf("results: %d numbers of 100 arrived exactly once, %d results in all, %d wrong squares\n", once, total, wrong)
	fmt.Printf("the held call was resubmitted: answered by another worker: %v\n", by[held] != "" && by[held] != victim)
	fmt.Printf("pool after the map: %d workers\n", pool.Len())
	if once != 100 || total != 100 || wrong != 0 {
		return fmt.Errorf("results are wrong")
	}
	return nil
}
