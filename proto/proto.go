// Package proto carries Troupe's protobuf definitions, the files under
// actor/v1, inside the Go module, so that a program built from any version of
// the module can write the exact protos that version was generated from.
//
// A user's protos import "actor/v1/options.proto" to declare actor classes.
// `troupe proto export DIR` (and `troupe init`) write these files into a
// directory of the user's buf workspace or protoc include path; no registry
// is needed. Their Go code is not generated again: it is package actorv1 in
// github.com/troupehq/troupe/gen/actor/v1, which their go_package names.
//
// The directory is also the buf module buf.build/troupehq/troupe (see the
// repository's buf.yaml).
package proto

import (
	"embed"
	"io/fs"
)

//go:embed actor/v1/*.proto
var files embed.FS

// FS returns the protos as a read-only file system whose paths are the
// import paths: "actor/v1/options.proto" and its siblings.
func FS() fs.FS { return files }
