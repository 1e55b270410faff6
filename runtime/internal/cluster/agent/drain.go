package agent

import (
	"context"
	"fmt"
	"sync"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// drainPoll is how often a draining node looks whether a busy actor's
// running calls have finished.
const drainPoll = 10 * time.Millisecond

// Drain takes the node out of the cluster before it shuts down: the head
// places nothing more here, each actor ends as soon as its running calls
// have finished (an idle one at once) and its death is reported, so the
// head restarts it elsewhere when it may. Drain returns once every actor
// has ended, or when ctx ends (the grace period); the node's shutdown
// ends the rest.
func (a *Agent) Drain(ctx context.Context) error {
	err := a.tell(ctx, false)
	cause := errs.Cause{Kind: errs.CauseNodeLost, Message: fmt.Sprintf("node %s shut down", a.node.ID)}
	var wg sync.WaitGroup
	for _, act := range a.node.Actors() {
		if act.State() == node.Dead {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(drainPoll)
			defer t.Stop()
			for act.Info().Running > 0 {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
			act.Kill(cause, false, true)
		}()
	}
	wg.Wait()
	return err
}

// Stopped tells the head that the node has stopped, once the reports of
// its actors' deaths are delivered: the head declares it dead at once,
// not after the heartbeat timeout, and restarts what it still hosted
// elsewhere.
func (a *Agent) Stopped(ctx context.Context) error {
	a.reports.Wait()
	return a.tell(ctx, true)
}

func (a *Agent) tell(ctx context.Context, stopped bool) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := a.head.DrainNode(ctx, connect.NewRequest(&actorv1.DrainNodeRequest{NodeId: a.info.GetNodeId(), Stopped: stopped}))
	if err != nil {
		return fmt.Errorf("telling the head that node %s drains: %w", a.info.GetNodeId(), err)
	}
	return nil
}
