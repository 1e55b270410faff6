package head

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	bolt "go.etcd.io/bbolt"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
)

// gatedStore holds every write until the test lets it through.
type gatedStore struct {
	backend
	started chan struct{} // a write has begun
	release chan struct{} // closed: writes go on
}

func (g *gatedStore) apply(ops []op) error {
	select {
	case g.started <- struct{}{}:
	default:
	}
	<-g.release
	return g.backend.apply(ops)
}

// The head writes to its store off the lock requests take: while a write
// is slow, lookups and listings answer, and the request that changed the
// head answers only once its change is stored.
func TestSlowWriteBlocksNoReader(t *testing.T) {
	dir := t.TempDir()
	gate := &gatedStore{started: make(chan struct{}, 1), release: make(chan struct{})}
	released := false
	release := func() {
		if !released {
			released = true
			close(gate.release)
		}
	}
	h, err := open(Config{StateDir: dir, Log: slog.New(slog.DiscardHandler), HTTPClient: http.DefaultClient,
		NewID: func() string { return "job1" }},
		func(b backend) backend { gate.backend = b; return gate })
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		release()
		_ = h.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	registered := make(chan error, 1)
	go func() {
		_, err := h.RegisterJob(ctx, connect.NewRequest(&actorv1.RegisterJobRequest{}))
		registered <- err
	}()
	select {
	case <-gate.started:
	case <-ctx.Done():
		t.Fatal("RegisterJob wrote nothing")
	}
	// The write is under way and held: readers still answer.
	read := make(chan error, 1)
	go func() {
		if _, err := h.ListNodes(ctx, connect.NewRequest(&actorv1.ListNodesRequest{})); err != nil {
			read <- err
			return
		}
		if _, err := h.GetActor(ctx, connect.NewRequest(&actorv1.GetActorRequest{ActorId: "none"})); connect.CodeOf(err) != connect.CodeNotFound {
			read <- fmt.Errorf("GetActor: %v, want not found", err)
			return
		}
		jobs, err := h.ListJobs(ctx, connect.NewRequest(&actorv1.ListJobsRequest{}))
		if err == nil && len(jobs.Msg.GetJobs()) != 1 {
			err = fmt.Errorf("ListJobs: %v", jobs.Msg.GetJobs())
		}
		read <- err
	}()
	select {
	case err := <-read:
		if err != nil {
			t.Fatalf("reading during a slow write: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("readers wait behind a slow write")
	}
	// The job is not acknowledged before it is stored.
	select {
	case err := <-registered:
		t.Fatalf("RegisterJob answered (%v) before its write was stored", err)
	default:
	}
	release()
	if err := <-registered; err != nil {
		t.Fatal(err)
	}
	// What was acknowledged is in the store.
	w, err := h.st.load()
	if err != nil {
		t.Fatal(err)
	}
	if len(w.jobs) != 1 || w.jobs[0].GetJobId() != "job1" {
		t.Fatalf("stored jobs: %v", w.jobs)
	}
}

// Changes queued while a write is under way go to the store together, in
// the order they were made.
func TestWritesQueuedDuringAWriteGoTogether(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	gate := &gatedStore{backend: &countingStore{backend: st}, started: make(chan struct{}, 1), release: make(chan struct{})}
	c := newCommitter(gate, slog.New(slog.DiscardHandler))
	key := []byte("k")
	first := c.submit([]op{{bucket: bucketMeta, key: key, val: []byte("1")}})
	<-gate.started
	var later []<-chan error
	for _, v := range []string{"2", "3", "4"} {
		later = append(later, c.submit([]op{{bucket: bucketMeta, key: key, val: []byte(v)}}))
	}
	close(gate.release)
	for _, done := range append(later, first) {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	c.close()
	if n := gate.backend.(*countingStore).n; n != 2 {
		t.Fatalf("%d transactions for a write and three queued behind it, want 2", n)
	}
	var got string
	if err := st.db.View(func(tx *bolt.Tx) error { got = string(tx.Bucket(bucketMeta).Get(key)); return nil }); err != nil {
		t.Fatal(err)
	}
	if got != "4" {
		t.Fatalf("stored %q, want the last change, 4", got)
	}
	if err := <-c.submit([]op{{bucket: bucketMeta, key: key, val: []byte("5")}}); err == nil {
		t.Fatal("a write after close was accepted")
	}
}

type countingStore struct {
	backend
	n int // only the committer's goroutine writes it
}

func (c *countingStore) apply(ops []op) error { c.n++; return c.backend.apply(ops) }
