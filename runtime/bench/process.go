package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ServerEnv, when set in its environment, turns a program that calls
// ServeFromEnv first (the benchmark test binary, the troupe command) into
// one of the servers of the network workloads instead of what it
// normally does. The network baselines and the remote workloads start
// their own executable again with it set, so that their calls cross a
// process boundary as calls between nodes do.
const ServerEnv = "TROUPE_BENCH_SERVER"

// The servers a program can become.
const (
	serverEcho    = "echo"    // varint-delimited AddRequest in, AddResponse out
	serverConnect = "connect" // a Connect unary Add handler over h2c
	serverNode    = "node"    // a cluster head hosting Probe, run by cluster.RunNode
)

// stateDirEnv names the node server's state directory, where its head
// writes the cluster token.
const stateDirEnv = "TROUPE_BENCH_STATE_DIR"

// ServeFromEnv serves as the baseline server ServerEnv names, if it is
// set, and then returns the exit code for the process and true; if it is
// not set it returns at once with false. Call it first in main (or
// TestMain) of any program that runs the network baselines:
//
//	if code, ok := bench.ServeFromEnv(); ok {
//		os.Exit(code)
//	}
func ServeFromEnv() (code int, ok bool) {
	kind := os.Getenv(ServerEnv)
	if kind == "" {
		return 0, false
	}
	return serve(kind), true
}

// serverProc is a baseline server running in a second process.
type serverProc struct {
	addr   string
	cmd    *exec.Cmd
	stdin  io.Closer
	exited chan struct{} // closed once the process has been waited for
}

// startServer runs the current executable again as a server of the given
// kind, with env added to its environment, and returns once it listens. The caller stops it; it also exits by
// itself when its stdin closes, so a parent that dies, even killed,
// leaves no server behind.
func startServer(kind string, env ...string) (*serverProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the executable to serve the %s baseline: %w", kind, err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(append(os.Environ(), ServerEnv+"="+kind), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the %s server: %w", kind, err)
	}
	p := &serverProc{cmd: cmd, stdin: stdin, exited: make(chan struct{})}

	// The server prints the address it listens on as its first line,
	// alone or, from a node, as "troupe node listening address=HOST:PORT ...".
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		s, _ := r.ReadString('\n')
		line <- addressIn(strings.TrimSpace(s))
		_, _ = io.Copy(io.Discard, r)
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
		return nil, fmt.Errorf("the %s server (pid %d) did not report its address", kind, cmd.Process.Pid)
	}
	return p, nil
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

// addressIn returns the address a server's first line gives: the value of
// its address= field, or else the whole line.
func addressIn(line string) string {
	for f := range strings.FieldsSeq(line) {
		if addr, ok := strings.CutPrefix(f, "address="); ok {
			return addr
		}
	}
	return line
}
