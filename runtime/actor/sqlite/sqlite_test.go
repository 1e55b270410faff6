package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/actor/sqlite"
	"github.com/troupehq/troupe/runtime/actor/statestoretest"
)

func TestConformance(t *testing.T) {
	statestoretest.Run(t, func(t *testing.T) actor.StateStore {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "state.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// A store opened in a directory that does not exist yet creates it, and a
// second handle on the file sees the first one's commits.
func TestOpenCreatesDirectoryAndShares(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "state.db")
	first, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("Open in a new directory: %v", err)
	}
	defer first.Close()
	if first.Path() != path {
		t.Errorf("Path() = %q, want %q", first.Path(), path)
	}
	if err := first.Commit(t.Context(), actor.StateCommit{Class: "c", ID: "x", State: []byte("one")}); err != nil {
		t.Fatal(err)
	}
	second, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	state, version, err := second.Load(t.Context(), "c", "x")
	if err != nil || string(state) != "one" || version != 1 {
		t.Fatalf("second handle Load = %q v%d, %v; want one v1", state, version, err)
	}
}

func TestOpenEmptyPath(t *testing.T) {
	if s, err := sqlite.Open(""); err == nil {
		s.Close()
		t.Fatal("Open(\"\") succeeded")
	}
}
