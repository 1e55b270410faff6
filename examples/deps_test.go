package examples_test

import (
	"os/exec"
	"strings"
	"testing"
)

// forbiddenDeps are module paths a program that uses only the embedded
// runtime must not link: the durable stores' databases and the OTLP
// exporters' gRPC and the head's bbolt are packages a program imports when
// it uses them (runtime/actor/sqlite, runtime/actor/postgres,
// runtime/actor/otlp, runtime/cluster). Add a
// path here when another piece becomes opt-in.
var forbiddenDeps = []string{
	"github.com/jackc/pgx",
	"modernc.org/sqlite",
	"google.golang.org/grpc",
	"go.etcd.io/bbolt",
}

// The counter, an embedded-runtime program, links none of forbiddenDeps.
func TestCounterLinksNoStoreOrGRPC(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "./counter").Output()
	if err != nil {
		t.Fatalf("go list -deps ./counter: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps ./counter named %d packages: %q", len(deps), deps)
	}
	for _, dep := range deps {
		for _, bad := range forbiddenDeps {
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				t.Errorf("examples/counter links %s (%s is for programs that import it)", dep, bad)
			}
		}
	}
}
