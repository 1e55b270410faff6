package control

import (
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// Ledger is a node's resources: what it has and what is free. The
// embedded control plane and the head keep one per node. An actor takes
// its Cost from the free pool when placed and gives it back when it ends;
// a placement group's bundle takes its resources when placed and gives
// back what its actors do not use when removed.
type Ledger struct {
	Total resources.Set
	free  resources.Set
}

// NewLedger returns the ledger of a node with total, all of it free.
func NewLedger(total resources.Set) Ledger { return Ledger{Total: total, free: total.Clone()} }

// Free is what is free now; the caller must not modify it.
func (l *Ledger) Free() resources.Set { return l.free }

// Take takes s from the free pool.
func (l *Ledger) Take(s resources.Set) { l.free.Sub(s) }

// Give gives s back to the free pool.
func (l *Ledger) Give(s resources.Set) { l.free.Add(s) }

// Reset frees everything, for a node that starts afresh.
func (l *Ledger) Reset() { l.free = l.Total.Clone() }

// Cost is what an actor with spec takes from its node's free pool:
// nothing when it runs in a live placement group's bundle (inGroup),
// which took its resources already.
func Cost(spec *node.Spec, inGroup bool) resources.Set {
	if inGroup {
		return nil
	}
	return spec.Resources
}
