package actor

import (
	"context"
	"fmt"
	"time"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/control"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// PlacementStrategy is how a placement group lays its bundles on nodes:
// Pack, Spread, StrictPack or StrictSpread.
type PlacementStrategy interface {
	placementStrategy() actorv1.PlacementStrategy
}

type groupStrategy actorv1.PlacementStrategy

func (g groupStrategy) placementStrategy() actorv1.PlacementStrategy {
	return actorv1.PlacementStrategy(g)
}

// placementStrategy makes Spread, the actor scheduling strategy, also the
// placement group strategy SPREAD. Other Scheduling values are not
// placement strategies.
func (s Scheduling) placementStrategy() actorv1.PlacementStrategy {
	if s == Spread {
		return actorv1.PlacementStrategy_PLACEMENT_STRATEGY_SPREAD
	}
	return actorv1.PlacementStrategy_PLACEMENT_STRATEGY_UNSPECIFIED
}

var (
	// Pack puts a group's bundles on as few nodes as it can, best effort.
	// (Spread, used as a PlacementStrategy, puts them on distinct nodes as
	// far as it can.)
	Pack PlacementStrategy = groupStrategy(actorv1.PlacementStrategy_PLACEMENT_STRATEGY_PACK)
	// StrictPack puts every bundle of a group on one node.
	StrictPack PlacementStrategy = groupStrategy(actorv1.PlacementStrategy_PLACEMENT_STRATEGY_STRICT_PACK)
	// StrictSpread puts each bundle of a group on a different node.
	StrictSpread PlacementStrategy = groupStrategy(actorv1.PlacementStrategy_PLACEMENT_STRATEGY_STRICT_SPREAD)
)

// PlacementGroup reserves resources for a set of actors together: each
// bundle's resources are held on one node, and actors spawned with
// Spawner.PlacementGroup run in a bundle, on its node, drawing on its
// reservation rather than the node's free resources.
type PlacementGroup struct {
	sys     *System
	id      string
	bundles int
}

// ID returns the group's id.
func (pg *PlacementGroup) ID() string { return pg.id }

// Bundles returns the number of bundles.
func (pg *PlacementGroup) Bundles() int { return pg.bundles }

// PlacementGroupState is where a placement group is in its life: pending
// until every bundle is reserved on a node, then created.
type PlacementGroupState int

// The states of a placement group.
const (
	PlacementGroupPending PlacementGroupState = iota + 1
	PlacementGroupCreated
)

// String returns "PENDING" or "CREATED", as listings print them.
func (s PlacementGroupState) String() string {
	switch s {
	case PlacementGroupPending:
		return "PENDING"
	case PlacementGroupCreated:
		return "CREATED"
	}
	return fmt.Sprintf("PlacementGroupState(%d)", int(s))
}

// PlacementGroupInfo is a placement group's state.
type PlacementGroupInfo struct {
	ID string
	// State is PlacementGroupPending until every bundle is reserved, then
	// PlacementGroupCreated.
	State PlacementGroupState
	// PendingReason says why a PENDING group waits.
	PendingReason string
	// Nodes are the ids of the bundles' nodes, in bundle order, once
	// CREATED.
	Nodes []string
}

// CreatePlacementGroup reserves bundles of resources, such as
// {{"CPU": 1}, {"CPU": 1}}, on nodes by strategy. It returns at once: a
// group that cannot be placed now waits, with a reason, until nodes join
// or free resources (Ready waits for it). A group that no node could ever
// hold, as STRICT_SPREAD of two bundles on an embedded system's one node,
// fails at once with ErrInfeasible on an embedded system. The group lives
// until removed or, in a cluster, until its job ends.
func CreatePlacementGroup(ctx context.Context, sys *System, bundles []map[string]float64, strategy PlacementStrategy) (*PlacementGroup, error) {
	if err := sys.checkOpen(); err != nil {
		return nil, err
	}
	st := actorv1.PlacementStrategy_PLACEMENT_STRATEGY_UNSPECIFIED
	if strategy != nil {
		st = strategy.placementStrategy()
	}
	if st == actorv1.PlacementStrategy_PLACEMENT_STRATEGY_UNSPECIFIED {
		return nil, errs.Newf(errs.ErrInvalidOption, "placement strategy must be Pack, Spread, StrictPack or StrictSpread")
	}
	if err := control.CheckGroup(st, len(bundles)); err != nil {
		return nil, err
	}
	sets := make([]resources.Set, len(bundles))
	for i, b := range bundles {
		set, err := resources.FromFloat(b)
		if err != nil {
			return nil, errs.Newf(errs.ErrInvalidOption, "bundle %d: %v", i, err)
		}
		if len(set) == 0 {
			return nil, errs.Newf(errs.ErrInvalidOption, "bundle %d reserves nothing", i)
		}
		sets[i] = set
	}
	id, err := sys.plane.createGroup(ctx, sets, st)
	if err != nil {
		return nil, err
	}
	return &PlacementGroup{sys: sys, id: id, bundles: len(bundles)}, nil
}

// Info returns the group's state. A removed group is ErrActorNotFound.
func (pg *PlacementGroup) Info(ctx context.Context) (PlacementGroupInfo, error) {
	if err := pg.sys.checkOpen(); err != nil {
		return PlacementGroupInfo{}, err
	}
	return pg.sys.plane.groupInfo(ctx, pg.id)
}

// Ready waits until every bundle of the group is reserved on a node. When
// ctx ends first, the error says why the group still waits.
func (pg *PlacementGroup) Ready(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		info, err := pg.Info(ctx)
		if err != nil {
			return err
		}
		if info.State == PlacementGroupCreated {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("placement group %s is not ready (%s): %w", pg.id, info.PendingReason, ctx.Err())
		case <-t.C:
		}
	}
}

// RemovePlacementGroup frees the group's reservation and kills the actors
// placed in it, for good.
func RemovePlacementGroup(ctx context.Context, sys *System, pg *PlacementGroup) error {
	if err := sys.checkOpen(); err != nil {
		return err
	}
	if pg == nil {
		return errs.Newf(errs.ErrInvalidOption, "RemovePlacementGroup: nil placement group")
	}
	return sys.plane.removeGroup(ctx, pg.id)
}
