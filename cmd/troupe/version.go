package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

const versionDoc = `Prints the version of the Troupe module this troupe was built from, and the
Go version that built it: v1.2.3 after go install ...@v1.2.3, the version in
go.mod when a module runs it as a tool, (devel) for a build inside the Troupe
repository. A replaced module is shown with its replacement.

`

func runVersion(_ context.Context, stdout, _ io.Writer, args []string) error {
	fs := newFlagSet("version", "", versionDoc, stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	goVersion := ""
	if info != nil {
		goVersion = " " + info.GoVersion
	}
	fmt.Fprintf(stdout, "troupe %s%s\n", moduleVersion(info), goVersion)
	return nil
}

// moduleVersion is the version of the module that holds the main package,
// Troupe's, as the build recorded it.
func moduleVersion(info *debug.BuildInfo) string {
	if info == nil || info.Main.Version == "" {
		return "(devel)"
	}
	v := info.Main.Version
	if r := info.Main.Replace; r != nil {
		v += " => " + r.Path
		if r.Version != "" && r.Version != "(devel)" {
			v += " " + r.Version
		}
	}
	return v
}
