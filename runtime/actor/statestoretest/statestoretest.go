// Package statestoretest checks an actor.StateStore against the behaviour
// the durable runtime relies on: versions, conflicts, result records and
// their trimming, racing writers, cancelled commits. The SQLite and
// PostgreSQL stores run it; so can another implementation:
//
//	func TestConformance(t *testing.T) {
//		statestoretest.Run(t, func(t *testing.T) actor.StateStore { return openMine(t) })
//	}
package statestoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/troupehq/troupe/runtime/actor"
)

// Run runs every case as a subtest of t, each on a store from open and
// with a class name of its own, so that the cases may share one database.
// open may close the store with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) actor.StateStore) {
	t.Helper()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.test(t, open(t), fmt.Sprintf("test.v1.Case%d", i))
		})
	}
}

var cases = []struct {
	name string
	test func(t *testing.T, s actor.StateStore, class string)
}{
	{"load of a new actor is empty", func(t *testing.T, s actor.StateStore, class string) {
		state, version, err := s.Load(t.Context(), class, "nobody")
		if err != nil || state != nil || version != 0 {
			t.Fatalf("Load = %q, %d, %v; want nil, 0, nil", state, version, err)
		}
	}},
	{"create then update", func(t *testing.T, s actor.StateStore, class string) {
		ctx := t.Context()
		mustCommit(t, s, actor.StateCommit{Class: class, ID: "a", Expected: 0, State: []byte("one")})
		mustLoad(t, s, class, "a", "one", 1)
		mustCommit(t, s, actor.StateCommit{Class: class, ID: "a", Expected: 1, State: []byte("two")})
		mustLoad(t, s, class, "a", "two", 2)
		// Another id and another class are other actors.
		mustLoad(t, s, class, "b", "", 0)
		mustLoad(t, s, class+".other", "a", "", 0)
		if err := s.Commit(ctx, actor.StateCommit{Class: class, ID: "a", Expected: 0, State: []byte("again")}); !errors.Is(err, actor.ErrStateConflict) {
			t.Fatalf("creating an existing actor: %v, want ErrStateConflict", err)
		}
		mustLoad(t, s, class, "a", "two", 2)
	}},
	{"empty state is not absent", func(t *testing.T, s actor.StateStore, class string) {
		mustCommit(t, s, actor.StateCommit{Class: class, ID: "e", State: nil})
		mustLoad(t, s, class, "e", "", 1)
	}},
	{"stale version conflicts and writes nothing", func(t *testing.T, s actor.StateStore, class string) {
		ctx := t.Context()
		mustCommit(t, s, actor.StateCommit{Class: class, ID: "a", State: []byte("v1")})
		mustCommit(t, s, actor.StateCommit{Class: class, ID: "a", Expected: 1, State: []byte("v2")})
		err := s.Commit(ctx, actor.StateCommit{Class: class, ID: "a", Expected: 1, State: []byte("stale"), Caller: "c", Seq: 1, Result: []byte("r")})
		if !errors.Is(err, actor.ErrStateConflict) {
			t.Fatalf("stale commit: %v, want ErrStateConflict", err)
		}
		mustLoad(t, s, class, "a", "v2", 2)
		if _, ok, err := s.LookupResult(ctx, class, "a", "c", 1); ok || err != nil {
			t.Fatalf("a conflicting commit recorded its result: ok=%v err=%v", ok, err)
		}
		if err := s.Commit(ctx, actor.StateCommit{Class: class, ID: "missing", Expected: 3, State: []byte("x")}); !errors.Is(err, actor.ErrStateConflict) {
			t.Fatalf("update of a missing actor: %v, want ErrStateConflict", err)
		}
	}},
	{"result recorded with the state", func(t *testing.T, s actor.StateStore, class string) {
		ctx := t.Context()
		mustCommit(t, s, actor.StateCommit{Class: class, ID: "a", State: []byte("s1"), Caller: "alice", Seq: 7, Result: []byte("r7")})
		res, ok, err := s.LookupResult(ctx, class, "a", "alice", 7)
		if err != nil || !ok || string(res) != "r7" {
			t.Fatalf("LookupResult = %q, %v, %v; want r7", res, ok, err)
		}
		for _, other := range []struct {
			caller string
			seq    uint64
			id     string
		}{{"alice", 8, "a"}, {"bob", 7, "a"}, {"alice", 7, "b"}} {
			if _, ok, _ := s.LookupResult(ctx, class, other.id, other.caller, other.seq); ok {
				t.Errorf("found a result for %+v", other)
			}
		}
		// The same call committed again (a racing activation) conflicts
		// and leaves the state alone.
		err = s.Commit(ctx, actor.StateCommit{Class: class, ID: "a", Expected: 1, State: []byte("s2"), Caller: "alice", Seq: 7, Result: []byte("x")})
		if !errors.Is(err, actor.ErrStateConflict) {
			t.Fatalf("recording a result twice: %v, want ErrStateConflict", err)
		}
		mustLoad(t, s, class, "a", "s1", 1)
	}},
	{"results trimmed per caller", func(t *testing.T, s actor.StateStore, class string) {
		ctx := t.Context()
		mustCommit(t, s, actor.StateCommit{Class: class, ID: "a", State: []byte("0"), Caller: "other", Seq: 1, Result: []byte("o"), Keep: 3})
		for seq := uint64(1); seq <= 10; seq++ {
			mustCommit(t, s, actor.StateCommit{Class: class, ID: "a", Expected: int64(seq), State: fmt.Appendf(nil, "%d", seq),
				Caller: "me", Seq: seq, Result: fmt.Appendf(nil, "r%d", seq), Keep: 3})
		}
		for seq := uint64(1); seq <= 10; seq++ {
			_, ok, err := s.LookupResult(ctx, class, "a", "me", seq)
			if err != nil {
				t.Fatal(err)
			}
			if want := seq > 7; ok != want {
				t.Errorf("result %d kept: %v, want %v", seq, ok, want)
			}
		}
		if _, ok, _ := s.LookupResult(ctx, class, "a", "other", 1); !ok {
			t.Error("trimming one caller's results removed another's")
		}
	}},
	{"racing commits: one wins per version", func(t *testing.T, s actor.StateStore, class string) {
		ctx := t.Context()
		mustCommit(t, s, actor.StateCommit{Class: class, ID: "hot", State: []byte{0}})
		// Each writer loops load, add one, commit until it has added 25.
		const writers, each = 4, 25
		var conflicts atomic.Int64
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := 0; i < each; {
					state, version, err := s.Load(ctx, class, "hot")
					if err != nil {
						t.Error(err)
						return
					}
					next := []byte{state[0] + 1}
					err = s.Commit(ctx, actor.StateCommit{Class: class, ID: "hot", Expected: version, State: next,
						Caller: fmt.Sprint("w", w), Seq: uint64(i + 1)})
					if errors.Is(err, actor.ErrStateConflict) {
						conflicts.Add(1)
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					i++
				}
			})
		}
		wg.Wait()
		state, version, err := s.Load(ctx, class, "hot")
		if err != nil {
			t.Fatal(err)
		}
		if state[0] != writers*each || version != writers*each+1 {
			t.Fatalf("after %d increments: value %d version %d (conflicts %d)", writers*each, state[0], version, conflicts.Load())
		}
		t.Logf("%d conflicts retried", conflicts.Load())
	}},
	{"cancelled commit writes nothing", func(t *testing.T, s actor.StateStore, class string) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := s.Commit(ctx, actor.StateCommit{Class: class, ID: "a", State: []byte("x")}); err == nil {
			t.Fatal("commit with a cancelled context succeeded")
		}
		mustLoad(t, s, class, "a", "", 0)
	}},
}

func mustCommit(t *testing.T, s actor.StateStore, c actor.StateCommit) {
	t.Helper()
	if err := s.Commit(t.Context(), c); err != nil {
		t.Fatalf("Commit(%s/%s v%d): %v", c.Class, c.ID, c.Expected, err)
	}
}

func mustLoad(t *testing.T, s actor.StateStore, class, id, state string, version int64) {
	t.Helper()
	got, v, err := s.Load(t.Context(), class, id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte(state)) || v != version || (version > 0) != (got != nil) {
		t.Fatalf("Load(%s/%s) = %q v%d; want %q v%d", class, id, got, v, state, version)
	}
}
