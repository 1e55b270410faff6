package cluster

import (
	"errors"
	"testing"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// overWire sends err through a result envelope, as a node does.
func overWire(err error) error {
	return FromWire(transport.EnvelopeToError(transport.ErrorEnvelope(ToWire(err))))
}

func TestErrorsSurviveTheWire(t *testing.T) {
	died := errs.Died(&errs.ActorDiedError{ActorID: "a1", Class: "k.v1.K", Name: "n",
		Cause: errs.Cause{Kind: errs.CausePanic, Message: "boom", Stack: "stack"}, Restarts: 2})
	got := overWire(died)
	var de *errs.ActorDiedError
	if !errors.Is(got, errs.ErrActorDied) || !errors.As(got, &de) || connect.CodeOf(got) != connect.CodeAborted {
		t.Fatalf("died: %v", got)
	}
	if de.ActorID != "a1" || de.Class != "k.v1.K" || de.Name != "n" || de.Restarts != 2 || de.Cause != (errs.Cause{Kind: errs.CausePanic, Message: "boom", Stack: "stack"}) {
		t.Fatalf("died detail: %+v", de)
	}
	got = overWire(errs.Unavailable(&errs.ActorUnavailableError{ActorID: "a1", Class: "k", Reason: "restarting"}))
	var ue *errs.ActorUnavailableError
	if !errors.Is(got, errs.ErrActorUnavailable) || !errors.As(got, &ue) || ue.Reason != "restarting" {
		t.Fatalf("unavailable: %v", got)
	}
	for name, s := range sentinels {
		got := overWire(errs.Newf(s, "because %s", name))
		if !errors.Is(got, s) || connect.CodeOf(got) != errs.Code(s) || connect.CodeOf(got) == connect.CodeUnknown && s != errs.ErrUnknownMethod {
			t.Fatalf("%s: %v (%v)", name, got, connect.CodeOf(got))
		}
	}
	app := connect.NewError(connect.CodeNotFound, errors.New("no such key"))
	got = overWire(app)
	if connect.CodeOf(got) != connect.CodeNotFound || errors.Is(got, errs.ErrActorNotFound) {
		t.Fatalf("application error: %v", got)
	}
}
