package actor

import (
	"context"

	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// All waits for every future and returns their results in input order, as
// Ray's ray.get does for a list. If a call fails, All returns its error as
// soon as it sees it, without waiting for the others, and returns no
// results; the other calls go on (cancel them with Future.Cancel if their
// results are no longer wanted). If ctx ends first, All returns ctx's
// error as Get does, and the calls go on. No futures give an empty slice.
// A nil future in futs is an ErrInvalidOption.
//
// All costs no goroutine or channel per future: it watches them all on
// one channel. Inside an actor method it waits for them in input order,
// checking each wait for a deadlock as Get does, so the error it returns
// is then the first in input order.
func All[T proto.Message](ctx context.Context, futs ...*Future[T]) ([]T, error) {
	if ctx == nil {
		return nil, errs.Newf(errs.ErrInvalidOption, "All: nil context")
	}
	for i, f := range futs {
		if f == nil {
			return nil, errs.Newf(errs.ErrInvalidOption, "All: future %d is nil", i)
		}
	}
	if node.CallFrom(ctx) != nil {
		return allInOrder(ctx, futs)
	}
	// Every future is either seen ready or watched, in one pass; a
	// watcher's send never blocks, as ch has room for one per future.
	ch := make(chan struct{}, len(futs))
	left := make([]int, 0, len(futs))
	for i, f := range futs {
		if f.call.Watch(ch) {
			left = append(left, i)
		} else if _, err := f.call.Result(); err != nil {
			return nil, err
		}
	}
	for len(left) > 0 {
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, errs.FromContext(ctx.Err())
		}
		// Look at the calls not yet seen ready: one or more have finished.
		kept := left[:0]
		for _, i := range left {
			c := &futs[i].call
			if !c.Ready() {
				kept = append(kept, i)
				continue
			}
			if _, err := c.Result(); err != nil {
				return nil, err
			}
		}
		left = kept
	}
	out := make([]T, len(futs))
	for i, f := range futs {
		resp, _ := f.call.Result()
		out[i] = resp.(T)
	}
	return out, nil
}

// allInOrder is All inside an actor method: Get on each in turn.
func allInOrder[T proto.Message](ctx context.Context, futs []*Future[T]) ([]T, error) {
	out := make([]T, len(futs))
	for i, f := range futs {
		resp, err := f.Get(ctx)
		if err != nil {
			return nil, err
		}
		out[i] = resp
	}
	return out, nil
}
