package telemetry

import (
	"hash/maphash"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
)

// clientAttrSlots is how many client attribute slices a node keeps.
const clientAttrSlots = 128

// maxClientAttrs bounds a client span's attributes: the actor's five,
// rpc.system.name, rpc.method and the status code.
const maxClientAttrs = 8

// clientAttrCache keeps the attributes of recent client spans, one slice
// per target actor and procedure, so that calling the same method of the
// same actor again builds none. It is direct-mapped: each slot holds the
// last target hashed to it, so its size is bounded whatever the number
// of actors, and a miss costs what building the attributes costs anyway.
type clientAttrCache struct {
	seed  maphash.Seed
	slots [clientAttrSlots]atomic.Pointer[clientAttrEntry]
}

// clientAttrEntry holds the attributes of the client spans of calls to
// procedure on actor. They never change once built, so spans share them.
type clientAttrEntry struct {
	procedure string
	actor     Actor
	kv        []attribute.KeyValue // in buf, with no room to append to
	buf       [maxClientAttrs]attribute.KeyValue
}

// get returns the attributes of a client span of a call to procedure on
// a, the node's job standing in for a's when a has none.
func (c *clientAttrCache) get(procedure string, a *Actor, job attribute.KeyValue) []attribute.KeyValue {
	slot := &c.slots[(maphash.String(c.seed, a.ID)^maphash.String(c.seed, procedure))%clientAttrSlots]
	e := slot.Load()
	if e == nil || e.procedure != procedure || e.actor != *a {
		e = &clientAttrEntry{procedure: procedure, actor: *a}
		kv := a.appendAttrs(e.buf[:0])
		kv = append(kv, rpcSystem, rpcMethod(procedure), statusOK)
		if a.Job == "" {
			kv = append(kv, job)
		}
		// Without room to append to, a span that appends to the slice
		// copies it rather than write into the shared array.
		e.kv = kv[:len(kv):len(kv)]
		slot.Store(e)
	}
	return e.kv
}
