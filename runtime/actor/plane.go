package actor

import (
	"context"

	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/cluster/caller"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
)

// A plane is the control plane a System asks to spawn, find, kill and
// list actors and placement groups: the ledger of its own embedded node
// (embeddedPlane), or a cluster's head (clusterPlane). A System picks its
// plane once, when it starts or connects; each public method checks its
// arguments, applies the rules that hold everywhere, and delegates to the
// plane once.
type plane interface {
	// spawn creates an actor of class with spec, which checkSpec
	// accepted and which names its namespace; init is never nil. The
	// actor shares spec: nobody may modify it afterwards.
	spawn(ctx context.Context, class *node.Class, spec *node.Spec, init proto.Message) (*Ref, error)
	// lookup returns the live actor bound to name in namespace, or
	// ErrActorNotFound.
	lookup(ctx context.Context, namespace, name string) (*Ref, error)
	// byID returns the actor with id, live or a dead one still retained,
	// or ErrActorNotFound.
	byID(ctx context.Context, id string) (*Ref, error)
	// kill kills the actor ref names with cause, restarting it if restart
	// and it has restarts left.
	kill(ctx context.Context, ref *Ref, restart bool) error
	// listActors lists the actors whose columns match filters, oldest
	// first.
	listActors(ctx context.Context, filters map[string]string) ([]ActorInfo, error)
	listNodes(ctx context.Context) ([]NodeInfo, error)
	listJobs(ctx context.Context) ([]JobInfo, error)
	createGroup(ctx context.Context, bundles []resources.Set, strategy actorv1.PlacementStrategy) (string, error)
	groupInfo(ctx context.Context, id string) (PlacementGroupInfo, error)
	removeGroup(ctx context.Context, id string) error
	// invoke carries c to the actor in another process that t names.
	invoke(t *caller.Target, c *node.Call)
	// ownerless reports whether an actor spawned from outside any actor
	// has no job to own it: true on a cluster node that is not a driver.
	ownerless() bool
	// submitDurable hands c, a call to the durable actor ref names, to the
	// actor's activation, activating it if needed: on this node, or on
	// the node that holds it in a cluster.
	submitDurable(ref *DurableRef, c *node.Call)
	// releaseDurable is told that this node's activation act ended.
	releaseDurable(act *activation)
	// reachDurable reports why this system cannot call durable actors of
	// class, or nil.
	reachDurable(class string) error
	// waitingActors are the actors that wait for a node outside any
	// node's table (on a head), for the actors gauge.
	waitingActors() []telemetry.ActorSample
	// resources reports this node's resources for the resources gauge.
	resources() []telemetry.ResourceSample
	// close leaves the plane: a driver ends its job.
	close(ctx context.Context) error
}

// defaultNamespace is the namespace a spawn or lookup made with ctx uses
// when it names none: the namespace of the actor whose method ctx belongs
// to, else the system's.
func (s *System) defaultNamespace(ctx context.Context) string {
	if ns := actorNamespace(ctx); ns != "" {
		return ns
	}
	return s.namespace
}

// actorNamespace is the namespace of the actor whose method ctx belongs
// to, or "".
func actorNamespace(ctx context.Context) string {
	if a := node.ActorFrom(ctx); a != nil {
		return a.Spec.Namespace
	}
	return ""
}
