package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/troupehq/troupe/runtime/actor"
)

const getDoc = `Shows one actor with every column, found by its id, or by its name in
--namespace: the live actor bound to the name, else the newest actor that
had it.

`

func runGet(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("get", "actor ID|NAME [flags]", getDoc+clusterFlagsDoc, stdout)
	cf := clusterFlags{stderr: stderr}
	cf.register(fs, true)
	namespace := fs.String("namespace", actor.DefaultNamespace, "the `namespace` of the name")
	pos, err := fs.parseWithArgs(args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || pos[0] != "actor" {
		return usagef("want actor ID|NAME (see troupe help get)")
	}
	if err := cf.check("get"); err != nil {
		return err
	}
	head, ctx, cancel, err := cf.head(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	in, err := findActor(ctx, head, pos[1], *namespace)
	if err != nil {
		return cf.explain(err)
	}
	r := newActorRow(in)
	if cf.format == "json" {
		return writeJSON(stdout, r)
	}
	// One actor reads best as a column of names and values.
	names := append(append([]string{}, actorColumns...), actorDetailColumns...)
	values := r.cells(true)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for i := range names {
		fmt.Fprintf(tw, "%s\t%s\n", names[i], printable(values[i]))
	}
	return tw.Flush()
}
