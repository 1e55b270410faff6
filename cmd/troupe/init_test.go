package main

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// TestProtoExport checks that troupe proto export writes exactly the
// framework's protos, byte for byte as they are in proto/actor/v1.
func TestProtoExport(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := troupe(t, "proto", "export", dir)
	if code != 0 {
		t.Fatalf("troupe proto export: exit %d, stderr %q", code, errOut)
	}
	src := filepath.Join("..", "..", "proto", "actor", "v1")
	want, err := filepath.Glob(filepath.Join(src, "*.proto"))
	if err != nil || len(want) == 0 {
		t.Fatalf("no protos in %s: %v", src, err)
	}
	got, err := filepath.Glob(filepath.Join(dir, "actor", "v1", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("exported %d files, want %d: %v", len(got), len(want), got)
	}
	for _, w := range want {
		name := filepath.Base(w)
		wantData, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		gotData, err := os.ReadFile(filepath.Join(dir, "actor", "v1", name))
		if err != nil {
			t.Errorf("%s not exported: %v", name, err)
			continue
		}
		if string(gotData) != string(wantData) {
			t.Errorf("exported %s differs from proto/actor/v1/%s", name, name)
		}
		if !strings.Contains(out, filepath.Join(dir, "actor", "v1", name)) {
			t.Errorf("troupe proto export does not list %s:\n%s", name, out)
		}
	}
	// A second export replaces the files: it is how users upgrade.
	if code, _, errOut := troupe(t, "proto", "export", dir); code != 0 {
		t.Errorf("second export: exit %d, stderr %q", code, errOut)
	}
}

func TestProtoUsage(t *testing.T) {
	for _, args := range [][]string{{"proto"}, {"proto", "export"}, {"proto", "import", "x"}, {"proto", "export", "a", "b"}} {
		code, _, errOut := troupe(t, args...)
		if code != 2 || !strings.Contains(errOut, "want export DIR") {
			t.Errorf("troupe %q: exit %d, stderr %q; want 2 and the usage", args, code, errOut)
		}
	}
}

func TestInit(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("// an app\nmodule \"example.com/app\" // the module\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := troupe(t, "init", "-dir", dir)
	if code != 0 {
		t.Fatalf("troupe init: exit %d, stderr %q", code, errOut)
	}
	for _, name := range []string{"buf.yaml", "buf.gen.yaml", "proto/greeter/v1/greeter.proto", "main.go", "third_party/troupe/actor/v1/options.proto"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("troupe init did not write %s: %v", name, err)
		}
		if !strings.Contains(out, filepath.FromSlash(name)) {
			t.Errorf("troupe init does not list %s:\n%s", name, out)
		}
	}
	for name, want := range map[string][]string{
		"buf.gen.yaml": {"value: example.com/app/gen", "- directory: proto", "module: buf.build/troupehq/troupe", `["go", "tool", "protoc-gen-actor"]`},
		"buf.yaml":     {"path: third_party/troupe", "name: buf.build/troupehq/troupe"},
		"main.go":      {`"example.com/app/gen/greeter/v1/greeterv1actor"`, "greeterv1actor.RegisterGreeter(newGreeter)"},
	} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(data), w) {
				t.Errorf("%s lacks %q:\n%s", name, w, data)
			}
		}
	}

	// Nothing is overwritten: a second init fails and names what exists.
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = troupe(t, "init", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "buf.yaml") || !strings.Contains(errOut, "main.go") {
		t.Errorf("second troupe init: exit %d, stderr %q; want 1 naming the files that exist", code, errOut)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "main.go")); string(after) != "package main\n" {
		t.Errorf("second troupe init changed main.go")
	}
}

func TestInitNeedsAModule(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := troupe(t, "init", "-dir", dir)
	if code != 1 || !strings.Contains(errOut, "go mod init") {
		t.Errorf("troupe init without go.mod: exit %d, stderr %q; want 1 and a hint to run go mod init", code, errOut)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("troupe init without go.mod wrote files: %v", entries)
	}
	// -module stands in for go.mod.
	if code, _, errOut := troupe(t, "init", "-dir", dir, "-module", "example.com/other"); code != 0 {
		t.Fatalf("troupe init -module: exit %d, stderr %q", code, errOut)
	}
	data, err := os.ReadFile(filepath.Join(dir, "buf.gen.yaml"))
	if err != nil || !strings.Contains(string(data), "value: example.com/other/gen") {
		t.Errorf("buf.gen.yaml for -module example.com/other: %v\n%s", err, data)
	}
}

func TestVersion(t *testing.T) {
	code, out, errOut := troupe(t, "version")
	if code != 0 || !strings.HasPrefix(out, "troupe ") || errOut != "" {
		t.Errorf("troupe version: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, tc := range []struct {
		info *debug.BuildInfo
		want string
	}{
		{nil, "(devel)"},
		{&debug.BuildInfo{Main: debug.Module{Path: "github.com/troupehq/troupe"}}, "(devel)"},
		{&debug.BuildInfo{Main: debug.Module{Path: "github.com/troupehq/troupe", Version: "v1.2.0"}}, "v1.2.0"},
		{&debug.BuildInfo{Main: debug.Module{Path: "github.com/troupehq/troupe", Version: "v0.0.0-00010101000000-000000000000",
			Replace: &debug.Module{Path: "../troupe"}}}, "v0.0.0-00010101000000-000000000000 => ../troupe"},
	} {
		if got := moduleVersion(tc.info); got != tc.want {
			t.Errorf("moduleVersion(%+v) = %q, want %q", tc.info, got, tc.want)
		}
	}
	if !slices.ContainsFunc(commands, func(c command) bool { return c.name == "version" }) {
		t.Error("troupe help does not list version")
	}
}
