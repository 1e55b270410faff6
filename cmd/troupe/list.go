package main

import (
	"context"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
)

const listDoc = `Lists the actors, nodes or jobs of a cluster, oldest actors first, nodes and
jobs by id. Dead actors, dead nodes and ended jobs are listed too.

Columns:
  actors  ACTOR_ID CLASS STATE JOB NAME NODE PID NAMESPACE, and with --detail
          RESOURCES RESTARTS DEATH_CAUSE DETACHED PENDING_REASON
  nodes   NODE_ID ADDRESS STATE HEAD PID RESOURCES (used/total) LABELS
  jobs    JOB_ID NAMESPACE STATE PID

--filter k=v keeps the rows whose column k equals v; repeat it to keep rows
matching all. Keys: actors id, class, state, job, name, node, namespace;
nodes id, address, state, head; jobs id, namespace, state. States match in
any case (state=alive). --format json prints an array of objects with
lower_snake keys; for actors it carries the detail columns too.

`

func runList(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("list", "actors|nodes|jobs [flags]", listDoc+clusterFlagsDoc, stdout)
	cf := clusterFlags{stderr: stderr}
	cf.register(fs, true)
	f := filters{}
	fs.Var(f, "filter", "keep rows whose column equals a value, `k=v`; repeatable")
	detail := fs.Bool("detail", false, "actors: add the detail columns")
	pos, err := fs.parseWithArgs(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one of actors, nodes or jobs (see troupe help list)")
	}
	if err := cf.check("list"); err != nil {
		return err
	}
	var list func(context.Context, actorv1connect.HeadServiceClient) error
	switch pos[0] {
	case "actors", "actor":
		keys, err := f.normalize(actorFilterKeys)
		if err != nil {
			return err
		}
		list = func(ctx context.Context, head actorv1connect.HeadServiceClient) error {
			rows, err := listActors(ctx, head, keys)
			if err != nil {
				return err
			}
			return printActors(stdout, cf.format, rows, *detail)
		}
	case "nodes", "node":
		keys, err := f.normalize(nodeFilterKeys)
		if err != nil {
			return err
		}
		list = func(ctx context.Context, head actorv1connect.HeadServiceClient) error {
			rows, err := listNodes(ctx, head)
			if err != nil {
				return err
			}
			rows = slices.DeleteFunc(rows, func(r nodeRow) bool { return !r.matches(keys) })
			return printNodes(stdout, cf.format, rows)
		}
	case "jobs", "job":
		keys, err := f.normalize(jobFilterKeys)
		if err != nil {
			return err
		}
		list = func(ctx context.Context, head actorv1connect.HeadServiceClient) error {
			rows, err := listJobs(ctx, head)
			if err != nil {
				return err
			}
			rows = slices.DeleteFunc(rows, func(r jobRow) bool { return !r.matches(keys) })
			return printJobs(stdout, cf.format, rows)
		}
	default:
		return usagef("list %q: want actors, nodes or jobs", pos[0])
	}
	head, ctx, cancel, err := cf.head(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	return cf.explain(list(ctx, head))
}

func printActors(w io.Writer, format string, rows []actorRow, detail bool) error {
	if format == "json" {
		return writeJSON(w, rows)
	}
	header := actorColumns
	if detail {
		header = append(slices.Clone(header), actorDetailColumns...)
	}
	cells := make([][]string, 0, len(rows))
	for _, r := range rows {
		cells = append(cells, r.cells(detail))
	}
	return table(w, header, cells)
}

// held is how much of a resource is held out of how much there is.
type held struct {
	Used  float64 `json:"used"`
	Total float64 `json:"total"`
}

// nodeRow is a node as troupe prints it.
type nodeRow struct {
	NodeID    string            `json:"node_id"`
	Address   string            `json:"address"`
	State     string            `json:"state"`
	Head      bool              `json:"head"`
	PID       int64             `json:"pid"`
	Resources map[string]held   `json:"resources"`
	Labels    map[string]string `json:"labels"`
	Classes   []string          `json:"classes"`
}

var nodeFilterKeys = map[string]string{"id": "id", "node_id": "id", "node": "id", "address": "address", "state": "state", "head": "head"}

func newNodeRow(n *actorv1.NodeInfo) nodeRow {
	r := nodeRow{
		NodeID: n.GetNodeId(), Address: n.GetAddress(), State: stateName(n.GetState(), "NODE_STATE_"),
		Head: n.GetIsHead(), PID: n.GetPid(), Resources: map[string]held{}, Labels: n.GetLabels(), Classes: n.GetClasses(),
	}
	alive := n.GetState() == actorv1.NodeState_NODE_STATE_ALIVE || n.GetState() == actorv1.NodeState_NODE_STATE_DRAINING
	for k, total := range n.GetTotal() {
		u := held{Total: total}
		if alive {
			u.Used = total - n.GetAvailable()[k]
		}
		r.Resources[k] = u
	}
	if r.Labels == nil {
		r.Labels = map[string]string{}
	}
	if r.Classes == nil {
		r.Classes = []string{}
	}
	return r
}

func (r nodeRow) matches(keys map[string]string) bool {
	for k, v := range keys {
		got := map[string]string{"id": r.NodeID, "address": r.Address, "state": r.State, "head": strconv.FormatBool(r.Head)}[k]
		if got != v {
			return false
		}
	}
	return true
}

// resources formats the node's resources as "CPU 1/2, writer_node 0/1",
// leaving out those the node has none of.
func (r nodeRow) resources() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.Resources)) {
		u := r.Resources[k]
		if u.Total == 0 && u.Used == 0 {
			continue
		}
		used := amount(k, u.Used)
		if r.State != "ALIVE" {
			used = "-"
		}
		parts = append(parts, k+" "+used+"/"+amount(k, u.Total))
	}
	return strings.Join(parts, ", ")
}

func (r nodeRow) labels() string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(r.Labels)) {
		kv = append(kv, k+"="+r.Labels[k])
	}
	return strings.Join(kv, ",")
}

func listNodes(ctx context.Context, head actorv1connect.HeadServiceClient) ([]nodeRow, error) {
	res, err := head.ListNodes(ctx, connect.NewRequest(&actorv1.ListNodesRequest{}))
	if err != nil {
		return nil, err
	}
	rows := make([]nodeRow, 0, len(res.Msg.GetNodes()))
	for _, n := range res.Msg.GetNodes() {
		rows = append(rows, newNodeRow(n))
	}
	return rows, nil
}

func printNodes(w io.Writer, format string, rows []nodeRow) error {
	if format == "json" {
		return writeJSON(w, rows)
	}
	cells := make([][]string, 0, len(rows))
	for _, r := range rows {
		cells = append(cells, []string{r.NodeID, r.Address, r.State, strconv.FormatBool(r.Head), pidCell(r.PID), orDash(r.resources()), orDash(r.labels())})
	}
	return table(w, []string{"NODE_ID", "ADDRESS", "STATE", "HEAD", "PID", "RESOURCES", "LABELS"}, cells)
}

// jobRow is a job as troupe prints it.
type jobRow struct {
	JobID     string `json:"job_id"`
	Namespace string `json:"namespace"`
	State     string `json:"state"`
	PID       int64  `json:"pid"`
}

var jobFilterKeys = map[string]string{"id": "id", "job_id": "id", "job": "id", "namespace": "namespace", "state": "state"}

func (r jobRow) matches(keys map[string]string) bool {
	for k, v := range keys {
		got := map[string]string{"id": r.JobID, "namespace": r.Namespace, "state": r.State}[k]
		if got != v {
			return false
		}
	}
	return true
}

func listJobs(ctx context.Context, head actorv1connect.HeadServiceClient) ([]jobRow, error) {
	res, err := head.ListJobs(ctx, connect.NewRequest(&actorv1.ListJobsRequest{}))
	if err != nil {
		return nil, err
	}
	rows := make([]jobRow, 0, len(res.Msg.GetJobs()))
	for _, j := range res.Msg.GetJobs() {
		rows = append(rows, jobRow{JobID: j.GetJobId(), Namespace: j.GetNamespace(), State: stateName(j.GetState(), "JOB_STATE_"), PID: j.GetPid()})
	}
	return rows, nil
}

func printJobs(w io.Writer, format string, rows []jobRow) error {
	if format == "json" {
		return writeJSON(w, rows)
	}
	cells := make([][]string, 0, len(rows))
	for _, r := range rows {
		cells = append(cells, []string{r.JobID, r.Namespace, r.State, pidCell(r.PID)})
	}
	return table(w, []string{"JOB_ID", "NAMESPACE", "STATE", "PID"}, cells)
}
