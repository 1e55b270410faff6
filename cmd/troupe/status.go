package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
)

const statusDoc = `Shows the state of a cluster: each node with its resources, used out of
total, and the actors waiting for a node, with the reason each waits.

`

// clusterStatus is what troupe status prints.
type clusterStatus struct {
	Nodes   []nodeRow  `json:"nodes"`
	Pending []actorRow `json:"pending"`
}

func runStatus(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("status", "[flags]", statusDoc+clusterFlagsDoc, stdout)
	cf := clusterFlags{stderr: stderr}
	cf.register(fs, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cf.check("status"); err != nil {
		return err
	}
	head, ctx, cancel, err := cf.head(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	var st clusterStatus
	if st.Nodes, err = listNodes(ctx, head); err != nil {
		return cf.explain(err)
	}
	if st.Pending, err = listActors(ctx, head, map[string]string{"state": "PENDING_CREATION"}); err != nil {
		return cf.explain(err)
	}
	if cf.format == "json" {
		return writeJSON(stdout, st)
	}
	alive := 0
	cells := make([][]string, 0, len(st.Nodes))
	for _, n := range st.Nodes {
		if n.State == "ALIVE" {
			alive++
		}
		cells = append(cells, []string{n.NodeID, n.State, strconv.FormatBool(n.Head), orDash(n.resources())})
	}
	fmt.Fprintf(stdout, "Nodes: %d alive, %d in all\n", alive, len(st.Nodes))
	if err := table(stdout, []string{"NODE_ID", "STATE", "HEAD", "RESOURCES (used/total)"}, cells); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nPending actors: %d\n", len(st.Pending))
	if len(st.Pending) == 0 {
		return nil
	}
	cells = cells[:0]
	for _, r := range st.Pending {
		cells = append(cells, []string{r.ActorID, r.Class, orDash(r.Name), orDash(resourceList(r.Resources)), orDash(r.PendingReason)})
	}
	return table(stdout, []string{"ACTOR_ID", "CLASS", "NAME", "REQUIRES", "REASON"}, cells)
}
