// Package postgres is a state store for durable actors in a PostgreSQL
// database, through pgx: the store for clusters, whose nodes all reach the
// database and may activate any actor.
//
//	store, err := postgres.Open(ctx, "postgres://troupe@db:5432/troupe")
//	if err != nil { ... }
//	defer store.Close() // after the system's Shutdown
//	err = cluster.RunNode(ctx, args, actor.WithStateStore(store), actor.WithClasses(...))
//
// Its tables and transactions are those of the SQLite store
// (runtime/actor/sqlite); both pass one conformance suite
// (runtime/actor/statestoretest). The package is apart from runtime/actor
// so that a program that keeps no durable state links no database driver.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/troupehq/troupe/runtime/actor"
)

// Store is an actor.StateStore in a PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

var _ actor.StateStore = (*Store)(nil)

// Open connects to the database at dsn ("postgres://user@host:port/db",
// or pgx's key=value form) and creates the store's tables if they are
// missing. The caller closes the store, after the systems using it have
// shut down.
func Open(ctx context.Context, dsn string) (*Store, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	_, err = pool.Exec(ctx, `
CREATE TABLE IF NOT EXISTS troupe_state (
  class   TEXT NOT NULL,
  id      TEXT NOT NULL,
  version BIGINT NOT NULL,
  state   BYTEA NOT NULL,
  PRIMARY KEY (class, id)
);
CREATE TABLE IF NOT EXISTS troupe_results (
  class  TEXT NOT NULL,
  id     TEXT NOT NULL,
  caller TEXT NOT NULL,
  seq    BIGINT NOT NULL,
  result BYTEA NOT NULL,
  PRIMARY KEY (class, id, caller, seq)
);`)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: create tables: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Load implements actor.StateStore.
func (p *Store) Load(ctx context.Context, class, id string) ([]byte, int64, error) {
	var state []byte
	var version int64
	err := p.pool.QueryRow(ctx, `SELECT state, version FROM troupe_state WHERE class = $1 AND id = $2`, class, id).Scan(&state, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: load %s/%s: %w", class, id, err)
	}
	return nonNil(state), version, nil
}

// Commit implements actor.StateStore.
func (p *Store) Commit(ctx context.Context, c actor.StateCommit) (err error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: commit %s/%s: %w", c.Class, c.ID, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	var n int64
	if c.Expected == 0 {
		tag, e := tx.Exec(ctx, `INSERT INTO troupe_state (class, id, version, state) VALUES ($1, $2, 1, $3) ON CONFLICT DO NOTHING`,
			c.Class, c.ID, nonNil(c.State))
		n, err = tag.RowsAffected(), e
	} else {
		tag, e := tx.Exec(ctx, `UPDATE troupe_state SET version = version + 1, state = $1 WHERE class = $2 AND id = $3 AND version = $4`,
			nonNil(c.State), c.Class, c.ID, c.Expected)
		n, err = tag.RowsAffected(), e
	}
	if err != nil {
		return fmt.Errorf("postgres: commit %s/%s: %w", c.Class, c.ID, err)
	}
	if n != 1 {
		err = actor.ErrStateConflict
		return err
	}
	if c.Caller != "" {
		tag, e := tx.Exec(ctx, `INSERT INTO troupe_results (class, id, caller, seq, result) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
			c.Class, c.ID, c.Caller, int64(c.Seq), nonNil(c.Result))
		if e != nil {
			err = fmt.Errorf("postgres: commit %s/%s: %w", c.Class, c.ID, e)
			return err
		}
		if tag.RowsAffected() != 1 {
			err = actor.ErrStateConflict
			return err
		}
		if _, e := tx.Exec(ctx, `DELETE FROM troupe_results WHERE class = $1 AND id = $2 AND caller = $3 AND seq <= $4`,
			c.Class, c.ID, c.Caller, c.TrimBelow()); e != nil {
			err = fmt.Errorf("postgres: commit %s/%s: %w", c.Class, c.ID, e)
			return err
		}
	}
	if err = tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit %s/%s: %w", c.Class, c.ID, err)
	}
	return nil
}

// LookupResult implements actor.StateStore.
func (p *Store) LookupResult(ctx context.Context, class, id, caller string, seq uint64) ([]byte, bool, error) {
	var result []byte
	err := p.pool.QueryRow(ctx, `SELECT result FROM troupe_results WHERE class = $1 AND id = $2 AND caller = $3 AND seq = $4`,
		class, id, caller, int64(seq)).Scan(&result)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("postgres: lookup %s/%s: %w", class, id, err)
	}
	return result, true, nil
}

// Close implements actor.StateStore.
func (p *Store) Close() error {
	p.pool.Close()
	return nil
}

// nonNil keeps an empty message from being stored as NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
