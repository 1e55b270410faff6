package actor

import (
	"context"
	"errors"
)

// StateStore keeps the state of durable actors: per actor (class, id), its
// state as protobuf bytes with a version that counts its commits, and the
// results of the keyed calls (WithCallKey) it ran, so that a retried call
// is answered from its record instead of being applied twice.
//
// The stores are packages a program imports when it uses them:
// runtime/actor/sqlite (one file on the node) and runtime/actor/postgres
// (a database the nodes of a cluster share). Pass one to WithStateStore.
// Another implementation must be safe for concurrent use, and may run the
// conformance suite those two pass.
//
// Commits are optimistic: a commit names the version it read and fails
// with ErrStateConflict when another commit got there first. One
// activation per actor never sees a conflict; two activations racing for
// one id (two systems on one store) serialise through it: the loser
// reloads and runs its call again.
type StateStore interface {
	// Load returns the actor's state and version; version 0 and nil state
	// when the actor has never been committed.
	Load(ctx context.Context, class, id string) (state []byte, version int64, err error)
	// Commit writes c.State as version c.Expected+1 and, when c.Caller is
	// not empty, records c.Result under (c.Caller, c.Seq), in one
	// transaction, then deletes Caller's records whose Seq is c.TrimBelow()
	// or less. Expected 0 creates the actor. It fails with
	// ErrStateConflict, writing nothing, when the stored version is not
	// c.Expected or the result is already recorded.
	Commit(ctx context.Context, c StateCommit) error
	// LookupResult returns the recorded result of the call (caller, seq).
	LookupResult(ctx context.Context, class, id, caller string, seq uint64) (result []byte, ok bool, err error)
	// Close releases the store.
	Close() error
}

// ErrStateConflict is what StateStore.Commit returns when the stored
// version is not the expected one, or the call's result is already
// recorded: another activation committed first.
var ErrStateConflict = errors.New("durable: concurrent commit")

// DefaultCallRecords is how many results of keyed calls a durable actor
// keeps per caller, unless WithCallRecords says otherwise.
const DefaultCallRecords = 128

// StateCommit is one commit to a StateStore: the new state of an actor
// and, for a keyed call, its result.
type StateCommit struct {
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
	// DefaultCallRecords.
	Keep int
}

// TrimBelow is the sequence at or below which a commit deletes Caller's
// result records: a caller that numbers its calls 1, 2, 3... keeps its
// last Keep results.
func (c *StateCommit) TrimBelow() int64 {
	keep := int64(c.Keep)
	if keep <= 0 {
		keep = DefaultCallRecords
	}
	return int64(c.Seq) - keep
}
