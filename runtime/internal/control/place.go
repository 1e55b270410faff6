package control

import (
	"fmt"
	"sort"
	"strings"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// Candidate is a live node as placement sees it. The embedded control
// plane and the cluster's head both describe their nodes this way and
// share Choose.
type Candidate struct {
	ID     string
	Hosts  bool // the node's binary registered the actor's class
	Labels map[string]string
	Total  resources.Set
	Avail  resources.Set
	Load   int // live actors on the node, for DEFAULT
}

// Choose picks the node for an actor of class with spec among live nodes
// (in a stable order), and returns its index. With none, index is -1,
// reason says why and feasible whether one of the nodes could ever host
// the actor (it only lacks free resources now). next is the round robin of
// SPREAD, advanced on each SPREAD placement.
//
// Rules: only nodes that host the class, match the label selector and the
// accelerator type, and whose total fits the request are candidates. A
// hard node affinity keeps only that node; a soft one prefers it when it
// has room. DEFAULT takes the least loaded candidate with room (the first
// on ties); SPREAD takes candidates with room in turn.
func Choose(nodes []Candidate, class string, spec *node.Spec, next *int) (index int, reason string, feasible bool) {
	hard := spec.NodeAffinity != "" && !spec.AffinitySoft
	var candidates []int
	var why []string
	for i, n := range nodes {
		switch {
		case hard && n.ID != spec.NodeAffinity:
		case !n.Hosts:
			why = append(why, fmt.Sprintf("node %s does not host class %s", n.ID, class))
		case !labelsMatch(n.Labels, spec.LabelSelector):
			why = append(why, fmt.Sprintf("node %s does not match labels %v", n.ID, spec.LabelSelector))
		case spec.AcceleratorType != "" && n.Labels["accelerator_type"] != spec.AcceleratorType:
			why = append(why, fmt.Sprintf("node %s has no accelerator %s", n.ID, spec.AcceleratorType))
		case !n.Total.Fits(spec.Resources):
			why = append(why, fmt.Sprintf("no node has %s", n.Total.Shortfall(spec.Resources)))
		default:
			candidates = append(candidates, i)
		}
	}
	if len(candidates) == 0 {
		if hard {
			if len(why) > 0 {
				return -1, strings.Join(dedupe(why), "; "), false
			}
			return -1, fmt.Sprintf("node %s is not alive", spec.NodeAffinity), false
		}
		if len(why) == 0 {
			why = append(why, "no node is alive")
		}
		return -1, strings.Join(dedupe(why), "; "), false
	}
	if spec.NodeAffinity != "" {
		for _, i := range candidates {
			if nodes[i].ID == spec.NodeAffinity && nodes[i].Avail.Fits(spec.Resources) {
				return i, "", true
			}
		}
	}
	var fits []int
	for _, i := range candidates {
		if nodes[i].Avail.Fits(spec.Resources) {
			fits = append(fits, i)
		}
	}
	if len(fits) == 0 {
		var short []string
		for _, i := range candidates {
			short = append(short, fmt.Sprintf("node %s has %s free", nodes[i].ID, nodes[i].Avail.Shortfall(spec.Resources)))
		}
		return -1, "waiting for resources: " + strings.Join(short, "; "), true
	}
	if spec.Scheduling == actorv1.SchedulingStrategy_SCHEDULING_STRATEGY_SPREAD && len(fits) > 1 {
		*next++
		return fits[*next%len(fits)], "", true
	}
	best := fits[0]
	for _, i := range fits[1:] {
		if nodes[i].Load < nodes[best].Load {
			best = i
		}
	}
	return best, "", true
}

func labelsMatch(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
