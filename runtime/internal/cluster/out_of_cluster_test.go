package cluster_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// exited waits for p to exit by itself and returns its exit code and
// stderr.
func exited(t *testing.T, p *proc, within time.Duration) (int, string) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("the node did not exit within %v", within)
	}
	b, _ := os.ReadFile(p.log)
	return p.cmd.ProcessState.ExitCode(), string(b)
}

// run starts the test node binary with args and returns it without
// waiting for it to be ready; it is killed when the test ends.
func run(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p, _ := launch(t, env, false, args...)
	t.Cleanup(p.kill)
	return p
}

// A node whose token the head rejects does not retry for ever: it exits
// non-zero and says why.
func TestNodeWithWrongTokenExits(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	p := run(t, []string{"TROUPE_TOKEN=not-the-cluster-token-but-long-enough-to-be-tried"}, "start", "--address", c.headAddr)
	code, stderr := exited(t, p, 20*time.Second)
	if code == 0 || !strings.Contains(stderr, "rejects this node's cluster token") {
		t.Fatalf("exit code %d, stderr:\n%s\nwant non-zero and the token rejected", code, stderr)
	}
}

// A node whose head lost its state (its state directory wiped, the head
// restarted on the same address with the same token) is outside the new
// cluster: it exits non-zero and says why, instead of running on alone.
func TestOrphanedNodeExits(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	a := c.addNode("--labels", "role=worker")
	_, port, _ := splitHostPort(c.headAddr)
	c.head.kill()
	entries, err := os.ReadDir(c.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "token" {
			if err := os.RemoveAll(filepath.Join(c.stateDir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.startHead(port)
	code, stderr := exited(t, c.nodes[a], 20*time.Second)
	if code == 0 || !strings.Contains(stderr, "the head lost its state") {
		t.Fatalf("exit code %d, stderr:\n%s\nwant non-zero and the head's lost state", code, stderr)
	}
}
