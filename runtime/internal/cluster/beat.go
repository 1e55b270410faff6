package cluster

import (
	"context"
	"time"
)

// Beat calls beat every interval (a second if interval is not positive)
// until ctx ends or beat returns false, each time with a context bounded
// by five intervals (at least a second): the one heartbeat loop of nodes
// and drivers.
func Beat(ctx context.Context, interval time.Duration, beat func(ctx context.Context) bool) {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		bctx, cancel := context.WithTimeout(ctx, max(5*interval, time.Second))
		more := beat(bctx)
		cancel()
		if !more {
			return
		}
	}
}
