// Package pgtest starts a throwaway PostgreSQL server for tests.
//
// Start looks for the server binaries in /usr/lib/postgresql/*/bin (Debian's
// postgresql package) or on PATH. Without them the test is skipped, unless
// TROUPE_REQUIRE_POSTGRES=1, when it fails: CI sets it so that the
// PostgreSQL suites cannot silently stop running.
package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Start runs a PostgreSQL server in a fresh directory on a free port of
// 127.0.0.1, stopped by its PID when the test ends, and returns the DSN of
// its postgres database.
func Start(t testing.TB) string {
	t.Helper()
	bin := binDir()
	if bin == "" {
		if os.Getenv("TROUPE_REQUIRE_POSTGRES") == "1" {
			t.Fatal("TROUPE_REQUIRE_POSTGRES=1 but no PostgreSQL binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH; apt-get install -y postgresql")
		}
		t.Skip("no PostgreSQL binaries (initdb, pg_ctl); apt-get install -y postgresql, or set TROUPE_REQUIRE_POSTGRES=1 to fail instead")
	}
	root := os.Geteuid() == 0
	base, err := os.MkdirTemp("", "troupe-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	dir := filepath.Join(base, "data")
	if root {
		// initdb refuses to run as root: the server runs as postgres.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(base, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) {
		t.Helper()
		path := filepath.Join(bin, name)
		var cmd *exec.Cmd
		if root {
			cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
		} else {
			cmd = exec.Command(path, args...)
		}
		cmd.Dir = base
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	run("initdb", "-D", dir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
	port := freePort(t)
	run("pg_ctl", "-D", dir, "-w", "-t", "60", "-l", filepath.Join(base, "log"), "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", port, base), "start")
	t.Cleanup(func() { stop(t, dir) })
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
}

// stop ends the server by the PID in its postmaster.pid and waits for it.
func stop(t testing.TB, dir string) {
	data, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		t.Logf("postgres: no pid file: %v", err)
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0]))
	if err != nil {
		t.Logf("postgres: bad pid file: %v", err)
		return
	}
	// SIGQUIT is PostgreSQL's immediate shutdown: nothing to keep.
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); err != nil {
			return
		}
		time.Sleep(20 * time.Millisecond) // polling a process we do not parent
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

func binDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // newest major first
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if d := filepath.Dir(p); isExec(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	return ""
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
