// Package gen is protoc-gen-actor's generator: it reads the actor services of
// a CodeGeneratorRequest through protogen and writes one <name>.actor.go file
// per .proto file that declares any.
//
// The work is split by what it emits: service.go and validate.go read and
// check the options; names.go computes every generated identifier; file.go
// writes a file's header and imports; descriptor.go the class and method
// descriptors the runtime dispatches through; interface.go the interface a
// user implements and its registration; handle.go the typed handle; spawn.go
// the spawn builder and the lookups. literal.go turns option messages into Go
// literals.
package gen

import (
	"errors"
	"path"

	"google.golang.org/protobuf/compiler/protogen"
)

// The descriptor set the golden tests read. It holds the fixture protos under
// testdata/proto and their imports, with source info for the comments.
//go:generate go tool -modfile=../../../tools/go.mod buf build ../../testdata/proto -o ../../testdata/fixture.binpb

// Generate writes the actor files for the files of the request marked for
// generation. It writes nothing unless every actor service of every such file
// passes validation; otherwise it returns all the problems found, one a line.
func Generate(plugin *protogen.Plugin) error {
	idx := newIndex(plugin.Files)

	var (
		errs     []error
		packages = map[protogen.GoImportPath]*outputPackage{}
		order    []*outputPackage
	)
	for _, file := range plugin.Files {
		if !file.Generate {
			continue
		}
		services, err := readFile(file, idx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(services) == 0 {
			continue
		}
		out := outputPackageOf(file)
		pkg, ok := packages[out.path]
		if !ok {
			pkg = out
			packages[out.path] = pkg
			order = append(order, pkg)
		}
		pkg.files = append(pkg.files, &actorFile{file: file, services: services, pkg: pkg})
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	for _, pkg := range order {
		if err := pkg.assignNames(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	for _, pkg := range order {
		for _, af := range pkg.files {
			if err := writeFile(plugin, idx, af); err != nil {
				return err
			}
		}
	}
	return nil
}

// outputPackage is one generated Go package, the sibling of the package
// protoc-gen-go writes: counterv1actor next to counterv1. Every .proto file of
// one Go package writes its actor file into the same output package, so names
// are computed across all of them.
type outputPackage struct {
	path  protogen.GoImportPath
	name  string
	files []*actorFile
	// topLevel holds every identifier declared at package level across the
	// package's files; import names must avoid them.
	topLevel map[string]bool
}

// actorFile is one .proto file with at least one actor service.
type actorFile struct {
	file     *protogen.File
	services []*actorService
	pkg      *outputPackage
}

func outputPackageOf(file *protogen.File) *outputPackage {
	name := string(file.GoPackageName) + "actor"
	return &outputPackage{
		path: protogen.GoImportPath(path.Join(string(file.GoImportPath), name)),
		name: name,
	}
}

// filename is where the file's actor code goes: the output package's
// directory, the .proto file's base name, suffix .actor.go. protogen turns it
// into the final path according to the paths= and module= parameters.
func (af *actorFile) filename() string {
	prefix := af.file.GeneratedFilenamePrefix
	return path.Join(path.Dir(prefix), af.pkg.name, path.Base(prefix)+".actor.go")
}
