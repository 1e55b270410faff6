package control

import (
	"fmt"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// The rules of placement groups that the embedded control plane and the
// head share, each written once.

// CheckGroup is the rule for a request to create a placement group of n
// bundles by strategy.
func CheckGroup(strategy actorv1.PlacementStrategy, n int) error {
	if !ValidStrategy(strategy) {
		return errs.Newf(errs.ErrInvalidOption, "unknown placement strategy %v", strategy)
	}
	if n == 0 {
		return errs.Newf(errs.ErrInvalidOption, "a placement group needs at least one bundle")
	}
	return nil
}

// NeverInBundle says why an actor with spec can never be placed in its
// placement group's bundle: the group does not exist (bundles is nil), it
// has no such bundle, or the bundle is too small. It is "" when the
// bundle could hold the actor.
func NeverInBundle(spec *node.Spec, bundles []resources.Set) string {
	switch {
	case bundles == nil:
		return fmt.Sprintf("placement group %s does not exist (it may have been removed)", spec.PlacementGroup)
	case spec.Bundle >= len(bundles):
		return NoSuchBundle(spec.PlacementGroup, len(bundles), spec.Bundle)
	case !bundles[spec.Bundle].Fits(spec.Resources):
		return fmt.Sprintf("bundle %d of placement group %s has %s", spec.Bundle, spec.PlacementGroup, bundles[spec.Bundle].Shortfall(spec.Resources))
	}
	return ""
}

// NoSuchBundle is why a placement group of n bundles has no bundle b.
func NoSuchBundle(group string, n, b int) string {
	return fmt.Sprintf("placement group %s has %d bundles, no bundle %d", group, n, b)
}

// BundleNotPlaced is why an actor waits for its bundle to be placed.
func BundleNotPlaced(spec *node.Spec, why string) string {
	return fmt.Sprintf("bundle %d of placement group %s is not placed yet: %s", spec.Bundle, spec.PlacementGroup, why)
}

// BundleNodeLacksClass is why an actor of class can never run on the node
// of its bundle.
func BundleNodeLacksClass(spec *node.Spec, nodeID, class string) string {
	return fmt.Sprintf("node %s of bundle %d does not host class %s", nodeID, spec.Bundle, class)
}

// BundleFull says why an actor with spec waits for room in its bundle,
// which has free unused: "" when it fits now.
func BundleFull(spec *node.Spec, free resources.Set) string {
	if free.Fits(spec.Resources) {
		return ""
	}
	return fmt.Sprintf("waiting for resources: bundle %d of placement group %s has %s free", spec.Bundle, spec.PlacementGroup, free.Shortfall(spec.Resources))
}
