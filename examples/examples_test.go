package examples_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"
)

// want holds, per example directory, either the exact output or lines the
// output must contain in this order. They prove each example's point: the
// eviction, the exhausted pool, the round-robin, the restarts.
var want = map[string]struct {
	exact string
	lines []string
	// args are the example's arguments; "{tmp}" becomes a directory of
	// the test's own.
	args []string
	// again, if set, are the lines a second run with the same args prints.
	again []string
}{
	"counter": {exact: "1\n2\n2\n"},
	"actorpool": {lines: []string{
		"pool of 4 workers, mapping 100 numbers",
		"worker-2 killed while it held a call; it had answered 5",
		"results: 100 numbers of 100 arrived exactly once, 100 results in all, 0 wrong squares",
		"the held call was resubmitted: answered by another worker: true",
		"pool after the map: 3 workers",
	}},
	"cache": {lines: []string{
		"keys, most recent first: [c b a]",
		"get a: hit, apple",
		"keys, most recent first: [a c b]",
		"put d=date: evicted b, the least recently used",
		"keys, most recent first: [d a c]",
		"get b: miss",
		"get a: hit, apple",
	}},
	"pool": {lines: []string{
		"acquired conn-0",
		"acquired conn-1",
		"status: 2 in use, 0 free",
		"acquire failed: resource_exhausted: all 2 connections are in use",
		"released conn-0",
		"status: 1 in use, 1 free",
		"acquired conn-0",
		`release failed: failed_precondition: "conn-7" is not lent out`,
	}},
	"coordinator": {lines: []string{
		"parse    -> worker-0 (PARSE)",
		"index    -> worker-1 (INDEX)",
		"rank     -> worker-2 (RANK)",
		"render   -> worker-0 (RENDER)",
		"compress -> worker-1 (COMPRESS)",
		"upload   -> worker-2 (UPLOAD)",
		"worker-0 ran 2 tasks",
		"worker-1 ran 2 tasks",
		"worker-2 ran 2 tasks",
		"  coordinator.v1.Coordinator DEAD (killed)",
		"  coordinator.v1.Worker DEAD (owner died)",
		"  coordinator.v1.Worker DEAD (owner died)",
		"  coordinator.v1.Worker DEAD (owner died)",
	}},
	"datastore": {lines: []string{
		`processor stored greeting = "HELLO, TROUPE!"`,
		`store has greeting = "HELLO, TROUPE!"`,
		`store has farewell = "SEE YOU!"`,
		"store has no missing",
	}},
	"named": {lines: []string{
		"both spawns returned the same actor: true",
		"first spawn: Hello, Ada",
		"second spawn: Hello, Ada",
		"spawn without GetIfExists: name taken: true",
		"looked up by name: Hello, Ada",
		`lookup in namespace other: not_found: no live actor named "greeter" in namespace "other"`,
		"greeter in namespace other: Hallo, Ada",
		"greeter in namespace default: Hello, Ada",
	}},
	"faulttolerance": {lines: []string{
		"  constructor ran (life 1)",
		"increment -> 1 (life 1)",
		"increment -> 2 (life 1)",
		"  constructor ran (life 2)",
		"increment -> 1 (life 2)",
		"increment -> 2 (life 2)",
		"  constructor ran (life 3)",
		"crash failed: actor died after 2 restarts, cause panic (crash requested in life 3)",
		"increment failed: actor died after 2 restarts, cause panic (crash requested in life 3)",
		"the constructor ran 3 times",
	}},
	"virtualcounter": {
		args: []string{"-state-dir", "{tmp}"},
		lines: []string{
			"my_counter starts at 0",
			"increment by 10 -> 10",
			"increment by 10 -> 20",
			"increment by 10 -> 30",
			"a second process reads my_counter = 30",
		},
		again: []string{
			"my_counter starts at 30",
			"increment by 10 -> 40",
			"increment by 10 -> 50",
			"increment by 10 -> 60",
			"a second process reads my_counter = 60",
		},
	},
	"cluster": {lines: []string{
		"cluster: head node-a, nodes node-b and node-c",
		"Generator -> node-a",
		"Processor -> node-b",
		"Writer    -> node-c",
		"pipeline: generated [1 2 3], processed [10 20 30], written 3 with sum 60",
		`first driver: journal "journal" in namespace pipeline, detached; shutting down`,
		`second driver: found journal "pipeline runs" in namespace pipeline: ["wrote 3 numbers, sum 60"]`,
		"second driver: no journal in namespace other: names are per namespace",
		"second driver: killed the journal",
		"stopped 3 node processes",
	}},
	"tracing": {lines: []string{
		"results: worker-0:ALPHA worker-1:BETA worker-2:GAMMA",
		"9 spans in the trace:",
		"driver request",
		"  tracing.v1.Coordinator/Run (client -> coordinator)",
		"    tracing.v1.Coordinator/Run (server on coordinator)",
		"      tracing.v1.Worker/Work (client -> worker-0)",
		"        tracing.v1.Worker/Work (server on worker-0)",
		"      tracing.v1.Worker/Work (client -> worker-1)",
		"        tracing.v1.Worker/Work (server on worker-1)",
		"      tracing.v1.Worker/Work (client -> worker-2)",
		"        tracing.v1.Worker/Work (server on worker-2)",
	}},
}

// TestExamples runs every example (each directory here with a main.go) with
// go run from the module root, and checks that it exits 0 and prints what
// want says. An example missing from want fails the test, so that a new
// example comes with the lines that prove it works. Under go test -race the
// examples run with the race detector too.
func TestExamples(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the module root should be the parent of the examples: %v", err)
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"run"}
	if raceEnabled() {
		args = append(args, "-race")
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(e.Name(), "main.go")); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	if len(names) < len(want) {
		t.Errorf("found examples %v, want at least %d", names, len(want))
	}

	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w, ok := want[name]
			if !ok {
				t.Fatalf("example %s has no expected output in want", name)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
			defer cancel()
			exampleArgs := append(slices.Clone(args), "./examples/"+name)
			tmp := ""
			for _, a := range w.args {
				if strings.Contains(a, "{tmp}") && tmp == "" {
					tmp = t.TempDir()
				}
				exampleArgs = append(exampleArgs, strings.ReplaceAll(a, "{tmp}", tmp))
			}
			runs := [][]string{w.lines}
			if w.again != nil {
				runs = append(runs, w.again)
			}
			for i, lines := range runs {
				cmd := exec.CommandContext(ctx, "go", exampleArgs...)
				cmd.Dir = root
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("go run ./examples/%s (run %d): %v\nstdout:\n%s\nstderr:\n%s", name, i+1, err, &stdout, &stderr)
				}
				out := stdout.String()
				if lines == nil {
					if out != w.exact {
						t.Errorf("output:\n%s\nwant:\n%s", out, w.exact)
					}
					continue
				}
				if missing := missingInOrder(out, lines); missing != "" {
					t.Errorf("run %d: output lacks %q (in order)\noutput:\n%s", i+1, missing, out)
				}
			}
		})
	}
}

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// missingInOrder returns the first line of want that out's lines do not
// contain after the lines matched before it, or "" if out has them all.
func missingInOrder(out string, want []string) string {
	lines := strings.Split(out, "\n")
	i := 0
	for _, w := range want {
		for i < len(lines) && lines[i] != w {
			i++
		}
		if i == len(lines) {
			return w
		}
		i++
	}
	return ""
}
