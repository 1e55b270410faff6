// Command coordinator runs a Coordinator actor that spawns three Worker
// actors in its constructor and spreads the tasks submitted to it over them,
// round-robin. The workers belong to the coordinator: they end when it ends.
package main

import (
	"context"
	"fmt"
	"log"
	"strings"

	coordinatorv1 "github.com/troupehq/troupe/examples/coordinator/gen/coordinator/v1"
	"github.com/troupehq/troupe/examples/coordinator/gen/coordinator/v1/coordinatorv1actor"
	"github.com/troupehq/troupe/runtime/actor"
)

// worker implements coordinatorv1actor.WorkerActor.
type worker struct {
	name  string
	tasks int64
}

func newWorker(_ context.Context, init *coordinatorv1.WorkerInit) (coordinatorv1actor.WorkerActor, error) {
	return &worker{name: init.GetName()}, nil
}

func (w *worker) Process(_ context.Context, req *coordinatorv1.ProcessRequest) (*coordinatorv1.ProcessResponse, error) {
	w.tasks++
	return &coordinatorv1.ProcessResponse{Worker: w.name, Result: strings.ToUpper(req.GetTask())}, nil
}

func (w *worker) Count(context.Context, *coordinatorv1.CountRequest) (*coordinatorv1.CountResponse, error) {
	return &coordinatorv1.CountResponse{Tasks: w.tasks}, nil
}

// coordinator implements coordinatorv1actor.CoordinatorActor.
type coordinator struct {
	workers []*coordinatorv1actor.WorkerHandle
	names   []string // names[i] is the name workers[i] was spawned with
	next    int      // index of the worker that gets the next task
}

// newCoordinator spawns the workers. Spawning with the constructor's ctx
// makes the coordinator their owner: when it dies or the system shuts down,
// they end too. actor.SystemFrom gives the system the coordinator runs in.
func newCoordinator(ctx context.Context, init *coordinatorv1.CoordinatorInit) (coordinatorv1actor.CoordinatorActor, error) {
	if init.GetWorkers() < 1 {
		return nil, fmt.Errorf("coordinator: need at least one worker, got %d", init.GetWorkers())
	}
	sys := actor.SystemFrom(ctx)
	c := &coordinator{}
	for i := range int(init.GetWorkers()) {
		name := fmt.Sprintf("worker-%d", i)
		w, err := coordinatorv1actor.WorkerOptions().Spawn(ctx, sys, &coordinatorv1.WorkerInit{Name: name})
		if err != nil {
			return nil, err
		}
		c.workers, c.names = append(c.workers, w), append(c.names, name)
	}
	return c, nil
}

// Submit hands the task to the next worker and waits for its result. The
// coordinator is serial, so next needs no lock, and tasks are assigned in
// the order they were submitted.
func (c *coordinator) Submit(ctx context.Context, req *coordinatorv1.SubmitRequest) (*coordinatorv1.SubmitResponse, error) {
	w := c.workers[c.next]
	c.next = (c.next + 1) % len(c.workers)
	resp, err := w.Process(ctx, &coordinatorv1.ProcessRequest{Task: req.GetTask()}).Get(ctx)
	if err != nil {
		return nil, err
	}
	return &coordinatorv1.SubmitResponse{Worker: resp.GetWorker(), Result: resp.GetResult()}, nil
}

// Stats asks every worker for its count at once, then collects the answers
// in spawn order.
func (c *coordinator) Stats(ctx context.Context, _ *coordinatorv1.StatsRequest) (*coordinatorv1.StatsResponse, error) {
	futs := make([]*actor.Future[*coordinatorv1.CountResponse], len(c.workers))
	for i, w := range c.workers {
		futs[i] = w.Count(ctx, &coordinatorv1.CountRequest{})
	}
	resp := &coordinatorv1.StatsResponse{}
	for i, f := range futs {
		count, err := f.Get(ctx)
		if err != nil {
			return nil, err
		}
		resp.Workers = append(resp.Workers, &coordinatorv1.WorkerStats{Worker: c.names[i], Tasks: count.GetTasks()})
	}
	return resp, nil
}

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	// The node hosts both classes: the driver spawns the coordinator, the
	// coordinator spawns the workers.
	sys, err := actor.Start(ctx, actor.WithClasses(
		coordinatorv1actor.RegisterCoordinator(newCoordinator),
		coordinatorv1actor.RegisterWorker(newWorker),
	))
	if err != nil {
		return err
	}
	defer sys.Shutdown(ctx)

	coord, err := coordinatorv1actor.CoordinatorOptions().Spawn(ctx, sys, &coordinatorv1.CoordinatorInit{Workers: 3})
	if err != nil {
		return err
	}

	// Submit six tasks without waiting: each call returns a future at once.
	// Calls from one caller run in the order it made them, so the
	// assignment is the same on every run.
	tasks := []string{"parse", "index", "rank", "render", "compress", "upload"}
	futs := make([]*actor.Future[*coordinatorv1.SubmitResponse], len(tasks))
	for i, task := range tasks {
		futs[i] = coord.Submit(ctx, &coordinatorv1.SubmitRequest{Task: task})
	}
	for i, f := range futs {
		resp, err := f.Get(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("%-8s -> %s (%s)\n", tasks[i], resp.GetWorker(), resp.GetResult())
	}

	stats, err := coord.Stats(ctx, &coordinatorv1.StatsRequest{}).Get(ctx)
	if err != nil {
		return err
	}
	for _, w := range stats.GetWorkers() {
		fmt.Printf("%s ran %d tasks\n", w.GetWorker(), w.GetTasks())
	}

	// The workers are owned by the coordinator: killing it ends them too.
	if err := sys.Kill(ctx, coord, actor.NoRestart()); err != nil {
		return err
	}
	actors, err := sys.ListActors(ctx)
	if err != nil {
		return err
	}
	fmt.Println("after killing the coordinator:")
	for _, a := range actors {
		kind, _, _ := strings.Cut(a.DeathCause, ":") // "owner died: owner actor … died"
		fmt.Printf("  %s %s (%s)\n", a.Class, a.State, kind)
	}
	return nil
}
