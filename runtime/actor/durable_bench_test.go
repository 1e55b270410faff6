package actor_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/actor/postgres"
	"github.com/troupehq/troupe/runtime/actor/sqlite"
	"github.com/troupehq/troupe/runtime/internal/pgtest"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// BenchmarkIncrement compares one increment awaited by its caller: a plain
// in-memory actor (the baseline), a durable actor on the embedded SQLite
// store (one fsync'd transaction per call) and on PostgreSQL.
func BenchmarkIncrement(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		sys := start(b, nil)
		h := spawn(b, sys, testv1actor.ProbeOptions(), &testv1.ProbeInit{})
		ctx := context.Background()
		b.ResetTimer()
		for b.Loop() {
			if _, err := h.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, backend := range benchStores {
		b.Run("durable/"+backend.name, func(b *testing.B) {
			sys := startDurable(b, nil, actor.WithStateStore(backend.open(b)))
			h := ledgerOf(b, sys, "bench", 0)
			ctx := context.Background()
			add(b, ctx, h, 1) // activate
			b.ResetTimer()
			for b.Loop() {
				if _, err := h.Add(ctx, &testv1.LedgerAddRequest{By: 1}).Get(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRead compares readonly reads from parallel callers: a plain
// actor's readonly Get (the baseline) and a durable actor's, which reads
// the committed state cached in its activation and writes nothing.
func BenchmarkRead(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		sys := start(b, nil)
		h := spawn(b, sys, testv1actor.ProbeOptions(), &testv1.ProbeInit{})
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				if _, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("durable/sqlite", func(b *testing.B) {
		sys := startDurable(b, nil, actor.WithStateStore(benchStores[0].open(b)))
		h := ledgerOf(b, sys, "bench", 0)
		add(b, context.Background(), h, 1)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				if _, err := h.Get(ctx, &testv1.LedgerGetRequest{}).Get(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

var benchStores = []struct {
	name string
	open func(b *testing.B) actor.StateStore
}{
	{"sqlite", func(b *testing.B) actor.StateStore {
		s, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(b *testing.B) actor.StateStore {
		s, err := postgres.Open(context.Background(), pgtest.Start(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}},
}
