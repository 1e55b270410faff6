package actor_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/actor/sqlite"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// The crash test's workload: crashCallers callers each make crashEach
// increments of one durable counter, numbered 1..crashEach.
const (
	crashCallers = 4
	crashEach    = 2500
	crashEnv     = "TROUPE_DURABLE_CRASH_CHILD"
)

// TestDurableKill9 kills the process with SIGKILL in the middle of 10,000
// increments from several callers, restarts it, and lets the callers
// retry every increment they did not see acknowledged with the same
// caller and sequence. The count must then be exactly 10,000: no
// acknowledged increment lost, none applied twice (an increment that
// committed just before the kill is answered from its record on retry).
func TestDurableKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 10,000 durable commits in a child process")
	}
	dir := t.TempDir()
	next := make([]int, crashCallers) // per caller, the first unacknowledged sequence
	for i := range next {
		next[i] = 1
	}
	acked := 0
	killAt := crashCallers * crashEach / 3

	run := func(kill bool) {
		args := []string{"-test.run=^TestDurableCrashChild$", "-test.v"}
		cmd := exec.Command(os.Args[0], args...)
		starts := make([]string, crashCallers)
		for i, n := range next {
			starts[i] = strconv.Itoa(n)
		}
		cmd.Env = append(os.Environ(), crashEnv+"="+dir+";"+strings.Join(starts, ","))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killed := false
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var caller, seq int
			if _, err := fmt.Sscanf(sc.Text(), "ack %d %d", &caller, &seq); err != nil {
				continue
			}
			if seq != next[caller] {
				t.Errorf("caller %d: ack of %d, want %d (calls are sequential per caller)", caller, seq, next[caller])
			}
			next[caller] = seq + 1
			acked++
			if kill && !killed && acked >= killAt {
				if err := cmd.Process.Kill(); err != nil { // SIGKILL
					t.Fatal(err)
				}
				killed = true
			}
		}
		err = cmd.Wait()
		if kill {
			if !killed {
				t.Fatalf("the child finished before it was killed: %v\n%s", err, stderr.String())
			}
			return
		}
		if err != nil {
			t.Fatalf("child: %v\n%s", err, stderr.String())
		}
	}

	run(true)
	ackedBefore := acked
	if ackedBefore >= crashCallers*crashEach {
		t.Fatalf("all %d increments acknowledged before the kill", ackedBefore)
	}
	t.Logf("killed after %d acknowledged increments", ackedBefore)
	run(false)
	if acked != crashCallers*crashEach {
		t.Fatalf("%d increments acknowledged in all, want %d", acked, crashCallers*crashEach)
	}

	store, err := sqlite.Open(filepath.Join(dir, "troupe-state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	b, _, err := store.Load(t.Context(), testv1actor.LedgerClassName, "crash")
	if err != nil {
		t.Fatal(err)
	}
	var st testv1.LedgerState
	if err := proto.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if want := int64(crashCallers * crashEach); st.GetValue() != want || st.GetAdds() != want {
		t.Fatalf("after the kill and the retries: value %d after %d adds, want %d", st.GetValue(), st.GetAdds(), want)
	}
}

// TestDurableCrashChild is TestDurableKill9's child process: it runs the
// callers from the sequences the parent gives and prints each ack.
func TestDurableCrashChild(t *testing.T) {
	spec := os.Getenv(crashEnv)
	if spec == "" {
		t.Skip("the child process of TestDurableKill9")
	}
	dir, starts, _ := strings.Cut(spec, ";")
	sys := startDurable(t, nil, stateDir(t, dir))
	h := ledgerOf(t, sys, "crash", 0)
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for c, s := range strings.Split(starts, ",") {
		from, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for seq := from; seq <= crashEach; seq++ {
				ctx := actor.WithCallKey(context.Background(), fmt.Sprintf("caller-%d", c), uint64(seq))
				if _, err := h.Add(ctx, &testv1.LedgerAddRequest{By: 1}).Get(ctx); err != nil {
					t.Errorf("caller %d seq %d: %v", c, seq, err)
					return
				}
				mu.Lock()
				fmt.Fprintf(out, "ack %d %d\n", c, seq)
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
