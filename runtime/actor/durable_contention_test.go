package actor_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/actor/postgres"
	"github.com/troupehq/troupe/runtime/actor/sqlite"
	"github.com/troupehq/troupe/runtime/internal/pgtest"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// Two systems on one state store (two processes outside a cluster) may
// each activate one id. Their commits serialise through the store: a
// commit that loses runs its call again on the state that won, for as
// long as the caller waits.

// stateBackend opens one fresh database per test, and returns a function
// that opens another handle on it each time it is called.
type stateBackend struct {
	name string
	open func(t *testing.T) func() actor.StateStore
}

var stateBackends = []stateBackend{
	{"sqlite", func(t *testing.T) func() actor.StateStore {
		path := filepath.Join(t.TempDir(), "shared.db")
		return func() actor.StateStore {
			s, err := sqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}},
	{"postgres", func(t *testing.T) func() actor.StateStore {
		dsn := pgtest.Start(t)
		return func() actor.StateStore {
			s, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}},
}

// Two systems hammer one id: every call succeeds, and the state counts
// exactly the acknowledged calls.
func TestDurableTwoSystemsRace(t *testing.T) {
	for _, backend := range stateBackends {
		t.Run(backend.name, func(t *testing.T) {
			open := backend.open(t)
			const systems, callers, each = 2, 4, 40
			var wg sync.WaitGroup
			var acked, failed atomic.Int64
			for s := range systems {
				sys := startDurable(t, nil, actor.WithStateStore(open()))
				h := ledgerOf(t, sys, "contended", 0)
				for c := range callers {
					wg.Go(func() {
						for i := range each {
							ctx := actor.WithCallKey(t.Context(), fmt.Sprintf("s%d-c%d", s, c), uint64(i+1))
							if _, err := h.Add(ctx, &testv1.LedgerAddRequest{By: 1}).Get(ctx); err != nil {
								if failed.Add(1) == 1 {
									t.Errorf("Add: %v", err)
								}
								continue
							}
							acked.Add(1)
						}
					})
				}
			}
			wg.Wait()
			// A third system reads what the store committed.
			third := startDurable(t, nil, actor.WithStateStore(open()))
			v := value(t, ledgerOf(t, third, "contended", 0))
			if n := acked.Load(); v.GetValue() != n || v.GetAdds() != n {
				t.Errorf("state %v after %d acknowledged calls", v, n)
			}
			if n := failed.Load(); n > 0 {
				t.Fatalf("%d of %d calls failed while their callers waited", n, systems*callers*each)
			}
		})
	}
}

// losingStore is a handle on a state store whose commits lose: before each
// of them, while rivals lasts, rival commits a call through another
// system's activation of the same id.
type losingStore struct {
	actor.StateStore
	rival  func() error
	rivals atomic.Int64
}

func (s *losingStore) Commit(ctx context.Context, c actor.StateCommit) error {
	if s.rivals.Add(-1) >= 0 {
		if err := s.rival(); err != nil {
			return err
		}
	}
	return s.StateStore.Commit(ctx, c)
}

// rivalSystems starts system A, whose activation of id wins every race,
// and system B on a losingStore whose rival is a call through A. acked
// counts A's acknowledged calls.
func rivalSystems(t *testing.T, open func() actor.StateStore, id string, acked *atomic.Int64) (a, b *testv1actor.LedgerHandle, lose *losingStore) {
	ha := ledgerOf(t, startDurable(t, nil, actor.WithStateStore(open())), id, 0)
	add(t, t.Context(), ha, 1) // A creates the actor
	acked.Add(1)
	lose = &losingStore{StateStore: open(), rival: func() error {
		if _, err := ha.Add(t.Context(), &testv1.LedgerAddRequest{By: 1}).Get(t.Context()); err != nil {
			return err
		}
		acked.Add(1)
		return nil
	}}
	hb := ledgerOf(t, startDurable(t, nil, actor.WithStateStore(lose)), id, 0)
	return ha, hb, lose
}

// A call that loses many commit races in a row to another system's
// activation keeps running again until it wins: it is not failed while its
// caller waits, and it counts once.
func TestDurableContendedCallWaitsItsTurn(t *testing.T) {
	for _, backend := range stateBackends {
		t.Run(backend.name, func(t *testing.T) {
			open := backend.open(t)
			var acked atomic.Int64
			_, hb, lose := rivalSystems(t, open, "loser", &acked)
			const losses = 70
			lose.rivals.Store(losses)
			v, err := hb.Add(t.Context(), &testv1.LedgerAddRequest{By: 1}).Get(t.Context())
			if err != nil {
				t.Fatalf("Add that lost %d commits: %v", losses, err)
			}
			acked.Add(1)
			if v.GetValue() != acked.Load() {
				t.Fatalf("Add = %v, want value %d: the call ran on a stale state", v, acked.Load())
			}
			final := value(t, ledgerOf(t, startDurable(t, nil, actor.WithStateStore(open())), "loser", 0))
			if n := acked.Load(); final.GetValue() != n || final.GetAdds() != n {
				t.Fatalf("state %v after %d acknowledged calls", final, n)
			}
		})
	}
}

// A contended call whose caller gives up fails with the caller's error and
// commits nothing; the actor goes on serving.
func TestDurableContendedCallEndsWithCaller(t *testing.T) {
	for _, backend := range stateBackends {
		t.Run(backend.name, func(t *testing.T) {
			open := backend.open(t)
			var acked atomic.Int64
			_, hb, lose := rivalSystems(t, open, "quitter", &acked)
			lose.rivals.Store(1 << 40) // B never wins
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			f := hb.Add(ctx, &testv1.LedgerAddRequest{By: 1000})
			if _, err := f.Get(ctx); connect.CodeOf(err) != connect.CodeDeadlineExceeded {
				t.Fatalf("contended Add past its deadline: %v, want deadline_exceeded", err)
			}
			// Its method ends with the caller's deadline too, not sooner
			// with an error of its own.
			if _, err := f.Get(t.Context()); connect.CodeOf(err) != connect.CodeDeadlineExceeded {
				t.Fatalf("the contended Add's method ended with %v, want deadline_exceeded", err)
			}
			lose.rivals.Store(0)
			v := add(t, t.Context(), hb, 1)
			acked.Add(1)
			final := value(t, ledgerOf(t, startDurable(t, nil, actor.WithStateStore(open())), "quitter", 0))
			if n := acked.Load(); v.GetValue() != n || final.GetValue() != n || final.GetAdds() != n {
				t.Fatalf("Add after the deadline = %v, state %v; want both at %d acknowledged calls", v, final, n)
			}
		})
	}
}
