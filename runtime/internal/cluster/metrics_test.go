package cluster_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/testprom"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

var listeningWithMetrics = regexp.MustCompile(`^troupe node listening address=(\S+) node_id=(\S+) head=\S+ metrics=(\S+)`)

// A node started with --metrics-address serves Prometheus metrics that
// count the calls its actors served.
func TestNodeMetricsEndpoint(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	p, m := start(t, []string{"TROUPE_TOKEN=" + c.token}, listeningWithMetrics,
		"start", "--address", c.headAddr, "--node-id", "metered", "--resources", `{"metered": 1}`,
		"--metrics-address", "127.0.0.1:0")
	c.nodes[m[2]] = p
	metrics := m[3]

	sys := c.connect("metrics")
	h := spawn(t, sys, testv1actor.ProbeOptions().Resources(map[string]float64{"metered": 1}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const calls = 7
	for i := range calls {
		if _, err := h.Add(ctx, &testv1.AddRequest{By: int64(i)}).Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if node := nodeOf(t, h); node != "metered" {
		t.Fatalf("actor on %s, want metered", node)
	}
	got := testprom.Scrape(t, metrics, "troupe_calls_total", `rpc_method="test.v1.Probe/Add"`, `rpc_response_status_code="ok"`)
	if len(got) != 1 || got[0] != calls {
		t.Fatalf("troupe_calls_total for Add on the node = %v, want [%d]", got, calls)
	}
}
