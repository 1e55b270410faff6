// Command virtualcounter is the durable (virtual) actor example: a Counter
// whose count lives in a state store, not in a process. It gets the
// counter "my_counter" (created at 0 the first time), increments it by 10
// three times, then starts a second process that reads it from the store.
// Run it again and the count goes on from where it was.
//
//	go run ./examples/virtualcounter                    # 10 20 30, then 30
//	go run ./examples/virtualcounter                    # 40 50 60, then 60
//	go run ./examples/virtualcounter -state-dir /tmp/x  # another store
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"

	virtualcounterv1 "github.com/troupehq/troupe/examples/virtualcounter/gen/virtualcounter/v1"
	"github.com/troupehq/troupe/examples/virtualcounter/gen/virtualcounter/v1/virtualcounterv1actor"
	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/actor/sqlite"
)

// counter implements virtualcounterv1actor.CounterActor. It holds no count:
// each call gets the counter's state from the runtime, and a mutating
// call's change is committed with its result before the caller sees it.
type counter struct{}

func (counter) Increment(_ context.Context, st *virtualcounterv1.CounterState, req *virtualcounterv1.IncrementRequest) (*virtualcounterv1.IncrementResponse, error) {
	st.Count += req.GetBy()
	return &virtualcounterv1.IncrementResponse{Count: st.GetCount()}, nil
}

func (counter) Get(_ context.Context, st *virtualcounterv1.CounterState, _ *virtualcounterv1.GetRequest) (*virtualcounterv1.GetResponse, error) {
	return &virtualcounterv1.GetResponse{Count: st.GetCount()}, nil
}

// create makes the state of a counter the store does not have yet.
func create(_ context.Context, _ string, init *virtualcounterv1.CounterInit) (*virtualcounterv1.CounterState, error) {
	return &virtualcounterv1.CounterState{Count: init.GetStart()}, nil
}

func main() {
	dir := flag.String("state-dir", defaultDir(), "directory of the state store")
	read := flag.Bool("read", false, "only read the counter (the second process)")
	flag.Parse()
	if err := run(context.Background(), *dir, *read); err != nil {
		log.Fatal(err)
	}
}

// defaultDir is a stable place, so that a second run continues the count.
func defaultDir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "troupe", "virtualcounter")
}

func run(ctx context.Context, dir string, read bool) error {
	// The state lives in a SQLite file; several processes may open it.
	store, err := sqlite.Open(filepath.Join(dir, "troupe-state.db"))
	if err != nil {
		return err
	}
	defer store.Close() // deferred first: closed after the system's Shutdown
	sys, err := actor.Start(ctx,
		actor.WithLogger(slog.New(slog.DiscardHandler)),
		actor.WithStateStore(store),
		actor.WithClasses(virtualcounterv1actor.RegisterCounter(counter{}, create)))
	if err != nil {
		return err
	}
	defer sys.Shutdown(ctx)

	c, err := virtualcounterv1actor.GetOrCreateCounter(ctx, sys, "my_counter", &virtualcounterv1.CounterInit{Start: 0})
	if err != nil {
		return err
	}
	if read {
		resp, err := c.Get(ctx, &virtualcounterv1.GetRequest{}).Get(ctx)
		if err != nil {
			return err
		}
		fmt.Println("a second process reads my_counter =", resp.GetCount())
		return nil
	}

	fmt.Println("state store:", store.Path())
	resp, err := c.Get(ctx, &virtualcounterv1.GetRequest{}).Get(ctx)
	if err != nil {
		return err
	}
	fmt.Println("my_counter starts at", resp.GetCount())
	for range 3 {
		r, err := c.Increment(ctx, &virtualcounterv1.IncrementRequest{By: 10}).Get(ctx)
		if err != nil {
			return err
		}
		fmt.Println("increment by 10 ->", r.GetCount())
	}
	if err := sys.Shutdown(ctx); err != nil {
		return err
	}

	// A second process gets the same counter from the store.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, self, "-read", "-state-dir", dir)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}
