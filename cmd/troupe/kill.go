package main

import (
	"context"
	"fmt"
	"io"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/actor"
)

const killDoc = `Kills an actor, found by its id or by its name in --namespace. Its queued
calls fail with actor-died (cause: killed) and its running call is
cancelled. With restarts left it is restarted, unless --no-restart kills it
for good; killing a named actor for good frees its name.

`

func runKill(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("kill", "ID|NAME [flags]", killDoc+clusterFlagsDoc, stdout)
	cf := clusterFlags{stderr: stderr}
	cf.register(fs, false)
	namespace := fs.String("namespace", actor.DefaultNamespace, "the `namespace` of the name")
	noRestart := fs.Bool("no-restart", false, "kill the actor for good, even with restarts left")
	pos, err := fs.parseWithArgs(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one actor ID or NAME (see troupe help kill)")
	}
	if err := cf.check("kill"); err != nil {
		return err
	}
	head, ctx, cancel, err := cf.head(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	in, err := findActor(ctx, head, pos[0], *namespace)
	if err != nil {
		return cf.explain(err)
	}
	if in.GetState() == actorv1.ActorState_ACTOR_STATE_DEAD {
		fmt.Fprintf(stdout, "actor %s (%s) is already dead\n", printable(in.GetActorId()), printable(in.GetClass()))
		return nil
	}
	_, err = head.KillActor(ctx, connect.NewRequest(&actorv1.KillActorRequest{ActorId: in.GetActorId(), NoRestart: *noRestart}))
	if err != nil {
		return cf.explain(err)
	}
	how := "killed"
	if *noRestart {
		how = "killed for good"
	}
	name := ""
	if in.GetName() != "" {
		name = fmt.Sprintf(" %q", in.GetName())
	}
	fmt.Fprintf(stdout, "%s actor %s (%s%s)\n", how, printable(in.GetActorId()), printable(in.GetClass()), name)
	return nil
}
