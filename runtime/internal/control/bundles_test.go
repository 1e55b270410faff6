package control_test

import (
	"errors"
	"log/slog"
	"slices"
	"testing"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/control"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

func TestPlaceBundles(t *testing.T) {
	cpu := func(n float64) resources.Set { return set(t, map[string]float64{"CPU": n}) }
	nodes := []control.Candidate{
		{ID: "a", Total: cpu(4), Avail: cpu(1)},
		{ID: "b", Total: cpu(4), Avail: cpu(3)},
		{ID: "c", Total: cpu(1), Avail: cpu(1)},
	}
	two := []resources.Set{cpu(1), cpu(1)}
	const (
		pack         = actorv1.PlacementStrategy_PLACEMENT_STRATEGY_PACK
		spread       = actorv1.PlacementStrategy_PLACEMENT_STRATEGY_SPREAD
		strictPack   = actorv1.PlacementStrategy_PLACEMENT_STRATEGY_STRICT_PACK
		strictSpread = actorv1.PlacementStrategy_PLACEMENT_STRATEGY_STRICT_SPREAD
	)
	for _, tc := range []struct {
		name     string
		bundles  []resources.Set
		placed   []string
		strategy actorv1.PlacementStrategy
		want     []int
		feasible bool
	}{
		{"strict pack on the node with room for both", two, nil, strictPack, []int{1, 1}, true},
		{"strict spread on distinct nodes", two, nil, strictSpread, []int{0, 1}, true},
		{"pack puts all on one node when one has room", two, nil, pack, []int{1, 1}, true},
		{"pack falls back to several nodes", []resources.Set{cpu(3), cpu(1)}, nil, pack, []int{1, 0}, true},
		{"spread prefers unused nodes", []resources.Set{cpu(1), cpu(1), cpu(1)}, nil, spread, []int{0, 1, 2}, true},
		{"strict pack too big for any free pool waits", []resources.Set{cpu(2), cpu(2)}, nil, strictPack, nil, true},
		{"strict pack bigger than any node never fits", []resources.Set{cpu(3), cpu(3)}, nil, strictPack, nil, false},
		{"strict spread over more bundles than nodes never fits", []resources.Set{cpu(1), cpu(1), cpu(1), cpu(1)}, nil, strictSpread, nil, false},
		{"a lost bundle goes to a node the others do not use", two, []string{"b", ""}, strictSpread, []int{1, 0}, true},
		{"a lost bundle joins the others' node", two, []string{"", "b"}, strictPack, []int{1, 1}, true},
	} {
		got, reason, feasible := control.PlaceBundles(nodes, tc.bundles, tc.placed, tc.strategy)
		if !slices.Equal(got, tc.want) || feasible != tc.feasible || (got == nil) != (reason != "") {
			t.Errorf("%s: got %v, %q, %v; want %v, feasible %v", tc.name, got, reason, feasible, tc.want, tc.feasible)
		}
	}
	// On one node STRICT_SPREAD of two bundles can never fit.
	if got, _, feasible := control.PlaceBundles(nodes[:1], two, nil, strictSpread); got != nil || feasible {
		t.Errorf("STRICT_SPREAD of 2 on one node: %v, feasible %v", got, feasible)
	}
}

// A strategy the runtime does not know is an invalid argument, not a
// placement that never happens.
func TestUnknownPlacementStrategyIsInvalid(t *testing.T) {
	c := control.New(slog.New(slog.DiscardHandler), true, func() string { return "g" })
	bundles := []resources.Set{set(t, map[string]float64{"CPU": 1})}
	for _, s := range []actorv1.PlacementStrategy{actorv1.PlacementStrategy_PLACEMENT_STRATEGY_UNSPECIFIED, 99} {
		if _, err := c.CreateGroup(bundles, s); !errors.Is(err, errs.ErrInvalidOption) || connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("CreateGroup with strategy %d: %v, want invalid_argument", s, err)
		}
	}
}
