package actor

import (
	"context"
	"os"
	"strings"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
)

// NodeInfo is one row of ListNodes: a node and its resources.
type NodeInfo struct {
	ID      string
	Address string // "HOST:PORT" others call it at; empty for an embedded node
	State   string // "ALIVE" or "DEAD"
	Head    bool   // the head's own node, or an embedded node
	PID     int
	// Total is what the node declares; Available what no actor holds
	// (empty for a dead node).
	Total     map[string]float64
	Available map[string]float64
	Labels    map[string]string
	Classes   []string // the actor classes the node's binary registered
}

// JobInfo is one row of ListJobs: one driver.
type JobInfo struct {
	ID        string
	Namespace string
	State     string // "RUNNING" or "ENDED"
	PID       int
}

// ListNodes lists the nodes of the system's cluster, sorted by id. An
// embedded system has one node, its own.
func (s *System) ListNodes(ctx context.Context) ([]NodeInfo, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if s.cluster != nil {
		res, err := s.cluster.client.Head.ListNodes(ctx, connect.NewRequest(&actorv1.ListNodesRequest{}))
		if err != nil {
			return nil, err
		}
		out := make([]NodeInfo, 0, len(res.Msg.GetNodes()))
		for _, n := range res.Msg.GetNodes() {
			out = append(out, NodeInfo{
				ID: n.GetNodeId(), Address: n.GetAddress(),
				State: strings.TrimPrefix(n.GetState().String(), "NODE_STATE_"),
				Head:  n.GetIsHead(), PID: int(n.GetPid()),
				Total: n.GetTotal(), Available: n.GetAvailable(), Labels: n.GetLabels(), Classes: n.GetClasses(),
			})
		}
		return out, nil
	}
	pid := os.Getpid()
	var out []NodeInfo
	for _, n := range s.ctrl.Nodes() {
		out = append(out, NodeInfo{
			ID: n.ID, State: "ALIVE", Head: true, PID: pid,
			Total: n.Total, Available: n.Free, Labels: n.Labels, Classes: n.Classes,
		})
	}
	return out, nil
}

// ListJobs lists the jobs of the system's cluster, sorted by id, ended
// ones included. An embedded system is one job, its own.
func (s *System) ListJobs(ctx context.Context) ([]JobInfo, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if s.cluster != nil {
		res, err := s.cluster.client.Head.ListJobs(ctx, connect.NewRequest(&actorv1.ListJobsRequest{}))
		if err != nil {
			return nil, err
		}
		out := make([]JobInfo, 0, len(res.Msg.GetJobs()))
		for _, j := range res.Msg.GetJobs() {
			out = append(out, JobInfo{
				ID: j.GetJobId(), Namespace: j.GetNamespace(),
				State: strings.TrimPrefix(j.GetState().String(), "JOB_STATE_"), PID: int(j.GetPid()),
			})
		}
		return out, nil
	}
	return []JobInfo{{ID: s.job, Namespace: s.namespace, State: "RUNNING", PID: os.Getpid()}}, nil
}
