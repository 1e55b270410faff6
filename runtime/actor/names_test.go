package actor_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1connect"
)

// badNames are names no actor or namespace may have: too long, not
// printable, not UTF-8.
var badNames = map[string]string{
	"257 bytes":      strings.Repeat("n", 257),
	"a line break":   "two\nlines",
	"an escape":      "\x1b[31mred",
	"a NUL":          "nul\x00",
	"invalid UTF-8":  "bad\xff",
	"a bidi control": "a\u202eb",
}

// invalid reports whether err is ErrInvalidOption with the code
// invalid_argument, as a caller in any language sees it.
func invalid(err error) bool {
	return errors.Is(err, actor.ErrInvalidOption) && connect.CodeOf(err) == connect.CodeInvalidArgument
}

// Names and namespaces are checked wherever they enter: spawn options,
// lookups, a system's namespace.
func TestBadNamesAreInvalidArguments(t *testing.T) {
	sys := start(t, nil)
	ctx := context.Background()
	// The longest name allowed, and any printable text, still work.
	long := strings.Repeat("é", 128) // 256 bytes
	spawn(t, sys, testv1actor.ProbeOptions().Name(long).Namespace("ns with spaces ✓"), nil)
	if _, err := testv1actor.GetProbe(ctx, sys, long, actor.InNamespace("ns with spaces ✓")); err != nil {
		t.Errorf("GetProbe(a name of 256 bytes) = %v", err)
	}
	for what, bad := range badNames {
		if _, err := testv1actor.ProbeOptions().Name(bad).Spawn(ctx, sys, nil); !invalid(err) {
			t.Errorf("Spawn named with %s: %v, want invalid_argument", what, err)
		}
		if _, err := testv1actor.ProbeOptions().Namespace(bad).Spawn(ctx, sys, nil); !invalid(err) {
			t.Errorf("Spawn in a namespace with %s: %v, want invalid_argument", what, err)
		}
		if _, err := testv1actor.GetProbe(ctx, sys, bad); !invalid(err) {
			t.Errorf("GetProbe of a name with %s: %v, want invalid_argument", what, err)
		}
		if _, err := testv1actor.GetProbe(ctx, sys, "p", actor.InNamespace(bad)); !invalid(err) {
			t.Errorf("GetProbe in a namespace with %s: %v, want invalid_argument", what, err)
		}
		if s, err := actor.Start(ctx, actor.WithNamespace(bad)); !invalid(err) {
			t.Errorf("Start in a namespace with %s: %v, want invalid_argument", what, err)
			if s != nil {
				_ = s.Shutdown(ctx)
			}
		}
	}
}

// Through the gateway: the actor headers and the control service refuse
// bad names, and unknown enum values, with invalid_argument.
func TestGatewayRefusesBadNamesAndEnums(t *testing.T) {
	sys := start(t, nil)
	url, hc := serveGateway(t, sys)
	ctx := context.Background()
	spawn(t, sys, testv1actor.ProbeOptions().Name("p"), nil)
	probe := testv1connect.NewProbeClient(hc, url, connect.WithGRPC())

	// HTTP carries any byte but control characters in a header.
	for _, header := range []string{actor.HeaderActorID, actor.HeaderActorName, actor.HeaderNamespace} {
		for what, bad := range map[string]string{"257 bytes": badNames["257 bytes"], "invalid UTF-8": "bad\xff\xfe"} {
			req := connect.NewRequest(&testv1.GetRequest{})
			req.Header().Set(actor.HeaderActorName, "p")
			req.Header().Set(header, bad)
			if _, err := probe.Get(ctx, req); connect.CodeOf(err) != connect.CodeInvalidArgument {
				t.Errorf("%s with %s: %v, want invalid_argument", header, what, err)
			}
		}
	}

	control := actorv1connect.NewControlServiceClient(hc, url)
	for what, bad := range badNames {
		if what == "invalid UTF-8" {
			continue // not a protobuf string: refused while decoding
		}
		_, err := control.Spawn(ctx, connect.NewRequest(&actorv1.SpawnRequest{Class: testv1actor.ProbeClassName, Name: bad}))
		if connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("ControlService.Spawn named with %s: %v, want invalid_argument", what, err)
		}
		_, err = control.Spawn(ctx, connect.NewRequest(&actorv1.SpawnRequest{Class: testv1actor.ProbeClassName, Namespace: bad}))
		if connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("ControlService.Spawn in a namespace with %s: %v, want invalid_argument", what, err)
		}
		_, err = control.Lookup(ctx, connect.NewRequest(&actorv1.LookupRequest{Class: testv1actor.ProbeClassName, Name: bad}))
		if connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("ControlService.Lookup of a name with %s: %v, want invalid_argument", what, err)
		}
		_, err = control.Kill(ctx, connect.NewRequest(&actorv1.KillRequest{Name: "p", Namespace: bad}))
		if connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("ControlService.Kill in a namespace with %s: %v, want invalid_argument", what, err)
		}
	}
	for what, o := range map[string]*actorv1.SpawnOptions{
		"scheduling 99": {Scheduling: 99},
		"lifetime 99":   {Lifetime: 99},
	} {
		_, err := control.Spawn(ctx, connect.NewRequest(&actorv1.SpawnRequest{Class: testv1actor.ProbeClassName, Options: o}))
		if connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("ControlService.Spawn with %s: %v, want invalid_argument", what, err)
		}
	}
}
