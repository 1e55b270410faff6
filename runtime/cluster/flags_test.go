package cluster_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/cluster"
)

// The flags RunNode's documentation promises.
var documentedFlags = []string{
	"head", "address", "host", "advertise-host", "port", "state-dir", "token", "token-file", "node-id",
	"num-cpus", "num-gpus", "memory", "resources", "labels", "heartbeat-interval", "heartbeat-timeout",
	"max-calls-in-flight", "tls-cert", "tls-key", "tls-ca", "metrics-address", "dead-actor-retention",
	"idle-timeout", "max-connections",
}

// start --help prints every flag with its doc on stdout, and the program
// exits 0.
func TestStartHelpNamesEveryFlag(t *testing.T) {
	for _, help := range []string{"--help", "-h", "-help"} {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), nodeEnv+"=start"+argSep+help)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("start %s: %v (stderr %q), want exit 0", help, err, stderr.String())
		}
		text := string(out)
		if !strings.Contains(text, "start --head") || !strings.Contains(text, "start --address HOST:PORT") {
			t.Errorf("start %s: no synopsis in %q", help, text)
		}
		lines := strings.Split(text, "\n")
		for _, name := range documentedFlags {
			i := indexOfFlag(lines, name)
			if i < 0 || i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) == "" {
				t.Errorf("start %s: flag --%s is missing or has no doc:\n%s", help, name, text)
			}
		}
		if !strings.Contains(text, "how often nodes and drivers heartbeat (default 1s)") {
			t.Errorf("start %s: the defaults are not shown:\n%s", help, text)
		}
	}
}

// indexOfFlag returns the index of the line naming --name, -1 if none.
func indexOfFlag(lines []string, name string) int {
	for i, l := range lines {
		if l == "  --"+name || strings.HasPrefix(l, "  --"+name+" ") {
			return i
		}
	}
	return -1
}

// StartNode hands -h and --help back as flag.ErrHelp, starting nothing.
func TestStartNodeHelpIsErrHelp(t *testing.T) {
	for _, args := range [][]string{{"start", "--help"}, {"-h"}} {
		n, err := cluster.StartNode(context.Background(), args)
		if !errors.Is(err, flag.ErrHelp) || n != nil {
			t.Errorf("StartNode(%q) = %v, %v; want nil, flag.ErrHelp", args, n, err)
		}
	}
}

// RunNode and StartNode refuse command lines they cannot honour with an
// ErrInvalidOption, before listening, and never panic.
func TestStartRefusesBadFlags(t *testing.T) {
	t.Setenv(actor.TokenEnv, "")
	token := strings.Repeat("a", 64)
	short := filepath.Join(t.TempDir(), "short")
	if err := os.WriteFile(short, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(shared, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string // in the error
	}{
		{[]string{"start"}, "exactly one of --head and --address"},
		{[]string{"start", "--head", "--address", "127.0.0.1:1"}, "exactly one of"},
		{[]string{"start", "--head", "--resources", "not json", "--state-dir", t.TempDir()}, "--resources"},
		{[]string{"start", "--head", "--labels", "novalue", "--state-dir", t.TempDir()}, "--labels"},
		{[]string{"start", "--address", "127.0.0.1:1"}, "no cluster token"},
		{[]string{"start", "--head", "--host", "0.0.0.0", "--state-dir", t.TempDir()}, "--advertise-host"},
		{[]string{"start", "--bogus"}, "flag provided but not defined: -bogus (see start --help)"},
		{[]string{"start", "--port", "many"}, "invalid value"},
		{[]string{"start", "--head", "stray"}, `unexpected arguments ["stray"]`},
		{[]string{"start", "--head", "--tls-cert", "cert.pem", "--state-dir", t.TempDir()}, "--tls-key"},
		{[]string{"start", "--head", "--tls-ca", "ca.pem", "--state-dir", t.TempDir()}, "TLS everywhere or nowhere"},
		{[]string{"start", "--head", "--idle-timeout", "0s", "--state-dir", t.TempDir()}, "--idle-timeout"},
		{[]string{"start", "--head", "--max-connections", "-1", "--state-dir", t.TempDir()}, "--max-connections"},
		{[]string{"start", "--head", "--max-calls-in-flight", "0", "--state-dir", t.TempDir()}, "--max-calls-in-flight"},
		{[]string{"start", "--address", "127.0.0.1:1", "--token", "0123456789"}, "at least 32"},
		{[]string{"start", "--address", "127.0.0.1:1", "--token-file", short}, "at least 32"},
		{[]string{"start", "--address", "127.0.0.1:1", "--token-file", filepath.Join(t.TempDir(), "none")}, "--token-file"},
		{[]string{"start", "--address", "127.0.0.1:1", "--token", token, "--token-file", shared}, "not both"},
		{[]string{"start", "--head", "--token", token, "--state-dir", t.TempDir()}, "for joining nodes"},
	}
	for _, c := range cases {
		n, err := cluster.StartNode(context.Background(), c.args, silent)
		if !errors.Is(err, actor.ErrInvalidOption) || n != nil {
			t.Errorf("StartNode(%q) = %v, %v; want ErrInvalidOption", c.args, n, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("StartNode(%q) = %v, want it to say %q", c.args, err, c.want)
		}
		if err := cluster.RunNode(context.Background(), c.args, silent); !errors.Is(err, actor.ErrInvalidOption) {
			t.Errorf("RunNode(%q) = %v, want ErrInvalidOption", c.args, err)
		}
	}
}
