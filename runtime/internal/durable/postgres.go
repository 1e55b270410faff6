package durable

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the Store for clusters: a PostgreSQL database every node
// reaches.
type Postgres struct {
	pool *pgxpool.Pool
}

// OpenPostgres connects to the database at dsn ("postgres://user@host:port/db")
// and creates the store's tables if they are missing.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("durable: postgres: %w", err)
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
		return nil, fmt.Errorf("durable: postgres: create tables: %w", err)
	}
	return &Postgres{pool: pool}, nil
}

// Load implements Store.
func (p *Postgres) Load(ctx context.Context, class, id string) ([]byte, int64, error) {
	var state []byte
	var version int64
	err := p.pool.QueryRow(ctx, `SELECT state, version FROM troupe_state WHERE class = $1 AND id = $2`, class, id).Scan(&state, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("durable: load %s/%s: %w", class, id, err)
	}
	return nonNil(state), version, nil
}

// Commit implements Store.
func (p *Postgres) Commit(ctx context.Context, c Commit) (err error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("durable: commit %s/%s: %w", c.Class, c.ID, err)
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
		return fmt.Errorf("durable: commit %s/%s: %w", c.Class, c.ID, err)
	}
	if n != 1 {
		err = ErrConflict
		return err
	}
	if c.Caller != "" {
		tag, e := tx.Exec(ctx, `INSERT INTO troupe_results (class, id, caller, seq, result) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
			c.Class, c.ID, c.Caller, int64(c.Seq), nonNil(c.Result))
		if e != nil {
			err = fmt.Errorf("durable: commit %s/%s: %w", c.Class, c.ID, e)
			return err
		}
		if tag.RowsAffected() != 1 {
			err = ErrConflict
			return err
		}
		if _, e := tx.Exec(ctx, `DELETE FROM troupe_results WHERE class = $1 AND id = $2 AND caller = $3 AND seq <= $4`,
			c.Class, c.ID, c.Caller, c.trimBelow()); e != nil {
			err = fmt.Errorf("durable: commit %s/%s: %w", c.Class, c.ID, e)
			return err
		}
	}
	if err = tx.Commit(ctx); err != nil {
		return fmt.Errorf("durable: commit %s/%s: %w", c.Class, c.ID, err)
	}
	return nil
}

// LookupResult implements Store.
func (p *Postgres) LookupResult(ctx context.Context, class, id, caller string, seq uint64) ([]byte, bool, error) {
	var result []byte
	err := p.pool.QueryRow(ctx, `SELECT result FROM troupe_results WHERE class = $1 AND id = $2 AND caller = $3 AND seq = $4`,
		class, id, caller, int64(seq)).Scan(&result)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("durable: lookup %s/%s: %w", class, id, err)
	}
	return result, true, nil
}

// Close implements Store.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}
