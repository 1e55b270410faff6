package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

const versionDoc = `Prints the version of the Troupe module this troupe was built from, and the
Go version that built it. A build inside the Troupe repository is (devel).

`

// troupeModule is the path of the Troupe Go module.
const troupeModule = "github.com/troupehq/troupe"

func runVersion(_ context.Context, stdout, _ io.Writer, args []string) error {
	fs := newFlagSet("version", "", versionDoc, stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintf(stdout, "troupe %s %s\n", moduleVersion(info), goVersion(info))
	return nil
}

// moduleVersion is the version of the Troupe module in a build: the main
// module's when troupe is built from it (go install ...@v1.2.3), the
// dependency's when another module builds it as a tool, "(devel)" when the
// build does not say.
func moduleVersion(info *debug.BuildInfo) string {
	if info == nil {
		return "(devel)"
	}
	v := ""
	if info.Main.Path == troupeModule {
		v = info.Main.Version
	}
	for _, dep := range info.Deps {
		if dep.Path == troupeModule {
			v = dep.Version
			if dep.Replace != nil {
				v += " => " + dep.Replace.Path
				if dep.Replace.Version != "" {
					v += " " + dep.Replace.Version
				}
			}
		}
	}
	if v == "" {
		return "(devel)"
	}
	return v
}

func goVersion(info *debug.BuildInfo) string {
	if info == nil {
		return ""
	}
	return info.GoVersion
}
