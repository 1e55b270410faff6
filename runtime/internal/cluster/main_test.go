package cluster_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// nodeBin is the test node binary, built once by TestMain.
var nodeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "troupe-cluster-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	nodeBin = filepath.Join(dir, "testnode")
	build := exec.Command("go", "build", "-o", nodeBin, "./testnode")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the test node:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a child process: a head, a node or a driver.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	line  string // its first line matching the wanted pattern
	log   string // where its stderr goes
	done  chan struct{}
}

// kill ends the process at once (SIGKILL) and waits for it.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

var listening = regexp.MustCompile(`^troupe node listening address=(\S+) node_id=(\S+)`)

// start runs the test node binary with args and waits for its stdout line
// matching want. The process is killed when the test ends, and dies by
// itself if the test process does (its stdin closes).
func start(t *testing.T, env []string, want *regexp.Regexp, args ...string) (*proc, []string) {
	t.Helper()
	p, stdout := launch(t, env, true, args...)
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("stderr of %v:\n%s", args, b)
		}
	})
	lines := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := want.FindStringSubmatch(sc.Text()); m != nil {
				lines <- m
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case m := <-lines:
		p.line = m[0]
		return p, m
	case <-p.done:
		b, _ := os.ReadFile(p.log)
		t.Fatalf("%v exited before it was ready:\n%s", args, b)
	case <-time.After(30 * time.Second):
		t.Fatalf("%v did not get ready", args)
	}
	return nil, nil
}

// launch starts the test node binary with args and env, its stderr in a
// log file, and with wantStdout a pipe of its stdout. The caller arranges
// for it to be killed.
func launch(t *testing.T, env []string, wantStdout bool, args ...string) (*proc, io.Reader) {
	t.Helper()
	cmd := exec.Command(nodeBin, args...)
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout io.Reader
	if wantStdout {
		if stdout, err = cmd.StdoutPipe(); err != nil {
			t.Fatal(err)
		}
	}
	logFile, err := os.CreateTemp(t.TempDir(), "proc-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdin: stdin, log: logFile.Name(), done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	return p, stdout
}

// testCluster is a head and its nodes.
type testCluster struct {
	t        *testing.T
	stateDir string
	headAddr string
	headID   string
	head     *proc
	token    string
	nodes    map[string]*proc // by node id
	addrs    map[string]string
}

// Short heartbeats so failures are noticed within about a second.
var heartbeats = []string{"--heartbeat-interval", "100ms", "--heartbeat-timeout", "1s"}

// newCluster starts a head with headArgs, which hosts the Probe too.
func newCluster(t *testing.T, headArgs ...string) *testCluster {
	t.Helper()
	c := &testCluster{t: t, stateDir: t.TempDir(), nodes: map[string]*proc{}, addrs: map[string]string{}}
	c.startHead("0", headArgs...)
	return c
}

func (c *testCluster) startHead(port string, headArgs ...string) {
	c.t.Helper()
	args := append([]string{"start", "--head", "--port", port, "--state-dir", c.stateDir}, heartbeats...)
	p, m := start(c.t, nil, listening, append(args, headArgs...)...)
	c.head, c.headAddr, c.headID = p, m[1], m[2]
	b, err := os.ReadFile(filepath.Join(c.stateDir, "token"))
	if err != nil {
		c.t.Fatal(err)
	}
	c.token = strings.TrimSpace(string(b))
}

// addNode starts a node joining the head and returns its id.
func (c *testCluster) addNode(args ...string) string {
	c.t.Helper()
	p, m := start(c.t, []string{"TROUPE_TOKEN=" + c.token}, listening,
		append([]string{"start", "--address", c.headAddr}, args...)...)
	c.nodes[m[2]] = p
	c.addrs[m[2]] = m[1]
	return m[2]
}

func (c *testCluster) nodeAddr(id string) string { return c.addrs[id] }

// connect joins the cluster as a driver in namespace ns.
func (c *testCluster) connect(ns string) *actor.System {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sys, err := actor.Connect(ctx, c.headAddr, actor.WithNamespace(ns), actor.WithToken(c.token),
		actor.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		c.t.Fatalf("Connect: %v", err)
	}
	c.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sys.Shutdown(ctx)
	})
	return sys
}

// eventually polls cond until it holds, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func nodeOf(t *testing.T, h *testv1actor.ProbeHandle) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := h.Do(ctx, &testv1.DoRequest{Key: "node"}).Get(ctx)
	if err != nil {
		t.Fatalf("Do(node): %v", err)
	}
	return res.GetText()
}

func spawn(t *testing.T, sys *actor.System, s *actor.Spawner[*testv1.ProbeInit, *testv1actor.ProbeHandle]) *testv1actor.ProbeHandle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := s.Spawn(ctx, sys, &testv1.ProbeInit{})
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	return h
}

func info(t *testing.T, sys *actor.System, id string) actor.ActorInfo {
	t.Helper()
	list, err := sys.ListActors(context.Background(), actor.Filter("id", id))
	if err != nil || len(list) != 1 {
		t.Fatalf("ListActors(id=%s) = %v, %v", id, list, err)
	}
	return list[0]
}

var _ sync.Mutex

var driverLine = regexp.MustCompile(`^driver owned=(\S+) detached=(\S+)`)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func splitHostPort(addr string) (string, string, error) { return net.SplitHostPort(addr) }
