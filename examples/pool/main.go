// Command pool runs a connection pool as an actor: clients acquire and
// release connections, and an acquire on an exhausted pool fails with a
// Connect error the caller can inspect.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"

	"connectrpc.com/connect"

	poolv1 "github.com/troupehq/troupe/examples/pool/gen/pool/v1"
	"github.com/troupehq/troupe/examples/pool/gen/pool/v1/poolv1actor"
	"github.com/troupehq/troupe/runtime/actor"
)

// pool implements poolv1actor.PoolActor. inUse[i] says whether connection i
// is lent out; the runtime serialises Acquire and Release, so no lock.
type pool struct {
	inUse []bool
}

func newPool(_ context.Context, init *poolv1.PoolInit) (poolv1actor.PoolActor, error) {
	if init.GetSize() < 1 {
		return nil, fmt.Errorf("pool: size must be at least 1, got %d", init.GetSize())
	}
	return &pool{inUse: make([]bool, init.GetSize())}, nil
}

func connName(i int) string { return fmt.Sprintf("conn-%d", i) }

func (p *pool) Acquire(context.Context, *poolv1.AcquireRequest) (*poolv1.AcquireResponse, error) {
	for i, used := range p.inUse {
		if !used {
			p.inUse[i] = true
			return &poolv1.AcquireResponse{Connection: connName(i)}, nil
		}
	}
	// An error a method returns is an application error: the runtime never
	// retries it and hands it to the caller unchanged, Connect code included.
	// Callers in other languages see resource_exhausted too.
	return nil, connect.NewError(connect.CodeResourceExhausted,
		fmt.Errorf("all %d connections are in use", len(p.inUse)))
}

func (p *pool) Release(_ context.Context, req *poolv1.ReleaseRequest) (*poolv1.ReleaseResponse, error) {
	for i, used := range p.inUse {
		if connName(i) == req.GetConnection() {
			if !used {
				break
			}
			p.inUse[i] = false
			return &poolv1.ReleaseResponse{}, nil
		}
	}
	return nil, connect.NewError(connect.CodeFailedPrecondition,
		fmt.Errorf("%q is not lent out", req.GetConnection()))
}

// Status is readonly: statuses may run concurrently with each other, never
// with Acquire or Release, so reading inUse is safe.
func (p *pool) Status(context.Context, *poolv1.StatusRequest) (*poolv1.StatusResponse, error) {
	var resp poolv1.StatusResponse
	for _, used := range p.inUse {
		if used {
			resp.InUse++
		} else {
			resp.Free++
		}
	}
	return &resp, nil
}

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	sys, err := actor.Start(ctx, actor.WithClasses(poolv1actor.RegisterPool(newPool)))
	if err != nil {
		return err
	}
	defer sys.Shutdown(ctx)

	p, err := poolv1actor.PoolOptions().Spawn(ctx, sys, &poolv1.PoolInit{Size: 2})
	if err != nil {
		return err
	}
	status := func() error {
		s, err := p.Status(ctx, &poolv1.StatusRequest{}).Get(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("status: %d in use, %d free\n", s.GetInUse(), s.GetFree())
		return nil
	}

	// Take both connections.
	var held []string
	for range 2 {
		resp, err := p.Acquire(ctx, &poolv1.AcquireRequest{}).Get(ctx)
		if err != nil {
			return err
		}
		fmt.Println("acquired", resp.GetConnection())
		held = append(held, resp.GetConnection())
	}
	if err := status(); err != nil {
		return err
	}

	// A third acquire finds the pool exhausted. The error is the pool's own:
	// connect.CodeOf reads its code, and it is not one of the runtime's
	// errors such as actor.ErrPendingCallsLimit, which shares the code.
	_, err = p.Acquire(ctx, &poolv1.AcquireRequest{}).Get(ctx)
	if connect.CodeOf(err) != connect.CodeResourceExhausted || errors.Is(err, actor.ErrPendingCallsLimit) {
		return fmt.Errorf("acquire on an exhausted pool: got %v, want the pool's resource_exhausted", err)
	}
	fmt.Println("acquire failed:", err)

	// Give one back; the next acquire gets it.
	if _, err := p.Release(ctx, &poolv1.ReleaseRequest{Connection: held[0]}).Get(ctx); err != nil {
		return err
	}
	fmt.Println("released", held[0])
	if err := status(); err != nil {
		return err
	}
	resp, err := p.Acquire(ctx, &poolv1.AcquireRequest{}).Get(ctx)
	if err != nil {
		return err
	}
	fmt.Println("acquired", resp.GetConnection())

	// Releasing a connection the pool never lent is a mistake it reports
	// with another code.
	_, err = p.Release(ctx, &poolv1.ReleaseRequest{Connection: "conn-7"}).Get(ctx)
	if connect.CodeOf(err) != connect.CodeFailedPrecondition {
		return fmt.Errorf("release of conn-7: got %v, want failed_precondition", err)
	}
	fmt.Println("release failed:", err)
	return status()
}
