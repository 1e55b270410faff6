package main

import (
	"context"
	"io"
	"strconv"
)

const summaryDoc = `Counts the actors of a cluster by class and state, dead ones included.
--filter takes the keys of troupe list actors.

`

// classSummary counts one class's actors by state.
type classSummary struct {
	Class           string `json:"class"`
	Total           int    `json:"total"`
	PendingCreation int    `json:"pending_creation"`
	Alive           int    `json:"alive"`
	Restarting      int    `json:"restarting"`
	Dead            int    `json:"dead"`
}

func runSummary(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("summary", "actors [flags]", summaryDoc+clusterFlagsDoc, stdout)
	cf := clusterFlags{stderr: stderr}
	cf.register(fs, true)
	f := filters{}
	fs.Var(f, "filter", "count only the actors whose column equals a value, `k=v`; repeatable")
	pos, err := fs.parseWithArgs(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (pos[0] != "actors" && pos[0] != "actor") {
		return usagef("want actors (see troupe help summary)")
	}
	if err := cf.check("summary"); err != nil {
		return err
	}
	keys, err := f.normalize(actorFilterKeys)
	if err != nil {
		return err
	}
	head, ctx, cancel, err := cf.head(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	rows, err := listActors(ctx, head, keys)
	if err != nil {
		return cf.explain(err)
	}
	// Classes in the order their first actor was created.
	var out []*classSummary
	byClass := map[string]*classSummary{}
	for _, r := range rows {
		s := byClass[r.Class]
		if s == nil {
			s = &classSummary{Class: r.Class}
			byClass[r.Class] = s
			out = append(out, s)
		}
		s.Total++
		switch r.State {
		case "PENDING_CREATION":
			s.PendingCreation++
		case "ALIVE":
			s.Alive++
		case "RESTARTING":
			s.Restarting++
		case "DEAD":
			s.Dead++
		}
	}
	if cf.format == "json" {
		if out == nil {
			out = []*classSummary{}
		}
		return writeJSON(stdout, out)
	}
	cells := make([][]string, 0, len(out))
	for _, s := range out {
		cells = append(cells, []string{s.Class, strconv.Itoa(s.Total), strconv.Itoa(s.PendingCreation),
			strconv.Itoa(s.Alive), strconv.Itoa(s.Restarting), strconv.Itoa(s.Dead)})
	}
	return table(stdout, []string{"CLASS", "TOTAL", "PENDING_CREATION", "ALIVE", "RESTARTING", "DEAD"}, cells)
}
