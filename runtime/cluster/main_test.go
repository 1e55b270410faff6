package cluster_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	counterv1 "github.com/troupehq/troupe/examples/counter/gen/counter/v1"
	"github.com/troupehq/troupe/examples/counter/gen/counter/v1/counterv1actor"
	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/cluster"
)

// nodeEnv, when set, makes the test binary a node: its value is RunNode's
// arguments, separated by argSep. The process ends when its stdin closes,
// so it never outlives the test that started it.
const (
	nodeEnv = "TROUPE_CLUSTER_TEST_NODE"
	argSep  = "\x1f"
)

func TestMain(m *testing.M) {
	if args := os.Getenv(nodeEnv); args != "" {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			cancel()
		}()
		if err := cluster.RunNode(ctx, strings.Split(args, argSep), counterClass(), actor.WithLogger(quiet)); err != nil {
			fmt.Fprintln(os.Stderr, "test node:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// quiet logs warnings and errors only; silent logs nothing.
var (
	quiet  = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	silent = actor.WithLogger(slog.New(slog.DiscardHandler))
)

// counter implements the generated counterv1actor.CounterActor.
type counter struct{ n int64 }

func newCounter(_ context.Context, init *counterv1.CounterInit) (counterv1actor.CounterActor, error) {
	return &counter{n: init.GetStart()}, nil
}

func (c *counter) Increment(_ context.Context, r *counterv1.IncrementRequest) (*counterv1.IncrementResponse, error) {
	c.n += r.GetBy()
	return &counterv1.IncrementResponse{Value: c.n}, nil
}

func (c *counter) Get(context.Context, *counterv1.GetRequest) (*counterv1.GetResponse, error) {
	return &counterv1.GetResponse{Value: c.n}, nil
}

func counterClass() actor.Option {
	return actor.WithClasses(counterv1actor.RegisterCounter(newCounter))
}

// process is a node run by this test binary in a process of its own.
type process struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Scanner
	stderr strings.Builder
	exited chan struct{}
}

var listening = regexp.MustCompile(`^troupe node listening address=(\S+) node_id=(\S+) head=(true|false)`)

// startProcess runs this binary as a node with args and env. The test's
// cleanup stops it by its PID if it still runs.
func startProcess(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: exec.Command(exe), exited: make(chan struct{})}
	p.cmd.Env = append(append(os.Environ(), nodeEnv+"="+strings.Join(args, argSep)), env...)
	p.cmd.Stderr = &p.stderr
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdout = bufio.NewScanner(out)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.stdin.Close()
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
		}
	})
	return p
}

// listen waits for the node's listening line and returns its address.
func (p *process) listen(t *testing.T) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		defer close(found)
		for p.stdout.Scan() {
			if m := listening.FindStringSubmatch(p.stdout.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		for p.stdout.Scan() {
		}
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	select {
	case addr, ok := <-found:
		if !ok {
			t.Fatalf("the node exited before listening: %s", p.stderr.String())
		}
		return addr
	case <-time.After(30 * time.Second):
		t.Fatal("the node did not listen within 30s")
	}
	return ""
}
