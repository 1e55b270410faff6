package bench

import (
	"context"
	"errors"
	"fmt"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// local1toNFromActor is Local1toN with an actor as the caller, as Ray's
// "1:n actor calls async" has it: the driver asks one caller actor to
// make the 5000 calls, with its method's ctx, and to wait for them.
func local1toNFromActor() Workload {
	return fromActor("Local1toNFromActor", "Local1toN", 1,
		"one caller actor: 5000 calls round-robin over 8 actors with its method's ctx, then wait for all")
}

// localNtoNFromActor is LocalNtoN with actors as the callers, as Ray's
// "n:n actor calls async" has it: 4 caller actors at once, each making
// 5000 calls round-robin over the same 8 actors.
func localNtoNFromActor() Workload {
	return fromActor("LocalNtoNFromActor", "LocalNtoN", 4,
		"4 caller actors at once, each 5000 calls round-robin over the same 8 actors with its method's ctx")
}

// fromActor is the fan-out workload of fanOut with the calls made by
// caller actors instead of the driver's goroutines; its baseline is the
// driver's version, so the ratio is what being an actor costs a caller.
// An op is one Do on each caller actor, which makes fanOutBatch calls
// round-robin over the actors (starting at a different one per caller)
// with its method's ctx and waits for them.
func fromActor(name, baseline string, callers int, doc string) Workload {
	return Workload{
		Name:     name,
		Baseline: baseline,
		Doc:      doc,
		Setup: func() (*Run, error) {
			ctx := context.Background()
			var targets []probeHandle // set before any caller is spawned
			factory := func(_ context.Context, init *testv1.ProbeInit) (testv1actor.ProbeActor, error) {
				if init.GetLabel() == "caller" {
					return &fanOutCaller{targets: targets, futs: make([]addFuture, fanOutBatch)}, nil
				}
				return new(probe), nil
			}
			sys, err := actor.Start(ctx, actor.WithClasses(testv1actor.RegisterProbe(factory)))
			if err != nil {
				return nil, fmt.Errorf("actor.Start: %w", err)
			}
			p := &probes{sys: sys}
			if err := p.spawn(ctx, testv1actor.ProbeOptions(), fanOutActors); err != nil {
				return nil, errors.Join(err, p.close())
			}
			targets = p.hs
			hs := make([]probeHandle, callers)
			for c := range hs {
				if hs[c], err = testv1actor.ProbeOptions().Spawn(ctx, sys, &testv1.ProbeInit{Label: "caller"}); err != nil {
					return nil, errors.Join(fmt.Errorf("spawn: %w", err), p.close())
				}
			}
			return p.fanOutOps(callers, func(c int) error {
				_, err := hs[c].Do(ctx, &testv1.DoRequest{Arg: int64(c)}).Get(ctx)
				return err
			}), nil
		},
	}
}

// fanOutCaller is a Probe whose Do makes the fan-out calls of fromActor:
// fanOutBatch Adds round-robin over its targets, starting at the one
// DoRequest.Arg names, made with the method's ctx and waited for in order.
type fanOutCaller struct {
	probe
	targets []probeHandle
	futs    []addFuture // one Do runs at a time
}

func (f *fanOutCaller) Do(ctx context.Context, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	req := &testv1.AddRequest{By: 1}
	start := int(r.GetArg())
	for i := range f.futs {
		f.futs[i] = f.targets[(start+i)%len(f.targets)].Add(ctx, req)
	}
	if err := waitAll(ctx, f.futs); err != nil {
		return nil, err
	}
	return &testv1.DoResponse{}, nil
}
