package transport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/anypb"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/errs"
)

// ErrClosed is matched by errors.Is for calls made on, or pending on, a
// closed [Conn]. Such calls fail with code unavailable.
var ErrClosed = errors.New("transport connection closed")

// typeURLPrefix is the prefix connect and gRPC put before a detail's
// message name in google.protobuf.Any.
const typeURLPrefix = "type.googleapis.com/"

// ErrorEnvelope returns the ResultEnvelope that carries err: a
// *connect.Error (found with errors.As) keeps its code, message, details
// and metadata; a context error becomes canceled or deadline_exceeded; any
// other error becomes unknown with its text. A nil err gives an envelope of
// code 0.
func ErrorEnvelope(err error) *actorv1.ResultEnvelope {
	res := new(actorv1.ResultEnvelope)
	if err == nil {
		return res
	}
	ce := errs.FromContext(err) // a *connect.Error in err's chain, or one made for err
	res.Code, res.Message = int32(ce.Code()), ce.Message()
	for _, d := range ce.Details() {
		res.Details = append(res.Details, &anypb.Any{TypeUrl: typeURLPrefix + d.Type(), Value: d.Bytes()})
	}
	for k, vs := range ce.Meta() {
		res.ErrorMetadata = append(res.ErrorMetadata, &actorv1.ErrorMetadata{Key: k, Values: vs})
	}
	slices.SortFunc(res.ErrorMetadata, func(a, b *actorv1.ErrorMetadata) int { return strings.Compare(a.GetKey(), b.GetKey()) })
	return res
}

// EnvelopeToError rebuilds the error a ResultEnvelope carries: nil for code
// 0, else a *connect.Error with the code, the message, every detail and
// the metadata, so
// the caller reads typed details with (*connect.ErrorDetail).Value. A code
// outside Connect's range becomes unknown; canceled and deadline_exceeded
// also match context.Canceled and context.DeadlineExceeded.
func EnvelopeToError(res *actorv1.ResultEnvelope) error {
	if res.GetCode() == 0 {
		return nil
	}
	code := connect.Code(res.GetCode())
	if code < connect.CodeCanceled || code > connect.CodeUnauthenticated {
		code = connect.CodeUnknown
	}
	var cause error = errors.New(res.GetMessage())
	switch code {
	case connect.CodeCanceled:
		cause = &contextError{msg: res.GetMessage(), ctx: context.Canceled}
	case connect.CodeDeadlineExceeded:
		cause = &contextError{msg: res.GetMessage(), ctx: context.DeadlineExceeded}
	}
	e := connect.NewError(code, cause)
	for _, a := range res.GetDetails() {
		d, err := connect.NewErrorDetail(a)
		if err != nil {
			continue // NewErrorDetail does not fail for an Any
		}
		e.AddDetail(d)
	}
	for _, m := range res.GetErrorMetadata() {
		for _, v := range m.GetValues() {
			e.Meta().Add(m.GetKey(), v)
		}
	}
	return e
}

// contextError is the cause of a canceled or deadline_exceeded result: it
// reads as the message that came over the wire and matches the context
// error under errors.Is, as the same failure does on the caller's node.
type contextError struct {
	msg string
	ctx error
}

func (e *contextError) Error() string { return e.msg }
func (e *contextError) Unwrap() error { return e.ctx }

// unavailable wraps a stream failure as the error of the calls it ends.
func unavailable(cause error) *connect.Error {
	if errors.Is(cause, ErrClosed) {
		return connect.NewError(connect.CodeUnavailable, cause)
	}
	return connect.NewError(connect.CodeUnavailable, fmt.Errorf("node stream failed: %w", cause))
}
