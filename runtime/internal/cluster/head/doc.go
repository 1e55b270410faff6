// Package head is the control plane of a cluster, served as
// actor.v1.HeadService: nodes, actors, names, jobs, placement groups and
// durable activations, persisted in bbolt so a restarted head recovers
// them. It places actors by the rules of internal/control and asks the
// nodes' agents to create and stop them.
package head
