// Command protoc-gen-actor is a protoc and buf plugin that turns protobuf
// services carrying the (actor.v1.actor) option into Troupe actor classes.
//
// For every .proto file with at least one actor service it writes one file,
// <name>.actor.go, into a package next to the one protoc-gen-go writes: for
// go_package "example.com/counter/v1;counterv1" the output is package
// counterv1actor in example.com/counter/v1/counterv1actor. Per actor service
// Counter it holds the CounterActor interface the user implements,
// RegisterCounter, the typed CounterHandle, the CounterOptions spawn builder,
// GetCounter and CounterFromRef. Files without actor services produce no
// output.
//
// The plugin takes the standard protogen parameters (module=, paths=, M...)
// and no others. It checks the actor options when it generates: a bad option
// or a streaming rpc fails the run with a message naming the file, the service
// and the option.
//
// With buf:
//
//	plugins:
//	  - local: protoc-gen-actor
//	    out: .
//	    opt: module=example.com
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/troupehq/troupe/protoc-gen-actor/internal/gen"
)

func main() {
	if len(os.Args) == 2 && (os.Args[1] == "--version" || os.Args[1] == "-version") {
		fmt.Fprintf(os.Stdout, "%s %s\n", filepath.Base(os.Args[0]), version())
		os.Exit(0)
	}
	if len(os.Args) > 1 {
		fmt.Fprintf(os.Stderr, "%s reads a CodeGeneratorRequest on stdin; run it through protoc or buf, or pass --version\n", filepath.Base(os.Args[0]))
		os.Exit(2)
	}
	protogen.Options{
		ParamFunc: func(name, value string) error {
			return fmt.Errorf("unknown parameter %q", name)
		},
	}.Run(func(plugin *protogen.Plugin) error {
		plugin.SupportedFeatures = uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL |
			pluginpb.CodeGeneratorResponse_FEATURE_SUPPORTS_EDITIONS)
		// The plugin reads only services, methods and their options, which
		// every edition spells the same way.
		plugin.SupportedEditionsMinimum = descriptorpb.Edition_EDITION_PROTO2
		plugin.SupportedEditionsMaximum = descriptorpb.Edition_EDITION_2024
		return gen.Generate(plugin)
	})
}

// version is the module version the binary was built from, or "(devel)" for
// a build inside the Troupe repository.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" {
		return "(devel)"
	}
	return info.Main.Version
}
