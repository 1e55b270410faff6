package transport

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
)

// callSize is proto.Size of env with its id at the widest, computed field
// by field for the envelopes the runtime sends (no metadata, no unknown
// fields): the batching budget reads it for every call. Field numbers
// below 16 take one byte of tag.
func callSize(env *actorv1.CallEnvelope) int {
	if len(env.GetMetadata()) > 0 || len(env.ProtoReflect().GetUnknown()) > 0 {
		id := env.GetId()
		env.Id = 1<<64 - 1
		n := proto.Size(env)
		env.Id = id
		return n
	}
	n := 1 + protowire.SizeVarint(1<<64-1)
	n += bytesSize(len(env.GetActorId())) + bytesSize(len(env.GetProcedure())) + bytesSize(len(env.GetRequest()))
	if d := env.GetDeadlineUnixNano(); d != 0 {
		n += 1 + protowire.SizeVarint(uint64(d))
	}
	return n
}

// resultSize is proto.Size of res, computed field by field for a result
// without an error or unknown fields.
func resultSize(res *actorv1.ResultEnvelope) int {
	if res.GetCode() != 0 || res.GetMessage() != "" || len(res.GetDetails()) > 0 || len(res.GetErrorMetadata()) > 0 || len(res.ProtoReflect().GetUnknown()) > 0 {
		return proto.Size(res)
	}
	n := bytesSize(len(res.GetResponse()))
	if id := res.GetId(); id != 0 {
		n += 1 + protowire.SizeVarint(id)
	}
	return n
}

// bytesSize is the size of a non-repeated string or bytes field of n
// bytes with a one-byte tag: nothing when empty, as proto3 leaves it out.
func bytesSize(n int) int {
	if n == 0 {
		return 0
	}
	return 1 + protowire.SizeVarint(uint64(n)) + n
}
