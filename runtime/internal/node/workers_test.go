package node

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The goroutines that ran calls park in the node's pool, never more than
// its bound, run the next actor's calls, and end when the node shuts down.
func TestWorkersParkAndEndAtShutdown(t *testing.T) {
	before := runtime.NumGoroutine()
	a := newEchoActor(t)
	n := a.node
	n.workers.max = 2

	// Many actors called at once: more workers than the pool keeps.
	actors := []*Actor{a}
	for i := range 7 {
		b, err := n.NewActor(context.Background(), "b"+string(rune('0'+i)), a.Class, *a.Spec, nil, "job", nil)
		if err != nil {
			t.Fatal(err)
		}
		n.Place(b)
		actors = append(actors, b)
	}
	var wg sync.WaitGroup
	for round := range 20 {
		for _, x := range actors {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var c Call
				c.Init(context.Background(), x.Class.Methods[0], wrapperspb.Int64(int64(round)))
				x.Submit(&c)
				if err := c.Wait(context.Background()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	n.workers.mu.Lock()
	parked := len(n.workers.idle)
	n.workers.mu.Unlock()
	if parked > 2 {
		t.Fatalf("%d workers parked, the pool keeps at most 2", parked)
	}

	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after shutdown, %d before the node", runtime.NumGoroutine(), before)
		}
		runtime.Gosched()
	}
}
