package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/internal/cluster"
)

// A head warns about a token file others may read and refuses a short
// token.
func TestHeadTokenFileIsChecked(t *testing.T) {
	dir := t.TempDir()
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	tok, err := cluster.LoadOrCreateToken(dir, log)
	if err != nil || len(tok) < cluster.MinTokenBytes {
		t.Fatalf("LoadOrCreateToken = %q, %v", tok, err)
	}
	if again, err := cluster.LoadOrCreateToken(dir, log); again != tok || err != nil || logged.Len() != 0 {
		t.Fatalf("LoadOrCreateToken again = %q, %v, log %q; want the same token, no warning", again, err, logged.String())
	}
	path := filepath.Join(dir, cluster.TokenFile)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if again, err := cluster.LoadOrCreateToken(dir, log); again != tok || err != nil || !strings.Contains(logged.String(), "readable by group or others") {
		t.Errorf("with mode 0644: %q, %v, log %q; want the token and a warning", again, err, logged.String())
	}
	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.LoadOrCreateToken(dir, log); !errors.Is(err, actor.ErrInvalidOption) {
		t.Errorf("a 5-byte token: %v, want ErrInvalidOption", err)
	}
}

// A joining node takes its token from --token-file and warns when others
// may read the file. (runtime/cluster's tests check the tokens it refuses.)
func TestNodeTokenFile(t *testing.T) {
	c := newCluster(t)
	shared := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(shared, []byte(c.token+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o644); err != nil {
		t.Fatal(err)
	}
	p, m := start(t, []string{"TROUPE_TOKEN="}, listening, "start", "--address", c.headAddr, "--token-file", shared)
	sys := c.connect("tokens")
	eventually(t, "the node joined", func() bool {
		nodes, err := sys.ListNodes(context.Background())
		if err != nil {
			return false
		}
		for _, n := range nodes {
			if n.ID == m[2] && n.State == "ALIVE" {
				return true
			}
		}
		return false
	})
	eventually(t, "a warning about the token file", func() bool {
		b, _ := os.ReadFile(p.log)
		return bytes.Contains(b, []byte("readable by group or others"))
	})

}
