package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestMicrobenchmarkJSON runs every row briefly and checks that each is
// there with a positive value, its baseline and the ratio between them.
func TestMicrobenchmarkJSON(t *testing.T) {
	code, out, errOut := troupe(t, "microbenchmark", "-duration", "50ms", "-format", "json")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	var rep microReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if rep.Machine.CPUs <= 0 || rep.Machine.Go == "" || rep.Machine.Date == "" {
		t.Errorf("machine = %+v, want CPUs, Go version and date", rep.Machine)
	}
	got := map[string]microResult{}
	for _, r := range rep.Rows {
		got[r.Name] = r
	}
	want := []string{
		"1:1 actor calls sync", "1:1 actor calls async", "1:1 actor calls concurrent",
		"1:n actor calls async", "n:n actor calls async",
		"1:n actor calls async (caller is an actor)", "n:n actor calls async (callers are actors)",
		"actor spawn", "idle actor bytes",
		"1:1 actor calls sync (remote)", "1:1 actor call latency (remote)",
		"1:1 actor calls async (remote)", "n:n actor calls async (remote)",
		"1:1 actor calls sync (no-op tracer)", "1:1 actor calls sync (every call traced)",
	}
	if len(rep.Rows) != len(want) {
		t.Errorf("%d rows, want %d", len(rep.Rows), len(want))
	}
	for _, name := range want {
		r, ok := got[name]
		if !ok {
			t.Errorf("no row %q", name)
			continue
		}
		if r.Value <= 0 || r.Unit == "" {
			t.Errorf("%s: value %v %q, want a positive value and a unit", name, r.Value, r.Unit)
		}
		b := r.Baseline
		if b == nil || b.Name == "" || b.Workload == "" || b.Value <= 0 || b.Unit == "" {
			t.Errorf("%s: baseline %+v, want a named baseline with a positive value", name, b)
			continue
		}
		if want := r.Value / b.Value; math.Abs(r.Ratio-want) > 1e-9*want {
			t.Errorf("%s: ratio %v, want %v / %v = %v", name, r.Ratio, r.Value, b.Value, want)
		}
	}
	if r := got["1:1 actor calls sync"]; r.Workload != "LocalSync" || r.Baseline == nil || r.Baseline.Workload != "BaselineChannelRoundTrip" {
		t.Errorf("1:1 actor calls sync runs %s against %+v, want LocalSync against BaselineChannelRoundTrip", r.Workload, r.Baseline)
	}
	if r := got["n:n actor calls async (callers are actors)"]; r.Workload != "LocalNtoNFromActor" || r.Baseline == nil || r.Baseline.Workload != "LocalNtoN" {
		t.Errorf("n:n actor calls async (callers are actors) runs %s against %+v, want LocalNtoNFromActor against LocalNtoN", r.Workload, r.Baseline)
	}
	if r := got["1:1 actor call latency (remote)"]; r.Workload != "RemoteSync" || r.Unit != "µs p50" || r.Baseline == nil || r.Baseline.Workload != "BaselineConnectUnary" {
		t.Errorf("1:1 actor call latency (remote) runs %s (%s) against %+v, want RemoteSync's p50 against BaselineConnectUnary", r.Workload, r.Unit, r.Baseline)
	}
	if r := got["1:1 actor calls async (remote)"]; r.Workload != "RemoteAsync1000" || r.Baseline == nil || r.Baseline.Workload != "BaselineTCPPipelined1000" {
		t.Errorf("1:1 actor calls async (remote) runs %s against %+v, want RemoteAsync1000 against BaselineTCPPipelined1000", r.Workload, r.Baseline)
	}
}

// TestMicrobenchmarkTableFilter runs one row as a table.
func TestMicrobenchmarkTableFilter(t *testing.T) {
	code, out, errOut := troupe(t, "microbenchmark", "-duration", "20ms", "-filter", "^LocalSync$")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "Embedded node and two-node loopback cluster, ") {
		t.Fatalf("want a caption, a blank line and one row, got:\n%s", out)
	}
	row := lines[2]
	for _, want := range []string{"1:1 actor calls sync", "calls/s", "baseline channel round trip", "ratio "} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q does not contain %q", row, want)
		}
	}
}

// TestMicrobenchmarkMarkdown checks the markdown table's shape with one row.
func TestMicrobenchmarkMarkdown(t *testing.T) {
	code, out, errOut := troupe(t, "microbenchmark", "-duration", "20ms", "-format", "markdown", "-filter", "LocalAsync1000")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || lines[2] != "| row | Troupe | baseline | baseline value | ratio |" {
		t.Fatalf("want a caption and a table of one row, got:\n%s", out)
	}
	if !strings.HasPrefix(lines[4], "| 1:1 actor calls async | ") || !strings.Contains(lines[4], "| channel pipelined 1000 | ") {
		t.Errorf("row %q, want 1:1 actor calls async against channel pipelined 1000", lines[4])
	}
}
