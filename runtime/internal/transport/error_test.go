package transport_test

import (
	"context"
	"errors"
	"testing"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// A context error that ends a call on another node reaches the caller as
// the same context error, with its code and message.
func TestEnvelopeKeepsContextErrors(t *testing.T) {
	for _, want := range []error{context.Canceled, context.DeadlineExceeded} {
		code, msg, details := transport.ErrorToEnvelope(want)
		err := transport.EnvelopeToError(&actorv1.ResultEnvelope{Code: code, Message: msg, Details: details})
		if !errors.Is(err, want) {
			t.Errorf("%v across the wire = %v, which does not match it", want, err)
		}
		if connect.CodeOf(err) != connect.Code(code) {
			t.Errorf("%v across the wire has code %v, want %v", want, connect.CodeOf(err), connect.Code(code))
		}
	}
	err := transport.EnvelopeToError(&actorv1.ResultEnvelope{Code: int32(connect.CodeInternal), Message: "boom"})
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("an internal error matches a context error: %v", err)
	}
}
