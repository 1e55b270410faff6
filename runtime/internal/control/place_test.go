package control_test

import (
	"strings"
	"testing"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/control"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

func set(t *testing.T, m map[string]float64) resources.Set {
	t.Helper()
	s, err := resources.FromFloat(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestChoose(t *testing.T) {
	cpu2 := func() resources.Set { return set(t, map[string]float64{"CPU": 2}) }
	nodes := []control.Candidate{
		{ID: "a", Hosts: true, Total: cpu2(), Avail: set(t, map[string]float64{"CPU": 0.5}), Load: 3},
		{ID: "b", Hosts: true, Labels: map[string]string{"zone": "x"}, Total: cpu2(), Avail: cpu2(), Load: 1},
		{ID: "c", Hosts: false, Total: cpu2(), Avail: cpu2()},
		{ID: "d", Hosts: true, Total: set(t, map[string]float64{"CPU": 2, "writer": 1}), Avail: set(t, map[string]float64{"CPU": 2, "writer": 1}), Load: 2},
	}
	one := set(t, map[string]float64{"CPU": 1})
	var next int
	cases := []struct {
		name     string
		spec     node.Spec
		want     string // node id, or "" for none
		feasible bool
		reason   string
	}{
		{"default takes the least loaded node with room", node.Spec{Resources: one}, "b", true, ""},
		{"custom resource", node.Spec{Resources: set(t, map[string]float64{"writer": 1})}, "d", true, ""},
		{"label selector", node.Spec{LabelSelector: map[string]string{"zone": "x"}}, "b", true, ""},
		{"hard affinity", node.Spec{NodeAffinity: "d"}, "d", true, ""},
		{"hard affinity to a node without room waits", node.Spec{NodeAffinity: "a", Resources: one}, "", true, "waiting for resources"},
		{"hard affinity to an unknown node", node.Spec{NodeAffinity: "zz"}, "", false, "not alive"},
		{"hard affinity to a node without the class", node.Spec{NodeAffinity: "c"}, "", false, "does not host"},
		{"soft affinity falls back", node.Spec{NodeAffinity: "zz", AffinitySoft: true, Resources: one}, "b", true, ""},
		{"infeasible", node.Spec{Resources: set(t, map[string]float64{"GPU": 1})}, "", false, "GPU"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			i, reason, feasible := control.Choose(nodes, "k", &tc.spec, &next)
			got := ""
			if i >= 0 {
				got = nodes[i].ID
			}
			if got != tc.want || feasible != tc.feasible || !strings.Contains(reason, tc.reason) {
				t.Fatalf("Choose = %q, %q, %v; want %q, feasible %v, reason containing %q", got, reason, feasible, tc.want, tc.feasible, tc.reason)
			}
		})
	}
	spread := node.Spec{Scheduling: actorv1.SchedulingStrategy_SCHEDULING_STRATEGY_SPREAD}
	counts := map[string]int{}
	for range 6 {
		i, _, _ := control.Choose(nodes, "k", &spread, &next)
		counts[nodes[i].ID]++
	}
	if counts["a"] != 2 || counts["b"] != 2 || counts["d"] != 2 {
		t.Fatalf("SPREAD over three nodes with room placed %v, want 2 each", counts)
	}
}
