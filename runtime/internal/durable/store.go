// Package durable stores the state of durable (virtual) actors.
//
// A Store keeps, per actor (class, id), the actor's state as protobuf bytes
// with a version that counts its commits, and the results of the mutating
// calls that carried a caller id and sequence number, so that a retried call
// is answered from its record instead of being applied twice.
//
// Commits are optimistic: a commit names the version it read and fails with
// ErrConflict when another commit got there first. One activation per actor
// never sees a conflict; two activations racing for one id (two nodes, or
// two systems on one store) serialise through it: the loser reloads and
// runs its call again.
//
// Two backends pass one conformance suite:
//
//   - OpenSQLite, the embedded default: one SQLite file on the node, through
//     modernc.org/sqlite (pure Go, no cgo). SQLite rather than bbolt because
//     several processes and several handles in one process may open the same
//     file at once (a second System, a CLI reading state, a test's restarted
//     child) with WAL readers beside one writer, where bbolt takes an
//     exclusive file lock; and because its schema and transactions are the
//     same SQL as the PostgreSQL backend's, so both behave alike.
//   - OpenPostgres, for clusters: a PostgreSQL database shared by the nodes,
//     through pgx.
//
// Result records are trimmed per caller: a commit deletes the records of
// its caller whose sequence is Keep or more below its own, so a caller that
// numbers its calls 1, 2, 3... keeps its last Keep results. A retry older
// than that window is applied again: callers retry within it.
package durable

import (
	"context"
	"errors"
)

// ErrConflict is returned by Commit when the stored version is not the
// expected one, or when the call's result is already recorded: another
// activation committed first.
var ErrConflict = errors.New("durable: concurrent commit")

// DefaultKeep is how many result records per caller a commit keeps when
// Commit.Keep is 0.
const DefaultKeep = 128

// Store keeps durable actors' state. Implementations are safe for
// concurrent use.
type Store interface {
	// Load returns the actor's state and version; version 0 and nil state
	// when the actor has never been committed.
	Load(ctx context.Context, class, id string) (state []byte, version int64, err error)
	// Commit writes c.State as version c.Expected+1 and, when c.Caller is
	// not empty, records c.Result under (c.Caller, c.Seq), in one
	// transaction. Expected 0 creates the actor. It fails with ErrConflict,
	// writing nothing, when the stored version is not c.Expected or the
	// result is already recorded.
	Commit(ctx context.Context, c Commit) error
	// LookupResult returns the recorded result of the call (caller, seq).
	LookupResult(ctx context.Context, class, id, caller string, seq uint64) (result []byte, ok bool, err error)
	// Close releases the store.
	Close() error
}

// Commit is one mutating call's outcome.
type Commit struct {
	Class, ID string
	// Expected is the version the call read; 0 when creating.
	Expected int64
	// State is the new state, marshalled.
	State []byte
	// Caller and Seq name the call for deduplication; an empty Caller
	// records no result.
	Caller string
	Seq    uint64
	// Result is the call's response, marshalled.
	Result []byte
	// Keep is how many result records of Caller to keep; 0 means
	// DefaultKeep.
	Keep int
}

func (c *Commit) keep() int64 {
	if c.Keep <= 0 {
		return DefaultKeep
	}
	return int64(c.Keep)
}

// trimBelow is the sequence at or below which Caller's records are deleted.
func (c *Commit) trimBelow() int64 {
	return int64(c.Seq) - c.keep()
}
