package control

import (
	"fmt"
	"strings"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// PlaceBundles lays the bundles of a placement group on nodes (in a stable
// order) by strategy, and returns for each bundle the index of its node.
// placed[i] names the node bundle i already holds, "" when it waits: those
// stay where they are and only the others are placed, against the nodes'
// free resources. With no way to place them all now, assign is nil, reason
// says why and feasible whether the nodes' totals could ever hold them.
//
// STRICT_PACK puts every bundle on one node, STRICT_SPREAD each on a
// different node; PACK prefers nodes the group already uses and SPREAD
// nodes it does not, each falling back to any node with room.
func PlaceBundles(nodes []Candidate, bundles []resources.Set, placed []string, strategy actorv1.PlacementStrategy) (assign []int, reason string, feasible bool) {
	free := make([]resources.Set, len(nodes))
	total := make([]resources.Set, len(nodes))
	for i, n := range nodes {
		free[i], total[i] = n.Avail.Clone(), n.Total.Clone()
	}
	assign = make([]int, len(bundles))
	for b := range bundles {
		assign[b] = -1
		if b < len(placed) && placed[b] != "" {
			for i, n := range nodes {
				if n.ID == placed[b] {
					assign[b] = i
				}
			}
			if assign[b] < 0 {
				return nil, fmt.Sprintf("bundle %d holds node %s, which is not alive", b, placed[b]), false
			}
			// Its node's total no longer has room for what it holds.
			total[assign[b]].Sub(bundles[b])
		}
	}
	if ok, _ := layBundles(total, bundles, cloneInts(assign), strategy); !ok {
		return nil, "no set of nodes could ever hold the bundles " + describe(bundles, strategy), false
	}
	got := cloneInts(assign)
	if ok, why := layBundles(free, bundles, got, strategy); !ok {
		return nil, "waiting for resources: " + why, true
	}
	return got, "", true
}

func cloneInts(a []int) []int { return append([]int(nil), a...) }

func cloneSets(s []resources.Set) []resources.Set {
	out := make([]resources.Set, len(s))
	for i, v := range s {
		out[i] = v.Clone()
	}
	return out
}

// layBundles assigns the bundles whose assign is -1 to nodes whose room
// fits them, taking that room. It reports whether all found one.
func layBundles(room []resources.Set, bundles []resources.Set, assign []int, strategy actorv1.PlacementStrategy) (bool, string) {
	used := map[int]bool{}
	for _, i := range assign {
		if i >= 0 {
			used[i] = true
		}
	}
	var todo []int
	for b, i := range assign {
		if i < 0 {
			todo = append(todo, b)
		}
	}
	if len(todo) == 0 {
		return true, ""
	}
	switch strategy {
	case actorv1.PlacementStrategy_PLACEMENT_STRATEGY_STRICT_PACK:
		sum := resources.Set{}
		for _, b := range todo {
			sum.Add(bundles[b])
		}
		for i := range room {
			if len(used) > 0 && !used[i] {
				continue
			}
			if room[i].Fits(sum) {
				room[i].Sub(sum)
				for _, b := range todo {
					assign[b] = i
				}
				return true, ""
			}
		}
		return false, fmt.Sprintf("no node has %s free for all the bundles together", sum)
	case actorv1.PlacementStrategy_PLACEMENT_STRATEGY_STRICT_SPREAD:
		for _, b := range todo {
			found := -1
			for i := range room {
				if !used[i] && room[i].Fits(bundles[b]) {
					found = i
					break
				}
			}
			if found < 0 {
				return false, fmt.Sprintf("no further node has %s free for bundle %d apart from the other bundles", bundles[b], b)
			}
			room[found].Sub(bundles[b])
			used[found] = true
			assign[b] = found
		}
		return true, ""
	}
	spread := strategy == actorv1.PlacementStrategy_PLACEMENT_STRATEGY_SPREAD
	if !spread {
		// PACK: all on one node when some node has room for them.
		try, tryRoom := cloneInts(assign), cloneSets(room)
		if ok, _ := layBundles(tryRoom, bundles, try, actorv1.PlacementStrategy_PLACEMENT_STRATEGY_STRICT_PACK); ok {
			copy(assign, try)
			copy(room, tryRoom)
			return true, ""
		}
	}
	for _, b := range todo {
		found := -1
		for pass := 0; pass < 2 && found < 0; pass++ {
			// PACK looks first at the nodes the group uses, SPREAD first at
			// the others.
			prefer := (pass == 0) != spread
			for i := range room {
				if used[i] == prefer && room[i].Fits(bundles[b]) {
					found = i
					break
				}
			}
		}
		if found < 0 {
			return false, fmt.Sprintf("no node has %s free for bundle %d", bundles[b], b)
		}
		room[found].Sub(bundles[b])
		used[found] = true
		assign[b] = found
	}
	return true, ""
}

func describe(bundles []resources.Set, strategy actorv1.PlacementStrategy) string {
	parts := make([]string, len(bundles))
	for i, b := range bundles {
		parts[i] = b.String()
	}
	return strings.Join(parts, ", ") + " by " + strings.TrimPrefix(strategy.String(), "PLACEMENT_STRATEGY_")
}

// ValidStrategy reports whether s is one of the four strategies.
func ValidStrategy(s actorv1.PlacementStrategy) bool {
	return s >= actorv1.PlacementStrategy_PLACEMENT_STRATEGY_PACK && s <= actorv1.PlacementStrategy_PLACEMENT_STRATEGY_STRICT_SPREAD
}
