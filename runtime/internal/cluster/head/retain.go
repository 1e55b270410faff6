package head

import (
	"slices"
	"sort"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
)

// The head keeps at most cfg.DeadActorRetention dead actors. Each death
// is numbered and stored in the dead bucket; beyond the retention the
// oldest dead are dropped from the head's tables and from its store, so a
// restarted head does not bring them back. Their names were freed when
// they died.

// retireLocked numbers a's death, which deadLocked has just recorded, and
// evicts the oldest dead beyond the retention.
func (h *Head) retireLocked(a *headActor, w *write) {
	h.actors.deathSeq++
	a.deathSeq = h.actors.deathSeq
	h.actors.dead = append(h.actors.dead, a)
	w.deaths = append(w.deaths, death{seq: a.deathSeq, id: a.info().GetActorId()})
	h.evictLocked(w)
}

// evictLocked drops the oldest dead actors until no more than the
// retention are left. They stay in h.actors.order, marked evicted, until
// persistLocked compacts it: callers may be ranging over it.
func (h *Head) evictLocked(w *write) {
	for len(h.actors.dead) > h.actors.deadCap {
		a := h.actors.dead[0]
		h.actors.dead[0] = nil
		h.actors.dead = h.actors.dead[1:]
		id := a.info().GetActorId()
		if h.actors.byID[id] == a {
			delete(h.actors.byID, id)
		}
		h.names.Free(&a.spec, a)
		if rid := a.rec.GetSpawnRequestId(); h.actors.spawns[rid] == a {
			delete(h.actors.spawns, rid)
		}
		a.evicted = true
		h.actors.staleRefs++
		w.evict = append(w.evict, death{seq: a.deathSeq, id: id})
	}
}

// dropEvictedLocked keeps w from storing again the record of an evicted
// actor, and compacts h.actors.order once evicted actors are half of it.
func (h *Head) dropEvictedLocked(w *write) {
	if h.actors.staleRefs == 0 {
		return
	}
	w.actors = slices.DeleteFunc(w.actors, func(rec *actorv1.ActorRecord) bool {
		a := h.actors.byID[rec.GetInfo().GetActorId()]
		return a == nil || a.rec != rec
	})
	if h.actors.staleRefs*2 >= len(h.actors.order) {
		h.actors.order = slices.DeleteFunc(h.actors.order, func(a *headActor) bool { return a.evicted })
		h.actors.staleRefs = 0
	}
}

// recoverDead rebuilds the order of the recovered dead actors from the
// stored deaths and evicts those beyond the retention, which may have
// been lowered since the head last ran. Dead actors without a numbered
// death (stored before deaths were numbered) count as the oldest, in the
// order they were created.
func (h *Head) recoverDead(deaths []death) error {
	var w write
	for _, d := range deaths {
		h.actors.deathSeq = max(h.actors.deathSeq, d.seq)
		a := h.actors.byID[d.id]
		if a == nil || !a.dead() || a.deathSeq != 0 {
			w.evict = append(w.evict, death{seq: d.seq}) // a stale entry
			continue
		}
		a.deathSeq = d.seq
	}
	for _, a := range h.actors.order {
		if a.dead() {
			h.actors.dead = append(h.actors.dead, a)
		}
	}
	sort.SliceStable(h.actors.dead, func(i, j int) bool { return h.actors.dead[i].deathSeq < h.actors.dead[j].deathSeq })
	h.evictLocked(&w)
	h.actors.order = slices.DeleteFunc(h.actors.order, func(a *headActor) bool { return a.evicted })
	h.actors.staleRefs = 0
	ops, err := w.ops()
	if err != nil {
		return err
	}
	return h.st.apply(ops)
}
