// Package caller is how a process calls actors in a cluster: it resolves
// an actor's node from the head once and calls that node directly, keeps
// the order of retried calls, re-resolves and retries when the actor
// moves, and waits out a head that cannot be reached for the requests
// safe to send again.
package caller
