package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	pipelinev1 "github.com/troupehq/troupe/examples/cluster/gen/pipeline/v1"
	"github.com/troupehq/troupe/examples/cluster/gen/pipeline/v1/pipelinev1actor"
	"github.com/troupehq/troupe/runtime/actor"
)

// testCluster is a head and a worker node, child processes running the
// cluster example's binary as nodes, with a driver's actors on them.
type testCluster struct {
	addr, stateDir, token string
	job                   string
	gen, writer, proc     string // ids of alive actors: a Generator, a Writer named "sink", a Processor named "proc"
	pending               string // id of a Processor no node can host
}

// startCluster builds the node binary, starts a head (node-a, with
// generator_node) and a node (node-b, with writer_node), and spawns the
// actors through a driver in namespace "ops".
func startCluster(t *testing.T) *testCluster {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "node")
	build := exec.Command("go", "build", "-o", bin, "github.com/troupehq/troupe/examples/cluster")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the node binary: %v\n%s", err, out)
	}
	c := &testCluster{stateDir: filepath.Join(dir, "head")}
	c.addr = startNode(t, bin, nil, "start", "--head", "--state-dir", c.stateDir, "--node-id", "node-a",
		"--num-cpus", "2", "--resources", `{"generator_node": 1}`)
	b, err := os.ReadFile(filepath.Join(c.stateDir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	c.token = strings.TrimSpace(string(b))
	startNode(t, bin, []string{actor.TokenEnv + "=" + c.token}, "start", "--address", c.addr, "--node-id", "node-b",
		"--num-cpus", "2", "--resources", `{"writer_node": 1}`)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sys, err := actor.Connect(ctx, c.addr, actor.WithNamespace("ops"), actor.WithToken(c.token),
		actor.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sys.Shutdown(ctx)
	})
	c.job = sys.Job()
	gen, err := pipelinev1actor.GeneratorOptions().Resources(map[string]float64{"generator_node": 1}).
		Spawn(ctx, sys, &pipelinev1.GeneratorInit{})
	if err != nil {
		t.Fatal(err)
	}
	wr, err := pipelinev1actor.WriterOptions().Name("sink").NumCPUs(1).Resources(map[string]float64{"writer_node": 1}).
		Spawn(ctx, sys, &pipelinev1.WriterInit{})
	if err != nil {
		t.Fatal(err)
	}
	proc, err := pipelinev1actor.ProcessorOptions().Name("proc").MaxRestarts(3).Spawn(ctx, sys, &pipelinev1.ProcessorInit{Factor: 2})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := pipelinev1actor.ProcessorOptions().Resources(map[string]float64{"gpu_node": 1}).
		Spawn(ctx, sys, &pipelinev1.ProcessorInit{})
	if err != nil {
		t.Fatal(err)
	}
	// Once each has answered, the three are ALIVE.
	if r, err := wr.Node(ctx, &pipelinev1.WriterNodeRequest{}).Get(ctx); err != nil || r.GetNodeId() != "node-b" {
		t.Fatalf("writer on %q, %v; want node-b", r.GetNodeId(), err)
	}
	if _, err := gen.Node(ctx, &pipelinev1.NodeRequest{}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := proc.Node(ctx, &pipelinev1.ProcessorNodeRequest{}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	c.gen, c.writer, c.proc, c.pending = gen.Ref().ID(), wr.Ref().ID(), proc.Ref().ID(), pending.Ref().ID()
	return c
}

var listening = regexp.MustCompile(`^troupe node listening address=(\S+)`)

// startNode runs bin with args and returns the address it listens at. The
// process ends when the test does: its stdin closes, which the example's
// nodes take as the signal to shut down, and if it is still there after a
// while it is killed by its pid.
func startNode(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "TROUPE_CLUSTER_EXAMPLE_CHILD=1"), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(t.TempDir(), "node.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("stderr of %v:\n%s", args, b)
		}
	})
	select {
	case a := <-addr:
		return a
	case <-done:
		t.Fatalf("%v exited before it listened", args)
	case <-time.After(30 * time.Second):
		t.Fatalf("%v did not listen", args)
	}
	return ""
}

// ok runs a troupe command against the cluster and fails the test unless
// it exits 0.
func (c *testCluster) ok(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := troupe(t, append(args, "--address", c.addr, "--token", c.token)...)
	if code != 0 {
		t.Fatalf("troupe %q: exit %d, stderr %q", args, code, errOut)
	}
	return out
}

// rowOf returns the table row of out that starts with first.
func rowOf(out, first string) []string {
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 0 && f[0] == first {
			return f
		}
	}
	return nil
}

func TestClusterCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := startCluster(t)

	t.Run("list actors", func(t *testing.T) {
		out := c.ok(t, "list", "actors")
		header := strings.Fields(strings.SplitN(out, "\n", 2)[0])
		if want := []string{"ACTOR_ID", "CLASS", "STATE", "JOB", "NAME", "NODE", "PID", "NAMESPACE"}; !slices.Equal(header, want) {
			t.Errorf("header %q, want %q", header, want)
		}
		for id, want := range map[string][]string{
			c.gen:     {c.gen, "pipeline.v1.Generator", "ALIVE", c.job, "-", "node-a"},
			c.writer:  {c.writer, "pipeline.v1.Writer", "ALIVE", c.job, "sink", "node-b"},
			c.proc:    {c.proc, "pipeline.v1.Processor", "ALIVE", c.job, "proc"},
			c.pending: {c.pending, "pipeline.v1.Processor", "PENDING_CREATION", c.job, "-", "-", "-", "ops"},
		} {
			if row := rowOf(out, id); len(row) != 8 || !slices.Equal(row[:len(want)], want) || row[7] != "ops" {
				t.Errorf("row of %s = %q, want it to start with %q and end with ops\n%s", id, row, want, out)
			}
		}
	})

	t.Run("list actors json", func(t *testing.T) {
		out := c.ok(t, "list", "actors", "--format", "json")
		var rows []map[string]any
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("not a JSON array: %v\n%s", err, out)
		}
		got := map[string]map[string]any{}
		for _, r := range rows {
			got[r["actor_id"].(string)] = r
		}
		for _, id := range []string{c.gen, c.writer, c.proc, c.pending} {
			if got[id] == nil {
				t.Errorf("JSON lacks actor %s:\n%s", id, out)
			}
		}
		w := got[c.writer]
		if w["class"] != "pipeline.v1.Writer" || w["state"] != "ALIVE" || w["name"] != "sink" || w["node_id"] != "node-b" ||
			w["namespace"] != "ops" || w["job_id"] != c.job || w["pid"].(float64) <= 0 || w["detached"] != false {
			t.Errorf("writer row %v", w)
		}
		if r, _ := w["resources"].(map[string]any); r["writer_node"] != 1.0 || r["CPU"] != 1.0 {
			t.Errorf("writer resources %v, want writer_node 1 and CPU 1", w["resources"])
		}
		if reason, _ := got[c.pending]["pending_reason"].(string); !strings.Contains(reason, "gpu_node") {
			t.Errorf("pending reason %q does not name gpu_node", reason)
		}
	})

	t.Run("filters", func(t *testing.T) {
		out := c.ok(t, "list", "actors", "--filter", "class=pipeline.v1.Processor")
		if rowOf(out, c.proc) == nil || rowOf(out, c.pending) == nil || rowOf(out, c.writer) != nil || rowOf(out, c.gen) != nil {
			t.Errorf("class=pipeline.v1.Processor:\n%s", out)
		}
		out = c.ok(t, "list", "actors", "--filter", "state=alive", "--filter", "namespace=ops")
		if rowOf(out, c.gen) == nil || rowOf(out, c.writer) == nil || rowOf(out, c.pending) != nil {
			t.Errorf("state=alive:\n%s", out)
		}
		out = c.ok(t, "list", "actors", "--filter", "node=node-b")
		if n := strings.Count(out, "\n"); n != 2 || rowOf(out, c.writer) == nil {
			t.Errorf("node=node-b: want the header and the writer:\n%s", out)
		}
	})

	t.Run("list actors detail", func(t *testing.T) {
		out := c.ok(t, "list", "actors", "--detail")
		for _, col := range []string{"RESOURCES", "RESTARTS", "DEATH_CAUSE", "DETACHED", "PENDING_REASON"} {
			if !strings.Contains(strings.SplitN(out, "\n", 2)[0], col) {
				t.Errorf("detail header lacks %s:\n%s", col, out)
			}
		}
		if row := rowOf(out, c.writer); !strings.Contains(strings.Join(row, " "), "CPU 1, writer_node 1") {
			t.Errorf("writer's detail row %q lacks its resources", row)
		}
		if !strings.Contains(out, "gpu_node") {
			t.Errorf("detail lacks the pending reason:\n%s", out)
		}
	})

	t.Run("list nodes and jobs", func(t *testing.T) {
		out := c.ok(t, "list", "nodes")
		a, b := rowOf(out, "node-a"), rowOf(out, "node-b")
		if len(a) < 5 || a[1] != c.addr || a[2] != "ALIVE" || a[3] != "true" || len(b) < 5 || b[2] != "ALIVE" || b[3] != "false" {
			t.Errorf("nodes:\n%s", out)
		}
		if !strings.Contains(strings.Join(b, " "), "writer_node 1/1") || !strings.Contains(strings.Join(b, " "), "CPU 1/2") {
			t.Errorf("node-b holds CPU 1 of 2 and writer_node 1 of 1:\n%s", out)
		}
		var nodes []struct {
			NodeID    string `json:"node_id"`
			Head      bool   `json:"head"`
			Resources map[string]struct{ Used, Total float64 }
		}
		if err := json.Unmarshal([]byte(c.ok(t, "list", "nodes", "--format", "json")), &nodes); err != nil || len(nodes) != 2 {
			t.Fatalf("nodes JSON: %v, %d nodes", err, len(nodes))
		}
		if g := nodes[0].Resources["generator_node"]; nodes[0].NodeID != "node-a" || !nodes[0].Head || g.Used != 1 || g.Total != 1 {
			t.Errorf("node-a in JSON: %+v", nodes[0])
		}
		out = c.ok(t, "list", "nodes", "--filter", "head=false")
		if rowOf(out, "node-a") != nil || rowOf(out, "node-b") == nil {
			t.Errorf("head=false:\n%s", out)
		}
		out = c.ok(t, "list", "jobs")
		if row := rowOf(out, c.job); len(row) != 4 || row[1] != "ops" || row[2] != "RUNNING" || row[3] != fmt.Sprint(os.Getpid()) {
			t.Errorf("jobs: row %q\n%s", row, out)
		}
	})

	t.Run("get actor", func(t *testing.T) {
		out := c.ok(t, "get", "actor", "sink", "--namespace", "ops")
		for _, want := range [][]string{{"ACTOR_ID", c.writer}, {"CLASS", "pipeline.v1.Writer"}, {"NAME", "sink"}, {"NODE", "node-b"}, {"DETACHED", "false"}} {
			if row := rowOf(out, want[0]); !slices.Equal(row, want) {
				t.Errorf("get actor sink: %s row %q, want %q\n%s", want[0], row, want, out)
			}
		}
		var r actorRow
		if err := json.Unmarshal([]byte(c.ok(t, "get", "actor", c.gen, "--format", "json")), &r); err != nil || r.ActorID != c.gen || r.NodeID != "node-a" {
			t.Errorf("get actor %s --format json: %+v, %v", c.gen, r, err)
		}
		code, _, errOut := troupe(t, "get", "actor", "sink", "--address", c.addr, "--token", c.token) // namespace default
		if code != 1 || !strings.Contains(errOut, `no actor with id or name "sink" in namespace "default"`) {
			t.Errorf("get actor sink in default: exit %d, %q", code, errOut)
		}
	})

	t.Run("summary", func(t *testing.T) {
		out := c.ok(t, "summary", "actors")
		if row := rowOf(out, "pipeline.v1.Processor"); !slices.Equal(row, []string{"pipeline.v1.Processor", "2", "1", "1", "0", "0"}) {
			t.Errorf("Processor summary %q\n%s", row, out)
		}
		if row := rowOf(out, "pipeline.v1.Writer"); !slices.Equal(row, []string{"pipeline.v1.Writer", "1", "0", "1", "0", "0"}) {
			t.Errorf("Writer summary %q\n%s", row, out)
		}
	})

	t.Run("status", func(t *testing.T) {
		out := c.ok(t, "status")
		if !strings.Contains(out, "Nodes: 2 alive, 2 in all") || !strings.Contains(out, "Pending actors: 1") {
			t.Errorf("status:\n%s", out)
		}
		if b := strings.Join(rowOf(out, "node-b"), " "); !strings.Contains(b, "writer_node 1/1") {
			t.Errorf("status: node-b %q lacks writer_node 1/1\n%s", b, out)
		}
		if p := strings.Join(rowOf(out, c.pending), " "); !strings.Contains(p, "pipeline.v1.Processor") || !strings.Contains(p, "gpu_node") {
			t.Errorf("status: pending row %q lacks the class or the reason\n%s", p, out)
		}
	})

	t.Run("kill", func(t *testing.T) {
		out := c.ok(t, "kill", "proc", "--namespace", "ops", "--no-restart")
		if want := fmt.Sprintf("killed for good actor %s (pipeline.v1.Processor \"proc\")\n", c.proc); out != want {
			t.Errorf("kill: %q, want %q", out, want)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			out = c.ok(t, "list", "actors", "--filter", "state=DEAD", "--detail")
			if rowOf(out, c.proc) != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("proc is not DEAD:\n%s", out)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.Contains(out, "killed") || rowOf(out, c.writer) != nil {
			t.Errorf("DEAD actors:\n%s", out)
		}
		code, _, errOut := troupe(t, "kill", "nobody", "--address", c.addr, "--token", c.token)
		if code != 1 || !strings.Contains(errOut, `no actor with id or name "nobody"`) {
			t.Errorf("kill nobody: exit %d, %q", code, errOut)
		}
	})

	t.Run("wrong token", func(t *testing.T) {
		for _, args := range [][]string{
			{"list", "actors", "--address", c.addr, "--token", "wrong"},
			{"status", "--address", c.addr, "--token", "wrong"},
			{"kill", "sink", "--address", c.addr, "--token", "wrong"},
		} {
			code, out, errOut := troupe(t, args...)
			if code != 1 || out != "" || !strings.Contains(errOut, "the cluster token is wrong or missing") {
				t.Errorf("troupe %q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
			}
		}
		code, _, errOut := troupe(t, "list", "nodes", "--address", c.addr, "--state-dir", c.stateDir)
		if code != 0 {
			t.Errorf("with --state-dir: exit %d, %q", code, errOut)
		}
	})

	// --token-file keeps the token out of ps; a file others may read
	// works, with a warning.
	t.Run("token file", func(t *testing.T) {
		private := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(private, []byte(c.token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := troupe(t, "list", "nodes", "--address", c.addr, "--token-file", private)
		if code != 0 || errOut != "" {
			t.Errorf("with --token-file: exit %d, stderr %q", code, errOut)
		}
		shared := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(shared, []byte(c.token), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(shared, 0o644); err != nil { // whatever the umask
			t.Fatal(err)
		}
		code, _, errOut = troupe(t, "list", "nodes", "--address", c.addr, "--token-file", shared)
		if code != 0 || !strings.Contains(errOut, "readable by group or others") {
			t.Errorf("with a token file of mode 0644: exit %d, stderr %q; want a warning", code, errOut)
		}
	})
}

func TestClusterUsageErrors(t *testing.T) {
	t.Setenv(addressEnv, "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "actors"}, "no head address"},
		{[]string{"list", "--address", "127.0.0.1:1"}, "want one of actors, nodes or jobs"},
		{[]string{"list", "pods", "--address", "127.0.0.1:1"}, `list "pods"`},
		{[]string{"list", "actors", "--address", "127.0.0.1:1", "--format", "yaml"}, "want table or json"},
		{[]string{"list", "actors", "--address", "127.0.0.1:1", "--filter", "colour=red"}, "unknown key"},
		{[]string{"list", "actors", "--address", "127.0.0.1:1", "--filter", "class"}, "not k=v"},
		{[]string{"get", "nodes", "x", "--address", "127.0.0.1:1"}, "want actor ID|NAME"},
		{[]string{"summary", "--address", "127.0.0.1:1"}, "want actors"},
		{[]string{"status", "extra", "--address", "127.0.0.1:1"}, "unexpected arguments"},
		{[]string{"kill", "--address", "127.0.0.1:1"}, "want one actor ID or NAME"},
	} {
		code, _, errOut := troupe(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("troupe %q: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
