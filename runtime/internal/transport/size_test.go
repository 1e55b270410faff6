package transport

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
)

// The sizes computed field by field are proto.Size's, whatever the fields
// hold, including the cases that fall back to proto.Size.
func TestSizesMatchProto(t *testing.T) {
	lengths := []int{0, 1, 127, 128, 16383, 16384, 70000}
	for _, a := range lengths {
		for _, r := range lengths {
			for _, dl := range []int64{0, 1, 1 << 62, -5} {
				env := &actorv1.CallEnvelope{Id: 7, ActorId: strings.Repeat("a", a), Procedure: "/p.S/M",
					Request: make([]byte, r), DeadlineUnixNano: dl}
				want := proto.Size(&actorv1.CallEnvelope{Id: 1<<64 - 1, ActorId: env.ActorId, Procedure: env.Procedure,
					Request: env.Request, DeadlineUnixNano: dl})
				if got := callSize(env); got != want {
					t.Errorf("callSize(actor %d, request %d, deadline %d) = %d, want %d", a, r, dl, got, want)
				}
				if env.Id != 7 {
					t.Fatal("callSize changed the id")
				}
			}
			res := &actorv1.ResultEnvelope{Id: uint64(a) << 20, Response: make([]byte, r)}
			if got, want := resultSize(res), proto.Size(res); got != want {
				t.Errorf("resultSize(id %d, response %d) = %d, want %d", res.Id, r, got, want)
			}
		}
	}
	withMD := &actorv1.CallEnvelope{Id: 1, ActorId: "a", Procedure: "/p.S/M", Metadata: map[string]string{"traceparent": "x"}}
	if got, want := callSize(withMD), proto.Size(&actorv1.CallEnvelope{Id: 1<<64 - 1, ActorId: "a", Procedure: "/p.S/M",
		Metadata: withMD.Metadata}); got != want {
		t.Errorf("callSize with metadata = %d, want %d", got, want)
	}
	failed := &actorv1.ResultEnvelope{Id: 3, Code: 5, Message: "not found"}
	if got, want := resultSize(failed), proto.Size(failed); got != want {
		t.Errorf("resultSize of an error = %d, want %d", got, want)
	}
}
