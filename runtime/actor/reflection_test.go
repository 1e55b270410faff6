package actor_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/troupehq/troupe/runtime/actor"
)

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// A symbol's resolution costs the square of its length: the gateway
// refuses long ones, and huge requests, at once and with a clear code.
func TestGatewayReflectionRefusesHugeRequestsFast(t *testing.T) {
	sys := start(t, nil)
	url, hc := serveGateway(t, sys, actor.BearerToken("t"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Reflection sits behind the token like the actors.
	anon := grpcreflect.NewClient(hc, url, connect.WithGRPC()).NewStream(ctx)
	if _, err := anon.ListServices(); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("reflection without the token: %v, want unauthenticated", err)
	}
	_, _ = anon.Close()

	refl := grpcreflect.NewClient(hc, url, connect.WithGRPC(), connect.WithInterceptors(bearer("t")))
	for _, tc := range []struct {
		name   string
		symbol string
		want   connect.Code
	}{
		{"1MiB", strings.Repeat("a.", 1<<19), connect.CodeResourceExhausted},
		{"8KiB", strings.Repeat("a.", 4<<10), connect.CodeInvalidArgument},
	} {
		stream := refl.NewStream(ctx)
		before, began := cpuTime(t), time.Now()
		_, err := stream.FileContainingSymbol(protoreflect.FullName(tc.symbol))
		cpu, wall := cpuTime(t)-before, time.Since(began)
		_, _ = stream.Close()
		if got := connect.CodeOf(err); got != tc.want {
			t.Errorf("%s symbol: %v (code %v), want %v", tc.name, err, got, tc.want)
		}
		t.Logf("%s symbol refused in %v wall, %v CPU for the whole process", tc.name, wall, cpu)
		// The acceptance bound is 100 ms of CPU; the test allows slack
		// for the race detector and a loaded machine, far below the
		// seconds to minutes such a request cost before.
		if cpu > time.Second || wall > 5*time.Second {
			t.Errorf("%s symbol cost %v of CPU, %v of wall time", tc.name, cpu, wall)
		}
	}

	// The gateway still answers reasonable questions.
	stream := refl.NewStream(ctx)
	defer stream.Close()
	if file, err := stream.FileContainingSymbol("test.v1.ProbeInit"); err != nil || len(file) == 0 {
		t.Errorf("FileContainingSymbol(test.v1.ProbeInit) after the refusals = %v, %v", file, err)
	}
}
