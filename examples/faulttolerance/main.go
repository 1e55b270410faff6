// Command faulttolerance shows what happens when an actor panics. Its proto
// gives it max_restarts: 2 and max_task_retries: -1, so the runtime re-runs
// its constructor up to twice, with the original init, and retries the call
// that was running when it died on the restarted actor. State kept in memory
// starts over with each life. When the restarts run out, the actor is dead
// for good and every call fails with actor.ErrActorDied.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"sync/atomic"

	"google.golang.org/protobuf/types/known/emptypb"

	faulttolerancev1 "github.com/troupehq/troupe/examples/faulttolerance/gen/faulttolerance/v1"
	"github.com/troupehq/troupe/examples/faulttolerance/gen/faulttolerance/v1/faulttolerancev1actor"
	"github.com/troupehq/troupe/runtime/actor"
)

// lives counts how often the constructor ran. It lives outside the actor,
// so it survives restarts, which is how the printout can number the lives.
var lives atomic.Int64

// resilient implements faulttolerancev1actor.ResilientActor.
type resilient struct {
	life  int64 // which construction this is: 1, 2, 3
	count int64 // starts at 0 in every life
}

func newResilient(context.Context, *emptypb.Empty) (faulttolerancev1actor.ResilientActor, error) {
	life := lives.Add(1)
	fmt.Printf("  constructor ran (life %d)\n", life)
	return &resilient{life: life}, nil
}

// Increment panics when the count would reach 3. A panic in a method kills
// the actor; the runtime recovers it, records the panic as the cause of
// death, and restarts the actor if it has restarts left.
func (r *resilient) Increment(context.Context, *faulttolerancev1.IncrementRequest) (*faulttolerancev1.IncrementResponse, error) {
	r.count++
	if r.count == 3 {
		panic(fmt.Sprintf("count reached 3 in life %d", r.life))
	}
	return &faulttolerancev1.IncrementResponse{Count: r.count, Life: r.life}, nil
}

func (r *resilient) Crash(context.Context, *faulttolerancev1.CrashRequest) (*faulttolerancev1.CrashResponse, error) {
	panic(fmt.Sprintf("crash requested in life %d", r.life))
}

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	// The runtime logs a method's panic, with its stack, at Error level and
	// each restart at Warn level, through slog. This example discards the
	// log so the printout below stays readable; a real program keeps it
	// (the default is slog.Default()).
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sys, err := actor.Start(ctx,
		actor.WithClasses(faulttolerancev1actor.RegisterResilient(newResilient)),
		actor.WithLogger(quiet))
	if err != nil {
		return err
	}
	defer sys.Shutdown(ctx)

	fmt.Println("spawn: max_restarts 2, max_task_retries -1")
	r, err := faulttolerancev1actor.ResilientOptions().Spawn(ctx, sys, nil)
	if err != nil {
		return err
	}
	increment := func() error {
		resp, err := r.Increment(ctx, &faulttolerancev1.IncrementRequest{}).Get(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("increment -> %d (life %d)\n", resp.GetCount(), resp.GetLife())
		return nil
	}

	for range 2 {
		if err := increment(); err != nil {
			return err
		}
	}

	// The third increment panics. The actor restarts, and because the call
	// has retries left it runs again on the new life, where the count
	// started over: the caller sees 1, never the panic.
	fmt.Println("third increment: panics, the actor restarts, the call is retried:")
	if err := increment(); err != nil {
		return err
	}
	if err := increment(); err != nil {
		return err
	}

	// Crash panics on every life. Its retry runs on the last life and
	// panics again; with no restarts left the actor is dead, and the
	// caller gets the error of the last attempt.
	fmt.Println("crash: panics, the actor restarts, the retry panics again:")
	_, err = r.Crash(ctx, &faulttolerancev1.CrashRequest{}).Get(ctx)
	if err := explainDeath("crash", err); err != nil {
		return err
	}

	// The actor is dead for good: later calls fail at once, with the same
	// cause.
	_, err = r.Increment(ctx, &faulttolerancev1.IncrementRequest{}).Get(ctx)
	if err := explainDeath("increment", err); err != nil {
		return err
	}
	fmt.Println("the constructor ran", lives.Load(), "times")
	return nil
}

// explainDeath prints why a call failed. The runtime's errors are
// *connect.Error values wrapping typed errors: errors.Is matches the
// sentinel, errors.As extracts the details.
func explainDeath(call string, err error) error {
	var died *actor.ActorDiedError
	if !errors.Is(err, actor.ErrActorDied) || !errors.As(err, &died) {
		return fmt.Errorf("%s: got %v, want an actor-died error", call, err)
	}
	fmt.Printf("%s failed: actor died after %d restarts, cause %s (%s)\n",
		call, died.Restarts, died.Cause.Kind, died.Cause.Message)
	return nil
}
