package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/troupehq/troupe/runtime/bench"
)

// A microRow is a row of troupe microbenchmark: one of Ray's `ray
// microbenchmark` actor rows, the workload of runtime/bench that measures
// it, and what it shows of the workload and of its baseline.
type microRow struct {
	name     string // Ray's name for the row
	workload string // the bench.Workload it runs; its Baseline runs beside it
	// baseline, when set, is the workload run beside it instead of the
	// workload's own Baseline.
	baseline string
	metric   string // the unit of the workload's metric it shows
	// baselineMetric is the baseline's metric it is compared with, if
	// the baseline reports it under another unit.
	baselineMetric string
	unit           string  // the unit printed, for metric × scale
	baselineUnit   string  // the baseline's unit printed, if not unit
	scale          float64 // 0 means 1
}

// localRows are the rows for an embedded node.
var localRows = []microRow{
	{name: "1:1 actor calls sync", workload: "LocalSync", metric: "calls/s", unit: "calls/s"},
	{name: "1:1 actor calls async", workload: "LocalAsync1000", metric: "calls/s", unit: "calls/s"},
	{name: "1:1 actor calls concurrent", workload: "LocalConcurrent16", metric: "calls/s", unit: "calls/s"},
	{name: "1:n actor calls async", workload: "Local1toN", metric: "calls/s", unit: "calls/s"},
	{name: "n:n actor calls async", workload: "LocalNtoN", metric: "calls/s", unit: "calls/s"},
	{name: "1:n actor calls async (caller is an actor)", workload: "Local1toNFromActor", metric: "calls/s", unit: "calls/s"},
	{name: "n:n actor calls async (callers are actors)", workload: "LocalNtoNFromActor", metric: "calls/s", unit: "calls/s"},
	{name: "actor spawn", workload: "Spawn", metric: "ns/op", unit: "µs/actor", baselineUnit: "µs/goroutine", scale: 1e-3},
	{name: "idle actor bytes", workload: "IdleActorBytes", metric: "bytes/actor", baselineMetric: "bytes/goroutine", unit: "bytes/actor", baselineUnit: "bytes/goroutine"},
}

// remoteRows are the rows for a two-node loopback cluster: the same
// shapes with the actors on a head node in a second process, called from
// this one as a driver, read against the TCP baselines of runtime/bench.
var remoteRows = []microRow{
	{name: "1:1 actor calls sync (remote)", workload: "RemoteSync", metric: "calls/s", unit: "calls/s"},
	{name: "1:1 actor call latency (remote)", workload: "RemoteSync", baseline: "BaselineConnectUnary",
		metric: "p50-ns", unit: "µs p50", scale: 1e-3},
	{name: "1:1 actor calls async (remote)", workload: "RemoteAsync1000", metric: "calls/s", unit: "calls/s"},
	{name: "n:n actor calls async (remote)", workload: "RemoteNtoN", metric: "calls/s", unit: "calls/s"},
}

// tracingRows are 1:1 sync calls on an embedded node with tracing on,
// read against the same calls with tracing off.
var tracingRows = []microRow{
	{name: "1:1 actor calls sync (no-op tracer)", workload: "LocalSyncTracingNoop", metric: "calls/s", unit: "calls/s"},
	{name: "1:1 actor calls sync (every call traced)", workload: "LocalSyncTracingSampled", metric: "calls/s", unit: "calls/s"},
}

// baselineLabels name the baselines in the output.
var baselineLabels = map[string]string{
	"BaselineChannelRoundTrip":     "channel round trip",
	"BaselineChannelPipelined1000": "channel pipelined 1000",
	"BaselineChannelConcurrent16":  "channel concurrent 16",
	"BaselineGoroutineSpawn":       "goroutine spawn",
	"BaselineIdleGoroutineBytes":   "idle goroutine",
	"BaselineTCPRoundTrip":         "TCP round trip",
	"BaselineTCPPipelined1000":     "TCP pipelined 1000",
	"BaselineConnectUnary":         "Connect unary call",
	"LocalSyncTracingOff":          "tracing off",
	"Local1toN":                    "1:n from a driver",
	"LocalNtoN":                    "n:n from a driver",
}

const microbenchmarkDoc = `Runs the actor rows of Ray's "ray microbenchmark" on an embedded node and on
a two-node loopback cluster, each beside a baseline that does the same work
without Troupe, measured in the same run: Go channels for calls on one node,
goroutines for spawning and idle actors, varint-framed protobuf over TCP to a
second process for calls between nodes. Ratio is the row's value divided by
its baseline's; read it rather than the absolute numbers, which move with the
machine and its load.

Rows:
  1:1 actor calls sync        one call at a time to one actor
  1:1 actor call latency      the median time of such a call (remote only, against
                              a bare Connect unary call to the second process)
  1:1 actor calls async       1000 calls in flight to one actor, then wait for all
  1:1 actor calls concurrent  16 callers on one actor with max_concurrency 16
  1:n actor calls async       one caller, 5000 calls over 8 actors, then wait for all
  n:n actor calls async       4 callers, each 5000 calls over the same 8 actors
  ... (caller is an actor)    the same calls made by caller actors, as Ray makes
                              them, read against the same calls from a driver
  actor spawn                 spawn and construct an actor
  idle actor bytes            live heap per idle actor, of 100,000

The rows marked (remote) run the same calls from this process, as a driver,
to actors on a head node in a second process (this executable started again).
The two tracing rows are 1:1 sync calls with a no-op tracer provider and with
an SDK provider recording every call, read against tracing off.

The same workloads run as Go benchmarks:
  go test -run '^$' -bench . ./runtime/bench
`

// microResult is one row as measured.
type microResult struct {
	Name     string         `json:"name"`
	Workload string         `json:"workload"`
	Value    float64        `json:"value"`
	Unit     string         `json:"unit"`
	Baseline *microBaseline `json:"baseline"`
	Ratio    float64        `json:"ratio"` // Value / Baseline.Value
	Metrics  []bench.Metric `json:"metrics"`
}

type microBaseline struct {
	Name     string         `json:"name"`
	Workload string         `json:"workload"`
	Value    float64        `json:"value"`
	Unit     string         `json:"unit"`
	Metrics  []bench.Metric `json:"metrics"`
}

// microReport is the output of troupe microbenchmark.
type microReport struct {
	Machine  machine       `json:"machine"`
	Duration string        `json:"duration"` // per workload
	Rows     []microResult `json:"rows"`
}

type machine struct {
	CPUs int    `json:"cpus"` // GOMAXPROCS
	CPU  string `json:"cpu"`
	Go   string `json:"go"`
	OS   string `json:"os"`
	Arch string `json:"arch"`
	Date string `json:"date"`
}

func runMicrobenchmark(ctx context.Context, stdout, _ io.Writer, args []string) error {
	fs := newFlagSet("microbenchmark", "[-duration 2s] [-format table|markdown|json] [-filter regexp]", microbenchmarkDoc, stdout)
	duration := fs.Duration("duration", 2*time.Second, "how long to measure each workload and each baseline")
	format := fs.String("format", "table", "output format: table, markdown or json")
	filter := fs.String("filter", "", "run only the rows whose name or workload matches this regexp")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *duration <= 0 {
		return usagef("-duration %v: want a positive duration", *duration)
	}
	write, ok := microFormats[*format]
	if !ok {
		return usagef("-format %q: want table, markdown or json", *format)
	}
	re, err := regexp.Compile(*filter)
	if err != nil {
		return usagef("-filter: %v", err)
	}
	var rows []microRow
	for _, r := range slices.Concat(localRows, remoteRows, tracingRows) {
		if re.MatchString(r.name) || re.MatchString(r.workload) {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return usagef("-filter %q matches no row", *filter)
	}

	report := microReport{Machine: thisMachine(), Duration: duration.String()}
	for _, r := range rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		w, err := bench.Lookup(r.workload)
		if err != nil {
			return err
		}
		baseline := w.Baseline
		if r.baseline != "" {
			baseline = r.baseline
		}
		b, err := bench.Lookup(baseline)
		if err != nil {
			return err
		}
		// The baseline runs just before the workload read against it, each
		// time, so that both see the machine in the same state.
		bres, err := bench.Measure(b, *duration)
		if err != nil {
			return err
		}
		res, err := bench.Measure(w, *duration)
		if err != nil {
			return err
		}
		row, err := r.result(res, bres)
		if err != nil {
			return err
		}
		report.Rows = append(report.Rows, row)
	}
	return write(stdout, report)
}

// result builds the row from the workload's and its baseline's results.
func (r microRow) result(res, base bench.Result) (microResult, error) {
	scale := r.scale
	if scale == 0 {
		scale = 1
	}
	baselineMetric := r.baselineMetric
	if baselineMetric == "" {
		baselineMetric = r.metric
	}
	v, ok := res.Metric(r.metric)
	if !ok {
		return microResult{}, fmt.Errorf("%s reported no %s", res.Name, r.metric)
	}
	bv, ok := base.Metric(baselineMetric)
	if !ok {
		return microResult{}, fmt.Errorf("%s reported no %s", base.Name, baselineMetric)
	}
	baseUnit := r.baselineUnit
	if baseUnit == "" {
		baseUnit = r.unit
	}
	out := microResult{
		Name: r.name, Workload: res.Name, Value: v * scale, Unit: r.unit, Metrics: res.Metrics,
		Baseline: &microBaseline{
			Name: baselineLabels[base.Name], Workload: base.Name,
			Value: bv * scale, Unit: baseUnit, Metrics: base.Metrics,
		},
	}
	if out.Baseline.Value != 0 {
		out.Ratio = out.Value / out.Baseline.Value
	}
	return out, nil
}

var microFormats = map[string]func(io.Writer, microReport) error{
	"table":    writeMicroTable,
	"markdown": writeMicroMarkdown,
	"json":     writeMicroJSON,
}

func writeMicroJSON(w io.Writer, rep microReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func writeMicroTable(w io.Writer, rep microReport) error {
	// Columns: name, value, unit, baseline name, baseline value, its unit,
	// ratio; the values are aligned right, the rest left.
	cells := make([][7]string, len(rep.Rows))
	var widths [7]int
	for i, r := range rep.Rows {
		cells[i] = [7]string{
			r.Name, formatValue(r.Value, r.Unit), r.Unit,
			"baseline " + r.Baseline.Name, formatValue(r.Baseline.Value, r.Baseline.Unit), r.Baseline.Unit,
			"ratio " + strconv.FormatFloat(r.Ratio, 'f', 2, 64),
		}
		for j, c := range cells[i] {
			widths[j] = max(widths[j], utf8.RuneCountInString(c))
		}
	}
	pad := func(j int, c string) string { return strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c)) }
	fmt.Fprintf(w, "%s\n\n", rep.Machine.caption(rep.Duration))
	for _, c := range cells {
		_, err := fmt.Fprintf(w, "%s%s  %s%s %s%s   %s%s %s%s %s%s   %s\n",
			c[0], pad(0, c[0]), pad(1, c[1]), c[1], c[2], pad(2, c[2]),
			c[3], pad(3, c[3]), pad(4, c[4]), c[4], c[5], pad(5, c[5]), c[6])
		if err != nil {
			return err
		}
	}
	return nil
}

func writeMicroMarkdown(w io.Writer, rep microReport) error {
	fmt.Fprintf(w, "%s\n\n", rep.Machine.caption(rep.Duration))
	fmt.Fprintln(w, "| row | Troupe | baseline | baseline value | ratio |")
	fmt.Fprintln(w, "| --- | ---: | --- | ---: | ---: |")
	for _, r := range rep.Rows {
		fmt.Fprintf(w, "| %s | %s %s | %s | %s %s | %.2f |\n",
			r.Name, formatValue(r.Value, r.Unit), r.Unit,
			r.Baseline.Name, formatValue(r.Baseline.Value, r.Baseline.Unit), r.Baseline.Unit, r.Ratio)
	}
	return nil
}

// formatValue prints v with thousands separators and the decimals its
// unit needs.
func formatValue(v float64, unit string) string {
	digits := 0
	if strings.HasPrefix(unit, "µs") {
		digits = 2
	}
	s := strconv.FormatFloat(v, 'f', digits, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if neg {
		out = "-" + out
	}
	if frac != "" {
		out += "." + frac
	}
	return out
}

// thisMachine describes the machine the benchmark runs on.
func thisMachine() machine {
	return machine{
		CPUs: runtime.GOMAXPROCS(0),
		CPU:  cpuModel(),
		Go:   runtime.Version(),
		OS:   runtime.GOOS,
		Arch: runtime.GOARCH,
		Date: time.Now().UTC().Format(time.DateOnly),
	}
}

func (m machine) caption(duration string) string {
	return fmt.Sprintf("Embedded node and two-node loopback cluster, %d CPUs (%s), %s %s/%s, %s, %s per workload.",
		m.CPUs, m.CPU, m.Go, m.OS, m.Arch, m.Date, duration)
}

// cpuModel returns the CPU's model name from /proc/cpuinfo, or "unknown
// CPU" where there is none.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		key, value, ok := strings.Cut(s.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown CPU"
}
