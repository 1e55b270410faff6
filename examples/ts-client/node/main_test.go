package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeCommand is one buf curl command of the README and the output it
// shows, if any.
type readmeCommand struct {
	line int
	cmd  string
	want string // JSON, or "" when the README shows none
}

// readmeCommands returns the buf curl commands of the README's section on
// calling actors from other languages.
func readmeCommands(t *testing.T) []readmeCommand {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Calling actors from other languages\n")
	if !ok {
		t.Fatal("README has no section \"Calling actors from other languages\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var out []readmeCommand
	sc := bufio.NewScanner(strings.NewReader(section))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "buf curl "):
			c := readmeCommand{line: n}
			for strings.HasSuffix(line, `\`) && sc.Scan() {
				c.cmd += strings.TrimSuffix(line, `\`)
				line = sc.Text()
				n++
			}
			c.cmd += line
			out = append(out, c)
		case strings.HasPrefix(line, "# {") && len(out) > 0:
			out[len(out)-1].want = strings.TrimPrefix(line, "# ")
		}
	}
	return out
}

// TestReadmeBufCurl runs the README's buf curl commands against a live
// node and checks the outputs the README shows.
func TestReadmeBufCurl(t *testing.T) {
	if testing.Short() {
		t.Skip("builds buf")
	}
	cmds := readmeCommands(t)
	protocols := map[string]bool{}
	for _, c := range cmds {
		if m := regexp.MustCompile(`--protocol (\w+)`).FindStringSubmatch(c.cmd); m != nil {
			protocols[m[1]] = true
		}
	}
	if len(cmds) < 4 || !protocols["connect"] || !protocols["grpc"] || !protocols["grpcweb"] {
		t.Fatalf("the README should show buf curl in the connect, grpc and grpcweb protocols; found %+v", cmds)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tool := exec.CommandContext(ctx, "go", "tool", "-n", "-modfile=tools/go.mod", "buf")
	tool.Dir = filepath.Join("..", "..", "..")
	bufPath, err := tool.Output()
	if err != nil {
		t.Fatalf("go tool -n buf: %v", err)
	}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	nodeCtx, stop := context.WithCancel(ctx)
	go func() { served <- serve(nodeCtx, lis, io.Discard) }()
	defer func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	env := append(os.Environ(), "PATH="+filepath.Dir(strings.TrimSpace(string(bufPath)))+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, c := range cmds {
		cmdline := strings.ReplaceAll(c.cmd, "127.0.0.1:8080", lis.Addr().String())
		cmd := exec.CommandContext(ctx, "sh", "-c", cmdline)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("README line %d: %s: %v\nstdout: %s\nstderr: %s", c.line, cmdline, err, &stdout, &stderr)
		}
		if c.want == "" {
			continue
		}
		var got, want any
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("README line %d: output %q is not JSON: %v", c.line, &stdout, err)
		}
		if err := json.Unmarshal([]byte(c.want), &want); err != nil {
			t.Fatalf("README line %d: shown output %q is not JSON: %v", c.line, c.want, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("README line %d: %s\nprints %s, the README shows %s", c.line, cmdline, &stdout, c.want)
		}
	}
}
