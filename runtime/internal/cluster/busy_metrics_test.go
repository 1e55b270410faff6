package cluster_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/testprom"
	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// On a cluster, ListActors counts a remote actor's running and pending
// calls, a node's resources-used gauge counts what its actors hold (as
// `troupe status` does), and the head's pending-actors gauge counts the
// actors that wait on the head for a node.
func TestBusyActorAndGaugesOnCluster(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, hm := start(t, nil, listeningWithMetrics, append([]string{"start", "--head", "--state-dir", dir,
		"--metrics-address", "127.0.0.1:0"}, heartbeats...)...)
	token, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	c := &testCluster{t: t, stateDir: dir, headAddr: hm[1], token: strings.TrimSpace(string(token))}
	headMetrics := hm[3]
	p, m := start(t, []string{"TROUPE_TOKEN=" + c.token}, listeningWithMetrics,
		"start", "--address", c.headAddr, "--node-id", "busy", "--resources", `{"slot": 1}`,
		"--metrics-address", "127.0.0.1:0")
	defer p.kill()
	nodeMetrics := m[3]

	sys := c.connect("busy")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h := spawn(t, sys, testv1actor.ProbeOptions().Resources(map[string]float64{"slot": 1}))
	long := h.Do(ctx, &testv1.DoRequest{Key: "sleep", Arg: 60_000})
	queued := h.Get(ctx, &testv1.GetRequest{})
	eventually(t, "ListActors to show the running call", func() bool {
		in := info(t, sys, h.Ref().ID())
		return in.RunningCalls == 1 && in.PendingCalls >= 1
	})
	eventually(t, "the node's slot to read used", func() bool {
		got := testprom.Scrape(t, nodeMetrics, "troupe_node_resources_used", `troupe_resource_name="slot"`)
		return len(got) == 1 && got[0] == 1
	})
	// A second actor that needs the slot waits on the head for it.
	waiting := spawn(t, sys, testv1actor.ProbeOptions().Resources(map[string]float64{"slot": 1}))
	if in := info(t, sys, waiting.Ref().ID()); in.State != actor.PendingCreation || in.Node != "" {
		t.Fatalf("second actor: %v on %q, want PENDING_CREATION on no node", in.State, in.Node)
	}
	got := testprom.Scrape(t, headMetrics, "troupe_actors_pending", `troupe_actor_class="test.v1.Probe"`)
	if len(got) != 1 || got[0] != 1 {
		t.Fatalf("troupe_actors_pending on the head = %v, want [1]", got)
	}
	long.Cancel()
	if _, err := queued.Get(ctx); err != nil {
		t.Fatal(err)
	}
}
