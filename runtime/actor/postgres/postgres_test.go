package postgres_test

import (
	"testing"

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/actor/postgres"
	"github.com/troupehq/troupe/runtime/actor/statestoretest"
	"github.com/troupehq/troupe/runtime/internal/pgtest"
)

// TestConformance runs the suite on one server that belongs to this run
// of the test (with -count the next run starts its own); each case has
// its own class names.
func TestConformance(t *testing.T) {
	dsn := pgtest.Start(t)
	statestoretest.Run(t, func(t *testing.T) actor.StateStore {
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// A database that cannot be reached is an error from Open.
func TestOpenUnreachable(t *testing.T) {
	ctx := t.Context()
	if s, err := postgres.Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); err == nil {
		s.Close()
		t.Fatal("Open of an unreachable database succeeded")
	}
	if _, err := postgres.Open(ctx, "::not a dsn::"); err == nil {
		t.Fatal("Open of a malformed dsn succeeded")
	}
}
