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
		res := transport.ErrorEnvelope(want)
		err := transport.EnvelopeToError(res)
		if !errors.Is(err, want) {
			t.Errorf("%v across the wire = %v, which does not match it", want, err)
		}
		if connect.CodeOf(err) != connect.Code(res.GetCode()) {
			t.Errorf("%v across the wire has code %v, want %v", want, connect.CodeOf(err), connect.Code(res.GetCode()))
		}
	}
	err := transport.EnvelopeToError(&actorv1.ResultEnvelope{Code: int32(connect.CodeInternal), Message: "boom"})
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("an internal error matches a context error: %v", err)
	}
}

// A Connect error's metadata crosses the wire with it, every value of
// every key.
func TestEnvelopeKeepsErrorMetadata(t *testing.T) {
	ce := connect.NewError(connect.CodeFailedPrecondition, errors.New("no widget"))
	ce.Meta().Add("X-Widget", "a")
	ce.Meta().Add("X-Widget", "b")
	ce.Meta().Set("X-Other", "c")
	err := transport.EnvelopeToError(transport.ErrorEnvelope(ce))
	var got *connect.Error
	if !errors.As(err, &got) {
		t.Fatalf("EnvelopeToError = %T, want a *connect.Error", err)
	}
	if vs := got.Meta().Values("X-Widget"); len(vs) != 2 || vs[0] != "a" || vs[1] != "b" {
		t.Errorf("X-Widget = %q, want [a b]", vs)
	}
	if v := got.Meta().Get("X-Other"); v != "c" {
		t.Errorf("X-Other = %q, want c", v)
	}
}
