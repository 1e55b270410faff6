package bench

import (
	"net"
	"testing"
	"time"

	"connectrpc.com/connect"

	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
)

func TestBaselineServerEcho(t *testing.T) {
	e, err := dialEcho()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.close() })
	srv := e.srv
	for i := range 10 {
		if err := e.roundTrip(&testv1.AddRequest{By: int64(i + 1)}); err != nil {
			t.Fatalf("round trip %d: %v", i, err)
		}
	}
	if e.sum != 55 {
		t.Fatalf("after 10 round trips the server's sum is %d, want 55", e.sum)
	}
	if err := e.pipeline(&testv1.AddRequest{By: 2}, 1000); err != nil {
		t.Fatalf("pipelined batch: %v", err)
	}
	if e.sum != 2055 {
		t.Fatalf("after a batch of 1000 the server's sum is %d, want 2055", e.sum)
	}
	srv.stop()
	if srv.cmd.ProcessState == nil {
		t.Fatalf("server pid %d not waited for after stop", srv.cmd.Process.Pid)
	}
	if conn, err := net.Dial("tcp", srv.addr); err == nil {
		conn.Close()
		t.Fatalf("the echo server still accepts connections on %s after stop", srv.addr)
	}
}

func TestBaselineServerExitsWithStdin(t *testing.T) {
	srv, err := startServer(serverEcho)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)
	if err := srv.stdin.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("server pid %d still running 30s after its stdin closed", srv.cmd.Process.Pid)
	}
	if !srv.cmd.ProcessState.Success() {
		t.Fatalf("server exited with %v, want success", srv.cmd.ProcessState)
	}
}

func TestBaselineServerConnect(t *testing.T) {
	client, err := dialConnect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.close() })
	ctx := t.Context()
	var want int64
	for i := range 10 {
		want += int64(i + 1)
		resp, err := client.CallUnary(ctx, connect.NewRequest(&testv1.AddRequest{By: int64(i + 1)}))
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if got := resp.Msg.GetValue(); got != want {
			t.Fatalf("call %d answered %d, want %d", i, got, want)
		}
	}
}
