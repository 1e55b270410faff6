package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/internal/cluster/head"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// A head keeps the newest dead actors up to its retention.
// The head evicts the others from its tables and its store, so a restart
// does not bring them back; calls through old handles to evicted actors
// fail at once, and lookups do not find them.
func TestDeadActorRetentionInCluster(t *testing.T) {
	const keep = 2
	retention := []string{"--dead-actor-retention", fmt.Sprint(keep)}
	c := newCluster(t, retention...)
	// The node keeps no dead actor: calls to the dead find none there and
	// ask the head, which knows the retained ones only.
	c.addNode("--labels", "role=worker", "--dead-actor-retention", "0")
	sys := c.connect("retention")
	ctx := context.Background()

	live := spawn(t, sys, testv1actor.ProbeOptions().LabelSelector(worker))
	var dead []*testv1actor.ProbeHandle
	for i := range 5 {
		h := spawn(t, sys, testv1actor.ProbeOptions().Name(fmt.Sprintf("p%d", i)).LabelSelector(worker))
		// A call resolves the actor's node: the handle keeps its address.
		if _, err := h.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); err != nil {
			t.Fatalf("Add on p%d: %v", i, err)
		}
		dead = append(dead, h)
	}
	for i, h := range dead {
		if err := sys.Kill(ctx, h, actor.NoRestart()); err != nil {
			t.Fatalf("Kill p%d: %v", i, err)
		}
	}
	evicted, retained := dead[:len(dead)-keep], dead[len(dead)-keep:]

	// The head records the deaths as it answers Kill.
	checkListed := func(when string) {
		t.Helper()
		list, err := sys.ListActors(ctx)
		if err != nil {
			t.Fatalf("ListActors %s: %v", when, err)
		}
		want := map[string]bool{live.Ref().ID(): true}
		for _, h := range retained {
			want[h.Ref().ID()] = true
		}
		if len(list) != len(want) {
			t.Fatalf("ListActors %s = %d actors, want %d (the live one and the last %d to die)", when, len(list), len(want), keep)
		}
		for _, in := range list {
			if !want[in.ID] {
				t.Fatalf("ListActors %s lists %+v, evicted", when, in)
			}
		}
	}
	checkListed("after the kills")

	// Calls through old handles: once the node has ended the actors, they
	// are on no node and the caller asks the head, which reports a
	// retained one dead and knows no evicted one. Either way the call
	// fails promptly.
	for i, h := range dead {
		var err error
		eventually(t, fmt.Sprintf("a call to p%d to fail", i), func() bool {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			start := time.Now()
			_, err = h.Get(cctx, &testv1.GetRequest{}).Get(cctx)
			if took := time.Since(start); err != nil && took > 5*time.Second {
				t.Fatalf("call to p%d failed after %v: %v; want a prompt failure", i, took, err)
			}
			return err != nil
		})
		want := actor.ErrActorDied // from the head's record
		if i < len(evicted) {
			want = actor.ErrActorNotFound
		}
		if !errors.Is(err, want) {
			t.Fatalf("call to p%d = %v, want %v", i, err, want)
		}
	}
	checkLookups := func(when string) {
		t.Helper()
		for i, h := range evicted {
			if _, err := testv1actor.ProbeFromRef(ctx, sys, h.Ref().Proto()); !errors.Is(err, actor.ErrActorNotFound) {
				t.Fatalf("ProbeFromRef(p%d) %s = %v, want ErrActorNotFound", i, when, err)
			}
			if _, err := testv1actor.GetProbe(ctx, sys, fmt.Sprintf("p%d", i)); !errors.Is(err, actor.ErrActorNotFound) {
				t.Fatalf("GetProbe(p%d) %s = %v, want ErrActorNotFound", i, when, err)
			}
		}
		for _, h := range retained {
			if _, err := testv1actor.ProbeFromRef(ctx, sys, h.Ref().Proto()); err != nil {
				t.Fatalf("ProbeFromRef(%s), retained, %s: %v", h.Ref().ID(), when, err)
			}
		}
	}
	checkLookups("after the kills")

	// The head's store holds the retained dead only.
	_, port, _ := splitHostPort(c.headAddr)
	c.head.kill()
	stored := storedActors(t, filepath.Join(c.stateDir, head.StateFile))
	for _, h := range evicted {
		if stored[h.Ref().ID()] {
			t.Fatalf("the head's store still holds evicted actor %s", h.Ref().ID())
		}
	}
	for _, h := range append([]*testv1actor.ProbeHandle{live}, retained...) {
		if !stored[h.Ref().ID()] {
			t.Fatalf("the head's store lost actor %s", h.Ref().ID())
		}
	}

	c.startHead(port, retention...)
	checkListed("after the head restarted")
	checkLookups("after the head restarted")
	if _, err := live.Get(ctx, &testv1.GetRequest{}).Get(ctx); err != nil {
		t.Fatalf("call to the live actor after the head restarted: %v", err)
	}
}

// storedActors returns the ids of the actors in a head's store, which the
// head must have closed, and checks that every numbered death in it names
// a stored actor.
func storedActors(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := map[string]bool{}
	err = db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket([]byte("actors")).ForEach(func(k, _ []byte) error {
			ids[string(k)] = true
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket([]byte("dead_actors")).ForEach(func(_, v []byte) error {
			if !ids[string(v)] {
				return fmt.Errorf("the dead bucket names actor %s, which is not stored", v)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}
