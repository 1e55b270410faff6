package cluster

import (
	"encoding/base64"
	"strings"
)

// DurablePrefix starts the actor id of a call envelope addressed to a
// durable actor: "durable:<class>/<id>". The node routes such a call to its
// activation of (class, id).
const DurablePrefix = "durable:"

// DurableInitKey is the call metadata key carrying a durable actor's
// serialized init (base64), for the node that creates the actor.
const DurableInitKey = "troupe-durable-init"

// DurableActorID is the envelope actor id of the durable actor (class, id).
func DurableActorID(class, id string) string { return DurablePrefix + class + "/" + id }

// ParseDurableActorID splits an envelope actor id made by DurableActorID.
// Class names hold no "/", ids may.
func ParseDurableActorID(s string) (class, id string, ok bool) {
	rest, ok := strings.CutPrefix(s, DurablePrefix)
	if !ok {
		return "", "", false
	}
	class, id, ok = strings.Cut(rest, "/")
	return class, id, ok && class != "" && id != ""
}

// DurableCallerKey and DurableSeqKey are the call metadata keys carrying a
// durable call's deduplication key (actor.WithCallKey).
const (
	DurableCallerKey = "troupe-durable-caller"
	DurableSeqKey    = "troupe-durable-seq"
)

// EncodeDurableInit is the DurableInitKey metadata value of init.
func EncodeDurableInit(init []byte) string { return base64.StdEncoding.EncodeToString(init) }

// NotOwnerError is the error of a call that reached a node which does not
// own the durable actor: the caller asks the head again.
func NotOwnerError(class, id, nodeID string) error {
	return NotOnNodeError(DurableActorID(class, id), nodeID)
}
