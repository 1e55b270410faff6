// Package sqlite is a state store for durable actors in one SQLite file,
// through modernc.org/sqlite (pure Go, no cgo):
//
//	store, err := sqlite.Open("state.db")
//	if err != nil { ... }
//	defer store.Close() // after the system's Shutdown
//	sys, err := actor.Start(ctx, actor.WithStateStore(store), actor.WithClasses(...))
//
// SQLite rather than an embedded key-value file because several processes
// and several handles in one process may open the same file at once (a
// second System, a tool reading state, a restarted child) with WAL readers
// beside one writer, and because its schema and transactions are the same
// SQL as the PostgreSQL store's (runtime/actor/postgres), so both behave
// alike. Both pass one conformance suite (runtime/actor/statestoretest).
//
// The package is apart from runtime/actor so that a program that keeps no
// durable state links no database.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/troupehq/troupe/runtime/actor"
)

// Store is an actor.StateStore in one SQLite file. It is safe for
// concurrent use.
type Store struct {
	db   *sql.DB
	path string
}

var _ actor.StateStore = (*Store)(nil)

// Open opens the store at path, creating the file, its tables and its
// directory if needed. The file is in WAL mode with synchronous=FULL: a
// commit that returned is on disk, through a process kill and a power
// loss. Other handles and processes may open the same file; writers wait
// for each other up to 10 s. The caller closes the store, after the
// systems using it have shut down.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: state directory: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return s, nil
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

func (s *Store) init() error {
	_, err := s.db.Exec(`
CREATE TABLE IF NOT EXISTS troupe_state (
  class   TEXT NOT NULL,
  id      TEXT NOT NULL,
  version INTEGER NOT NULL,
  state   BLOB NOT NULL,
  PRIMARY KEY (class, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS troupe_results (
  class  TEXT NOT NULL,
  id     TEXT NOT NULL,
  caller TEXT NOT NULL,
  seq    INTEGER NOT NULL,
  result BLOB NOT NULL,
  PRIMARY KEY (class, id, caller, seq)
) WITHOUT ROWID;`)
	return err
}

// Load implements actor.StateStore.
func (s *Store) Load(ctx context.Context, class, id string) ([]byte, int64, error) {
	var state []byte
	var version int64
	err := s.db.QueryRowContext(ctx, `SELECT state, version FROM troupe_state WHERE class = ? AND id = ?`, class, id).Scan(&state, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: load %s/%s: %w", class, id, err)
	}
	return nonNil(state), version, nil
}

// Commit implements actor.StateStore.
func (s *Store) Commit(ctx context.Context, c actor.StateCommit) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: commit %s/%s: %w", c.Class, c.ID, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var res sql.Result
	if c.Expected == 0 {
		res, err = tx.ExecContext(ctx, `INSERT INTO troupe_state (class, id, version, state) VALUES (?, ?, 1, ?) ON CONFLICT DO NOTHING`,
			c.Class, c.ID, nonNil(c.State))
	} else {
		res, err = tx.ExecContext(ctx, `UPDATE troupe_state SET version = version + 1, state = ? WHERE class = ? AND id = ? AND version = ?`,
			nonNil(c.State), c.Class, c.ID, c.Expected)
	}
	if err != nil {
		return fmt.Errorf("sqlite: commit %s/%s: %w", c.Class, c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: commit %s/%s: %w", c.Class, c.ID, err)
	} else if n != 1 {
		return actor.ErrStateConflict
	}
	if c.Caller != "" {
		res, err = tx.ExecContext(ctx, `INSERT INTO troupe_results (class, id, caller, seq, result) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			c.Class, c.ID, c.Caller, int64(c.Seq), nonNil(c.Result))
		if err != nil {
			return fmt.Errorf("sqlite: commit %s/%s: %w", c.Class, c.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: commit %s/%s: %w", c.Class, c.ID, err)
		} else if n != 1 {
			return actor.ErrStateConflict
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM troupe_results WHERE class = ? AND id = ? AND caller = ? AND seq <= ?`,
			c.Class, c.ID, c.Caller, c.TrimBelow()); err != nil {
			return fmt.Errorf("sqlite: commit %s/%s: %w", c.Class, c.ID, err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit %s/%s: %w", c.Class, c.ID, err)
	}
	return nil
}

// LookupResult implements actor.StateStore.
func (s *Store) LookupResult(ctx context.Context, class, id, caller string, seq uint64) ([]byte, bool, error) {
	var result []byte
	err := s.db.QueryRowContext(ctx, `SELECT result FROM troupe_results WHERE class = ? AND id = ? AND caller = ? AND seq = ?`,
		class, id, caller, int64(seq)).Scan(&result)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: lookup %s/%s: %w", class, id, err)
	}
	return result, true, nil
}

// Close implements actor.StateStore.
func (s *Store) Close() error { return s.db.Close() }

// nonNil keeps an empty message from being stored as NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
