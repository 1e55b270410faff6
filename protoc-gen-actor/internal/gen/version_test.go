package gen_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/troupehq/troupe/protoc-gen-actor/internal/gen"
)

// TestRuntimeVersionAssertion checks that every generated file asserts the
// runtime version it needs, and that the runtime in this module defines
// that constant: a generator that asks for a version the runtime does not
// have would break every user's build.
func TestRuntimeVersionAssertion(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(repoRoot, "runtime", "actor", "version.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if obj := f.Scope.Lookup(gen.RuntimeVersionAssertion); obj == nil || obj.Kind != ast.Con {
		t.Fatalf("runtime/actor/version.go does not declare the constant %s that generated code refers to", gen.RuntimeVersionAssertion)
	}
	files, err := loadFixture(t).generate(t)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if !strings.Contains(content, "const _ = actor."+gen.RuntimeVersionAssertion+"\n") {
			t.Errorf("%s does not assert the runtime version (actor.%s)", name, gen.RuntimeVersionAssertion)
		}
	}
}
