package transport_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// frame wraps msg in the five-byte envelope of Connect and gRPC streams.
func frame(flags byte, msg []byte) []byte {
	b := make([]byte, 5, 5+len(msg))
	b[0] = flags
	binary.BigEndian.PutUint32(b[1:], uint32(len(msg)))
	return append(b, msg...)
}

func marshal(f *testing.F, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzCallStream sends a node's call stream random bytes as a caller's
// stream messages, in the Connect and the gRPC protocol. Whatever arrives,
// the node answers without panicking or hanging, and the stream ends when
// the caller's body does.
func FuzzCallStream(f *testing.F) {
	var dispatched atomic.Int64
	// The dispatcher answers every third call at once, cancels nothing and
	// leaves the others to the stream's end.
	d := transport.DispatcherFunc(func(ctx context.Context, call *actorv1.CallEnvelope, reply transport.Reply) transport.Canceler {
		if dispatched.Add(1)%3 == 0 {
			reply.Send(&actorv1.ResultEnvelope{Id: call.GetId(), Response: call.GetRequest()})
			return nil
		}
		return transport.CancelFunc(func() {})
	})
	path, h := transport.NewHandler(d, transport.WithMaxMessageBytes(1<<16))

	one := marshal(f, &actorv1.CallsRequest{Calls: []*actorv1.CallEnvelope{{Id: 1, ActorId: "a", Procedure: "/p.S/M", Request: []byte{8, 1}}}})
	batch := marshal(f, &actorv1.CallsRequest{
		Calls: []*actorv1.CallEnvelope{
			{Id: 1, ActorId: "a", Procedure: "/p.S/M", DeadlineUnixNano: time.Now().Add(time.Hour).UnixNano()},
			{Id: 2}, // the actor and procedure of the call before
			{Id: 3, ActorId: "b", DeadlineUnixNano: 1, Metadata: map[string]string{"k": "v"}},
		},
		Cancels: []uint64{2, 9},
	})
	dup := marshal(f, &actorv1.CallsRequest{Calls: []*actorv1.CallEnvelope{{Id: 7, ActorId: "a", Procedure: "/p.S/M"}, {Id: 7}}})
	cancels := marshal(f, &actorv1.CallsRequest{Cancels: []uint64{1, 1, 0, 1 << 63}})
	for _, seed := range []struct {
		grpc bool
		body []byte
	}{
		{false, frame(0, one)},
		{true, frame(0, one)},
		{false, append(frame(0, batch), frame(0, cancels)...)},
		{true, append(frame(0, one), frame(0, one)...)}, // an id reused while it runs
		{false, frame(0, dup)},
		{false, frame(1, one)},                     // "compressed", but not gzip
		{true, frame(0, []byte{0xff, 0xff, 0xff})}, // not a protobuf message
		{false, []byte{0, 0xff, 0xff, 0xff, 0xff}}, // a length far past the limit
		{false, append(frame(0, one), 0, 0, 0)},    // a truncated second envelope
		{false, frame(2, []byte(`{"error": {}}`))}, // an end-of-stream message from a client
		{true, frame(0x80, nil)},                   // a gRPC-Web trailer flag
		{false, nil},                               // an empty stream
	} {
		f.Add(seed.grpc, seed.body)
	}
	f.Fuzz(func(t *testing.T, grpc bool, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "http://node.test"+path, bytes.NewReader(body))
		req.ProtoMajor, req.ProtoMinor, req.Proto = 2, 0, "HTTP/2.0"
		if grpc {
			req.Header.Set("Content-Type", "application/grpc")
			req.Header.Set("Te", "trailers")
		} else {
			req.Header.Set("Content-Type", "application/connect+proto")
		}
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.ServeHTTP(rec, req)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("the stream did not end with its body (%d bytes)", len(body))
		}
		if rec.Code == 0 {
			t.Fatal("no status written")
		}
	})
}
