package cluster_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	counterv1 "github.com/troupehq/troupe/examples/counter/gen/counter/v1"
	"github.com/troupehq/troupe/examples/counter/gen/counter/v1/counterv1actor"
	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/cluster"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// startHead starts a head in this process on a free port (--port 0),
// hosting the counter and the classes in opts, and returns it with its
// cluster token. The test's cleanup shuts it down.
func startHead(t *testing.T, opts ...actor.Option) (*cluster.Node, string) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"start", "--head", "--port", "0", "--state-dir", dir, "--num-cpus", "4"}
	n, err := cluster.StartNode(context.Background(), args, append(opts, counterClass(), silent)...)
	if err != nil {
		t.Fatalf("StartNode(%q): %v", args, err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	return n, readToken(t, dir)
}

func readToken(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// connect joins the cluster at addr as a driver.
func connect(t *testing.T, addr, token string) *actor.System {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sys, err := actor.Connect(ctx, addr, actor.WithToken(token), silent)
	if err != nil {
		t.Fatalf("Connect(%s): %v", addr, err)
	}
	t.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
	return sys
}

// eventually waits up to 10 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// portFree reports whether addr can be listened on again.
func portFree(addr string) bool {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// freePort returns a port of 127.0.0.1 free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// A head started with --port 0 says where it listens; a driver reaches an
// actor there, and the node's System reaches the same cluster.
func TestStartNodeOnPortZero(t *testing.T) {
	ctx := context.Background()
	n, token := startHead(t)
	host, port, err := net.SplitHostPort(n.Addr())
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("Addr() = %q, want 127.0.0.1 and the port picked", n.Addr())
	}
	if n.System() == nil || n.NodeID() == "" || n.NodeID() != n.System().NodeID() {
		t.Fatalf("NodeID() = %q, System().NodeID() = %q", n.NodeID(), n.System().NodeID())
	}
	select {
	case <-n.Done():
		t.Fatal("Done is closed while the node runs")
	default:
	}

	driver := connect(t, n.Addr(), token)
	c, err := counterv1actor.CounterOptions().Name("hits").Spawn(ctx, driver, &counterv1.CounterInit{Start: 40})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.Increment(ctx, &counterv1.IncrementRequest{By: 2}).Get(ctx); err != nil || res.GetValue() != 42 {
		t.Fatalf("Increment through the driver = %v, %v; want 42", res, err)
	}
	same, err := counterv1actor.GetCounter(ctx, n.System(), "hits")
	if err != nil {
		t.Fatalf("GetCounter through the node's System: %v", err)
	}
	if res, err := same.Get(ctx, &counterv1.GetRequest{}).Get(ctx); err != nil || res.GetValue() != 42 {
		t.Fatalf("Get through the node's System = %v, %v; want 42", res, err)
	}
	nodes, err := driver.ListNodes(ctx)
	if err != nil || len(nodes) != 1 || nodes[0].ID != n.NodeID() || nodes[0].Address != n.Addr() || !nodes[0].Head {
		t.Fatalf("ListNodes = %+v, %v; want the head %s at %s", nodes, err, n.NodeID(), n.Addr())
	}

	if err := n.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case <-n.Done():
	default:
		t.Fatal("Done is open after Shutdown")
	}
	if err := n.Err(); err != nil {
		t.Fatalf("Err() after Shutdown = %v, want nil", err)
	}
	if !portFree(n.Addr()) {
		t.Fatalf("%s still listened on after Shutdown", n.Addr())
	}
	if err := n.Shutdown(ctx); err != nil {
		t.Fatalf("a second Shutdown: %v", err)
	}
}

// holder is a Probe whose Do "hold" runs until the test releases it.
type holder struct {
	started chan struct{}
	release chan struct{}
}

// class registers h as every Probe.
func (h holder) class() actor.Option {
	return actor.WithClasses(testv1actor.RegisterProbe(func(context.Context, *testv1.ProbeInit) (testv1actor.ProbeActor, error) {
		return h, nil
	}))
}

func (h holder) Do(ctx context.Context, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	if r.GetKey() == "hold" {
		h.started <- struct{}{}
		select {
		case <-h.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return &testv1.DoResponse{Value: r.GetArg()}, nil
}

func (holder) Add(context.Context, *testv1.AddRequest) (*testv1.AddResponse, error) {
	return &testv1.AddResponse{}, nil
}
func (holder) Get(context.Context, *testv1.GetRequest) (*testv1.GetResponse, error) {
	return &testv1.GetResponse{}, nil
}
func (h holder) Read(ctx context.Context, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	return h.Do(ctx, r)
}
func (h holder) Io(ctx context.Context, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	return h.Do(ctx, r)
}
func (h holder) Retried(ctx context.Context, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	return h.Do(ctx, r)
}

// Shutdown drains: the node is marked draining at once, and a call
// running on it finishes with its answer before the node stops.
func TestShutdownDrains(t *testing.T) {
	ctx := context.Background()
	hold := holder{started: make(chan struct{}, 1), release: make(chan struct{})}
	n, token := startHead(t, hold.class())
	driver := connect(t, n.Addr(), token)
	p, err := testv1actor.ProbeOptions().Spawn(ctx, driver, &testv1.ProbeInit{})
	if err != nil {
		t.Fatal(err)
	}
	call := p.Do(ctx, &testv1.DoRequest{Key: "hold", Arg: 7})
	<-hold.started

	shut := make(chan error, 1)
	go func() { shut <- n.Shutdown(ctx) }()
	eventually(t, "the node to be draining", func() bool {
		nodes, err := driver.ListNodes(ctx)
		return err == nil && len(nodes) == 1 && nodes[0].State == "DRAINING"
	})
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) while a call ran", err)
	default:
	}
	close(hold.release)
	if res, err := call.Get(ctx); err != nil || res.GetValue() != 7 {
		t.Fatalf("the running call = %v, %v; want its answer 7", res, err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if !portFree(n.Addr()) {
		t.Fatalf("%s still listened on after Shutdown", n.Addr())
	}
}

// A node joining with a token the head rejects fails to start with
// ErrOutOfCluster and a message that says why, and leaves its port free.
func TestStartNodeWrongToken(t *testing.T) {
	dir := t.TempDir()
	head := startProcess(t, nil, "start", "--head", "--port", "0", "--state-dir", dir)
	headAddr := head.listen(t)
	if readToken(t, dir) == "" {
		t.Fatal("the head wrote no token")
	}
	port := freePort(t)
	wrong := strings.Repeat("f", 64)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := cluster.StartNode(ctx, []string{"start", "--address", headAddr, "--token", wrong, "--port", port}, counterClass(), silent)
	if n != nil || !errors.Is(err, cluster.ErrOutOfCluster) || !strings.Contains(err.Error(), "rejects this node's cluster token") {
		t.Fatalf("StartNode with a wrong token = %v, %v; want ErrOutOfCluster saying the head rejects the token", n, err)
	}
	if ctx.Err() != nil {
		t.Fatal("StartNode waited for its ctx to end instead of failing at once")
	}
	if !portFree(net.JoinHostPort("127.0.0.1", port)) {
		t.Fatalf("port %s is still listened on after the failed start", port)
	}
}

// A running node whose head lost its state (state directory wiped, head
// restarted with a new token) stops on its own: Done closes and Err says
// it is out of its cluster.
func TestNodeDoneWhenHeadLostState(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "head")
	port := freePort(t)
	headArgs := []string{"start", "--head", "--port", port, "--state-dir", dir, "--heartbeat-interval", "50ms"}
	head := startProcess(t, nil, headArgs...)
	headAddr := head.listen(t)
	tokenFile := filepath.Join(dir, "token")

	n, err := cluster.StartNode(context.Background(), []string{"start", "--address", headAddr, "--token-file", tokenFile}, counterClass(), silent)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(context.Background())

	_ = head.stdin.Close()
	<-head.exited
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	startProcess(t, nil, headArgs...).listen(t)

	select {
	case <-n.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the node still runs 20s after its head lost its state")
	}
	if err := n.Err(); !errors.Is(err, cluster.ErrOutOfCluster) {
		t.Fatalf("Err() = %v, want ErrOutOfCluster", err)
	}
	if err := n.Shutdown(context.Background()); !errors.Is(err, cluster.ErrOutOfCluster) {
		t.Fatalf("Shutdown after the node stopped = %v, want its ErrOutOfCluster", err)
	}
	if !portFree(n.Addr()) {
		t.Fatalf("%s still listened on after the node stopped", n.Addr())
	}
}

// Every way a start fails once the node listens leaves the port free:
// the clean-up is one, whatever failed.
func TestFailedStartLeavesPortFree(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	badToken := t.TempDir()
	if err := os.WriteFile(filepath.Join(badToken, "token"), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	head, token := startHead(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		opts []actor.Option
	}{
		{"state directory under a file", []string{"--head", "--state-dir", filepath.Join(notDir, "head")}, nil},
		{"short token in the state directory", []string{"--head", "--state-dir", badToken}, nil},
		{"the system refuses its options", []string{"--head", "--state-dir", t.TempDir()}, []actor.Option{actor.WithNamespace("bad\x00name")}},
		{"wrong token", []string{"--address", head.Addr(), "--token", strings.Repeat("0", 64)}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			port := freePort(t)
			args := append([]string{"start", "--port", port}, c.args...)
			n, err := cluster.StartNode(context.Background(), args, append(c.opts, silent)...)
			if err == nil {
				_ = n.Shutdown(context.Background())
				t.Fatalf("StartNode(%q) started, want an error", args)
			}
			if !portFree(net.JoinHostPort("127.0.0.1", port)) {
				t.Fatalf("StartNode(%q) = %v, and port %s is still listened on", args, err, port)
			}
		})
	}

	// A second node on a port the first holds fails to listen; the port is
	// free again once the first shuts down.
	t.Run("port taken", func(t *testing.T) {
		port := freePort(t)
		args := []string{"start", "--address", head.Addr(), "--token-file", tokenFile, "--port", port}
		first, err := cluster.StartNode(context.Background(), args, silent)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cluster.StartNode(context.Background(), args, silent); err == nil || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("a second node on port %s: %v, want address already in use", port, err)
		}
		if err := first.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !portFree(net.JoinHostPort("127.0.0.1", port)) {
			t.Fatalf("port %s is still listened on after the first node shut down", port)
		}
	})
}
