package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/troupehq/troupe/internal/testcert"
)

// A head started with certificates answers the CLI over TLS when the CLI
// is given the authority, and refuses it otherwise.
func TestClusterCommandsOverTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "node")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/troupehq/troupe/examples/cluster").CombinedOutput(); err != nil {
		t.Fatalf("building the node binary: %v\n%s", err, out)
	}
	cert, key := testcert.SelfSigned(t, dir)
	stateDir := filepath.Join(dir, "head")
	addr := startNode(t, bin, nil, "start", "--head", "--state-dir", stateDir, "--node-id", "node-tls",
		"--tls-cert", cert, "--tls-key", key)

	code, out, errOut := troupe(t, "list", "nodes", "--address", addr, "--state-dir", stateDir, "--tls-ca", cert)
	if code != 0 || !strings.Contains(out, "node-tls") {
		t.Fatalf("list nodes over TLS = %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = troupe(t, "list", "nodes", "--address", addr, "--state-dir", stateDir, "--timeout", "5s")
	if code != 1 || errOut == "" {
		t.Fatalf("list nodes in cleartext against a TLS head = %d, %q; want a failure", code, errOut)
	}
	code, _, errOut = troupe(t, "list", "nodes", "--address", addr, "--tls-ca", filepath.Join(dir, "missing.pem"))
	if code != 1 || !strings.Contains(errOut, "--tls-ca") {
		t.Fatalf("missing --tls-ca file = %d, %q", code, errOut)
	}
}
