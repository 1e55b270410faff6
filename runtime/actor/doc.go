// Package actor is Troupe's runtime: typed, stateful actors described in
// protobuf, spawned, called, named, restarted and placed by resources.
//
// Users describe an actor class as a protobuf service carrying the
// (actor.v1.actor) option; protoc-gen-actor generates, for a service Foo,
// the interface FooActor to implement, RegisterFoo to bind a constructor,
// the typed FooHandle whose methods return futures, FooOptions() to spawn
// with typed options, GetFoo to look up a named actor and FooFromRef to
// turn a reference received in a message back into a handle. The generated
// code is thin: every behaviour lives in this package.
//
// # Systems
//
// Start runs an embedded node inside the process: a head and a worker in
// one, with no network and no servers. A System is also the job that owns
// the actors it spawns: Shutdown ends them.
//
// # Calls
//
// A call returns a *Future at once; Get waits for the result and may be
// called many times from many goroutines. An actor runs one method at a
// time by default (max_concurrency 1), in arrival order, so the calls of
// one caller run in the order it made them. A method's ctx carries the
// caller's deadline and cancellation: cancelling a call that has not
// started removes it from the queue, and a running method sees ctx.Done().
// Like an HTTP request's context, a method's ctx is cancelled when the
// method returns, and with it the calls it made with that ctx and did not
// wait for; use context.WithoutCancel(ctx) for calls that should outlive
// the method.
//
// # Who owns the messages
//
// Calls between actors in one process do not serialise: the request value
// is handed to the method and the response value to the caller. After a
// call the request belongs to the actor until the call's future is done,
// and may be passed to the method again if the call is retried after a
// restart: the caller must not modify it meanwhile, and the method must
// not modify or keep it. The response belongs to the caller: the method
// must not keep or modify it after returning. Copy with proto.Clone what
// has to be kept.
//
// # Errors
//
// Every error of the runtime is a *connect.Error whose code other
// languages see, wrapping a typed error: errors.Is(err, ErrActorDied),
// errors.As(err, new(*ActorDiedError)). Errors returned by a method reach
// the caller unchanged.
package actor
