package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	troupeproto "github.com/troupehq/troupe/proto"
)

const protoDoc = `Writes Troupe's protos (actor/v1/options.proto and the files beside it),
the ones this troupe was built with, under DIR, so that protos of your own
can import "actor/v1/options.proto" without a registry: make DIR a module of
your buf workspace (buf.yaml), or pass it to protoc with -I. Files already
there are replaced; run it again after upgrading Troupe.

Do not generate Go code for them: it is package actorv1 in
github.com/troupehq/troupe/gen/actor/v1, which their go_package names and
the generated actor code imports. With buf, generate only your own module
(troupe init writes such a buf.gen.yaml).

`

func runProto(_ context.Context, stdout, _ io.Writer, args []string) error {
	fs := newFlagSet("proto", "export DIR", protoDoc, stdout)
	pos, err := fs.parseWithArgs(args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || pos[0] != "export" {
		return usagef("want export DIR (see troupe help proto)")
	}
	names, err := exportProtos(pos[1])
	if err != nil {
		return err
	}
	for _, name := range names {
		fmt.Fprintln(stdout, filepath.Join(pos[1], name))
	}
	return nil
}

// exportProtos writes the embedded protos under dir, creating directories as
// needed, and returns the paths it wrote relative to dir.
func exportProtos(dir string) ([]string, error) {
	if dir == "" {
		return nil, usagef("the directory is empty")
	}
	var names []string
	err := fs.WalkDir(troupeproto.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(troupeproto.FS(), name)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
		names = append(names, filepath.FromSlash(name))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export protos: %w", err)
	}
	return names, nil
}
