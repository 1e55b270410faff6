package actor

import (
	"context"
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
	return s.plane.listNodes(ctx)
}

// ListJobs lists the jobs of the system's cluster, sorted by id, ended
// ones included. An embedded system is one job, its own.
func (s *System) ListJobs(ctx context.Context) ([]JobInfo, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	return s.plane.listJobs(ctx)
}
