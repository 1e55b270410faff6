package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// serverEnv, when set in the environment, turns the test binary into one
// of the baseline servers (serverEcho or serverConnect) instead of running
// tests. The benchmarks start the binary again with it set, so that the
// network baselines cross a process boundary as calls between nodes do.
const serverEnv = "TROUPE_BENCH_SERVER"

// The servers the test binary can become.
const (
	serverEcho    = "echo"    // varint-delimited AddRequest in, AddResponse out
	serverConnect = "connect" // a Connect unary Add handler over h2c
)

func TestMain(m *testing.M) {
	if kind := os.Getenv(serverEnv); kind != "" {
		os.Exit(serve(kind))
	}
	os.Exit(m.Run())
}

// serverProc is a baseline server running in a second process.
type serverProc struct {
	addr   string
	cmd    *exec.Cmd
	stdin  io.Closer
	exited chan struct{} // closed once the process has been waited for
}

// startServer runs the test binary again as a server of the given kind and
// returns once it listens. The server is stopped when tb ends; it also
// exits by itself when its stdin closes, so a parent that dies, even
// killed, leaves no server behind.
func startServer(tb testing.TB, kind string) *serverProc {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatalf("finding the test binary: %v", err)
	}
	cmd := exec.Command(exe, "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), serverEnv+"="+kind)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting the %s server: %v", kind, err)
	}
	p := &serverProc{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	tb.Cleanup(p.stop)

	// The server prints the address it listens on as its first line.
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case p.addr = <-line:
	case <-timer.C:
	}
	// Wait only once stdout has been read: Wait closes the pipe.
	go func() {
		_ = cmd.Wait() // its error is the kill that stop sends
		close(p.exited)
	}()
	if p.addr == "" {
		p.stop()
		tb.Fatalf("the %s server (pid %d) did not report its address", kind, cmd.Process.Pid)
	}
	return p
}

// stop kills the server by its pid and waits for it to exit. It may be
// called more than once.
func (p *serverProc) stop() {
	_ = p.stdin.Close()
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		fmt.Fprintf(os.Stderr, "killing server pid %d: %v\n", p.cmd.Process.Pid, err)
	}
	<-p.exited
}
