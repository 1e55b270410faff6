package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/troupehq/troupe/runtime/bench"
)

func TestMain(m *testing.M) {
	// As in main: the network baselines start this binary as their server.
	if code, ok := bench.ServeFromEnv(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// troupe runs the command line in process and returns its exit code and
// what it wrote.
func troupe(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), &out, &errOut, args)
	return code, out.String(), errOut.String()
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}} {
		code, out, errOut := troupe(t, args...)
		if code != 0 || errOut != "" {
			t.Errorf("troupe %q: exit %d, stderr %q; want 0 and nothing", args, code, errOut)
		}
		for _, c := range commands {
			if !strings.Contains(out, c.name) || !strings.Contains(out, c.summary) {
				t.Errorf("troupe %q does not list %s: %q", args, c.name, out)
			}
		}
	}
}

func TestCommandHelp(t *testing.T) {
	for _, args := range [][]string{{"help", "microbenchmark"}, {"microbenchmark", "-help"}} {
		code, out, _ := troupe(t, args...)
		if code != 0 {
			t.Errorf("troupe %q: exit %d, want 0", args, code)
		}
		for _, want := range []string{"Usage: troupe microbenchmark", "-duration", "-format", "-filter", "two-node loopback cluster"} {
			if !strings.Contains(out, want) {
				t.Errorf("troupe %q does not say %q:\n%s", args, want, out)
			}
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in stderr
	}{
		{nil, "Usage:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"microbenchmark", "-nope"}, "flag provided but not defined: -nope"},
		{[]string{"microbenchmark", "extra"}, "unexpected arguments"},
		{[]string{"microbenchmark", "-format", "xml"}, `-format "xml"`},
		{[]string{"microbenchmark", "-duration", "0s"}, "positive duration"},
		{[]string{"microbenchmark", "-filter", "("}, "-filter"},
		{[]string{"microbenchmark", "-filter", "no such row"}, "matches no row"},
	} {
		code, out, errOut := troupe(t, tc.args...)
		if code != 2 {
			t.Errorf("troupe %q: exit %d, want 2", tc.args, code)
		}
		if out != "" {
			t.Errorf("troupe %q wrote to stdout: %q", tc.args, out)
		}
		if !strings.Contains(errOut, tc.want) {
			t.Errorf("troupe %q: stderr %q, want it to contain %q", tc.args, errOut, tc.want)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		unit string
		want string
	}{
		{1108412.4, "calls/s", "1,108,412"},
		{999, "calls/s", "999"},
		{1000, "bytes/actor", "1,000"},
		{2.914, "µs/actor", "2.91"},
		{1234.5, "µs/actor", "1,234.50"},
		{-1500, "bytes/actor", "-1,500"},
	} {
		if got := formatValue(tc.v, tc.unit); got != tc.want {
			t.Errorf("formatValue(%v, %q) = %q, want %q", tc.v, tc.unit, got, tc.want)
		}
	}
}
