// Package cluster runs a program as a node of a Troupe cluster: the head
// (the cluster's control plane, which is a node too) or a node joining
// it. The node hosts the actor classes the program registers, serves the
// other nodes, the drivers (actor.Connect) and the gateway, and drains
// when it stops.
//
// RunNode is the whole of a node's main: it parses the start command line,
// serves until SIGTERM, SIGINT or the end of ctx, then drains.
//
//	if err := cluster.RunNode(ctx, os.Args[1:], actor.WithClasses(counterv1actor.RegisterCounter(newCounter))); err != nil {
//		log.Fatal(err)
//	}
//
// StartNode starts the same node and returns it: its address (the port
// --port 0 picked), its *actor.System, and Shutdown. Programs and tests
// that run a node beside other work use it.
//
// The head and the start command live here, apart from package actor: a
// program that only embeds actors (actor.Start) or drives a cluster
// (actor.Connect) does not import this package.
package cluster
