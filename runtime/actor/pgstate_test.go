package actor_test

import (
	"testing"

	"github.com/troupehq/troupe/runtime/actor"
)

func TestPlacementGroupStateString(t *testing.T) {
	for s, want := range map[actor.PlacementGroupState]string{
		actor.PlacementGroupPending:  "PENDING",
		actor.PlacementGroupCreated:  "CREATED",
		actor.PlacementGroupState(0): "PlacementGroupState(0)",
	} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(s), got, want)
		}
	}
}
