package cluster_test

import (
	"bufio"
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

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
	got := scrapeMetric(t, metrics, "troupe_calls_total", `rpc_method="test.v1.Probe/Add"`, `rpc_response_status_code="ok"`)
	if len(got) != 1 || got[0] != calls {
		t.Fatalf("troupe_calls_total for Add on the node = %v, want [%d]", got, calls)
	}
}

// scrapeMetric returns the values of metric's samples whose labels
// contain every one of labels.
func scrapeMetric(t *testing.T, addr, metric string, labels ...string) []float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	var values []float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, metric+"{") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		values = append(values, v)
	}
	return values
}
