package actor_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

func TestListNodesAndJobsEmbedded(t *testing.T) {
	t.Parallel()
	sys := start(t, nil, actor.WithNodeID("solo"), actor.WithNumCPUs(4),
		actor.WithResources(map[string]float64{"writer_node": 1}), actor.WithLabels(map[string]string{"zone": "a"}),
		actor.WithNamespace("ops"))
	ctx := context.Background()
	spawn(t, sys, testv1actor.ProbeOptions().NumCPUs(1).Resources(map[string]float64{"writer_node": 1}), &testv1.ProbeInit{})

	nodes, err := sys.ListNodes(ctx)
	if err != nil || len(nodes) != 1 {
		t.Fatalf("ListNodes = %v, %v; want one node", nodes, err)
	}
	n := nodes[0]
	if n.ID != "solo" || n.State != "ALIVE" || !n.Head || n.PID != os.Getpid() || n.Labels["zone"] != "a" {
		t.Errorf("node %+v", n)
	}
	if n.Total["CPU"] != 4 || n.Available["CPU"] != 3 || n.Total["writer_node"] != 1 || n.Available["writer_node"] != 0 {
		t.Errorf("node resources: total %v, available %v; want CPU 3 of 4 and writer_node 0 of 1 free", n.Total, n.Available)
	}
	if !slices.Contains(n.Classes, "test.v1.Probe") {
		t.Errorf("node classes %v lack test.v1.Probe", n.Classes)
	}

	jobs, err := sys.ListJobs(ctx)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("ListJobs = %v, %v; want one job", jobs, err)
	}
	if j := jobs[0]; j.ID != sys.Job() || j.Namespace != "ops" || j.State != "RUNNING" || j.PID != os.Getpid() {
		t.Errorf("job %+v", j)
	}
}
