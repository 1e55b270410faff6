// Package bench is Troupe's benchmark suite. Its workloads are ordinary
// code (Workloads, Measure), so that the Go benchmarks of its tests
// (BenchmarkLocalSync runs the workload LocalSync) and the command
// `troupe microbenchmark` run the same operations and compute the same
// metrics.
//
// Every workload runs beside a baseline that does the same work without
// Troupe, in the same package, so that one run gives both numbers and the
// ratio between them means something on the machine it ran on. Absolute
// numbers move with the machine and its load; ratios move much less.
//
//	go test -run '^$' -bench . ./runtime/bench                  # the suite, under a minute
//	go test -run '^$' -bench . -benchtime 1x ./runtime/bench    # smoke test: every benchmark once
//	go test -run '^$' -bench . -count 6 ./runtime/bench | tee new.txt  # for benchstat
//
// On a noisy machine use -count 6 and compare with benchstat rather than
// trusting one run. A longer -benchtime (3s) steadies the fast benchmarks;
// the population benchmarks (Spawn, IdleActorBytes) do not need it.
//
// # Baselines
//
//   - BaselineChannelRoundTrip: one request at a time to a goroutine that
//     serves a buffered channel and answers on a fresh reply channel, the
//     shape of a future. The floor of a call inside a process.
//   - BaselineChannelPipelined1000: the same with 1000 requests in flight,
//     then wait for all the answers; reports calls/s.
//   - BaselineChannelConcurrent16: 16 callers with one request in flight
//     each, served by 16 goroutines.
//   - BaselineTCPRoundTrip and BaselineTCPPipelined1000: varint-delimited
//     protobuf (AddRequest in, AddResponse out) over a TCP connection on
//     127.0.0.1 to a second process, one in flight (p50-ns, p99-ns) or
//     1000 in flight written by a goroutine while the caller reads the
//     answers (calls/s). The floor of a call between nodes.
//   - BaselineConnectUnary: one bare Connect unary call at a time over
//     h2c to a handler in a second process (p50-ns, p99-ns, calls/s): what
//     a call between nodes would cost if each were its own HTTP request.
//   - BaselineGoroutineSpawn: start a goroutine that waits on a mailbox
//     channel of its own, in batches of 1000 like Spawn (ns/op).
//   - BaselineIdleGoroutineBytes: 100,000 goroutines, each blocked on its
//     own mailbox channel after one message, in bytes of heap and stack
//     per goroutine (bytes/goroutine): what an idle actor costs where each
//     actor is a goroutine.
//
// The second process is the running executable itself (the test binary,
// or the troupe command), started again with ServerEnv set; such a
// program calls ServeFromEnv first in its main. The server prints the
// address it listens on, is killed when its workload ends and exits by
// itself when its stdin closes, so a parent that dies leaves no server
// behind.
//
// # Workloads on an embedded node
//
// Every call is Probe's Add, which adds to a counter and answers with the
// sum, exactly what the baselines' servers do; the benchmarks check the
// sums, so a call that got lost or ran twice fails the benchmark. Calls
// use context.Background(); one request value is reused for all calls,
// as the actor may not modify it. Waiting for a batch is Get on each
// future in the order they were made.
//
//   - LocalSync: h.Add(ctx, req).Get(ctx), one call in flight.
//   - LocalAsync1000: one caller, one actor; an op makes 1000 calls and
//     then waits for all of them.
//   - LocalConcurrent16: one actor spawned with MaxConcurrency(16) and 16
//     callers with one call in flight each; an op is 4096 calls.
//   - Local1toN: one caller, 8 actors; an op submits 5000 calls spread
//     round-robin over the actors, then waits for all of them.
//   - LocalNtoN: 4 callers at once over the same 8 actors; in an op each
//     caller submits 5000 calls round-robin (starting at a different
//     actor) and waits for its own, 20,000 calls per op.
//   - Local1toNFromActor and LocalNtoNFromActor: Local1toN and LocalNtoN
//     with actors as the callers, as Ray's "1:n actor calls async" and
//     "n:n actor calls async" have them: an op asks each caller actor
//     (1, or 4 at once) to make its 5000 calls round-robin over the 8
//     actors with its method's ctx and wait for them. Their baselines are
//     Local1toN and LocalNtoN, so the ratio is what being an actor costs
//     a caller.
//   - Spawn: ns per actor spawned and constructed. Each op is a Spawn;
//     after every 1000 spawns the benchmark waits, inside the timer, for
//     their constructors to return, so construction, which runs on its own
//     goroutine, is included. No call is made. Every 20,000 actors the
//     system is shut down and replaced outside the timer to bound memory.
//   - IdleActorBytes: an op spawns 100,000 actors in a fresh system, calls
//     each once, drops every handle and future, runs the garbage collector
//     and reports the growth of the live heap (HeapAlloc) per actor, which
//     is what the runtime itself keeps for an idle actor, and the
//     goroutines per actor; it fails if idle actors hold goroutines, so
//     their stacks, which HeapAlloc does not count, are zero. Its ns/op is
//     the time to build and measure one population.
//
// # Workloads across two nodes
//
// The serving node is a second process: the running executable started
// again with ServerEnv set to run a cluster head (a node too) through
// cluster.RunNode, hosting Probe, on a free port and with its state in a
// temporary directory. The benchmark process connects to it as a driver
// with actor.Connect and the token the head wrote there, so every call
// crosses the loopback network as a call between nodes does. The node
// is stopped and its directory removed when the workload ends.
//
//   - RemoteSync: one call in flight (p50-ns, p99-ns, calls/s), read
//     against BaselineTCPRoundTrip and BaselineConnectUnary.
//   - RemoteAsync1000: LocalAsync1000 with the actor on the other node.
//   - RemoteNtoN: LocalNtoN with the 8 actors on the other node.
//
// # Tracing
//
// LocalSync three times over: LocalSyncTracingOff with no tracer provider
// given or installed, LocalSyncTracingNoop with a no-op provider passed
// with actor.WithTracerProvider, and LocalSyncTracingSampled with an SDK
// provider sampling every call whose span processor drops each span as
// it ends, so the cost is recording the spans, not exporting them.
//
// Calls/s is calls completed per second of measured time. For the
// pipelined and fan-out workloads ns/op is per batch, not per call; read
// calls/s. The latency benchmarks read the clock around every call, which
// adds a few tens of nanoseconds to their ns/op.
//
// # Targets
//
// The runtime is held to these ratios, each computed from one run:
//
//	workload                              target
//	LocalSync ns/op                       ≤ 2 × BaselineChannelRoundTrip ns/op
//	LocalAsync1000 calls/s                ≥ 0.4 × BaselineChannelPipelined1000 calls/s
//	Local1toN calls/s                     ≥ 0.4 × BaselineChannelPipelined1000 calls/s
//	LocalNtoN calls/s                     ≥ 0.4 × BaselineChannelPipelined1000 calls/s
//	Local1toNFromActor calls/s            ≥ 0.5 × Local1toN calls/s
//	LocalNtoNFromActor calls/s            ≥ 0.5 × LocalNtoN calls/s
//	Spawn ns/op                           ≤ 3 µs per actor
//	IdleActorBytes bytes/actor            ≤ 512 B per actor (and 0 goroutines)
//	RemoteSync p50-ns                     ≤ 0.3 × BaselineConnectUnary p50-ns
//	                                      and ≤ 8 × BaselineTCPRoundTrip p50-ns
//	RemoteAsync1000 calls/s               ≥ 0.25 × BaselineTCPPipelined1000 calls/s
//	LocalSyncTracingNoop calls/s          ≥ 0.98 × LocalSyncTracingOff calls/s
//	LocalSyncTracingSampled calls/s       ≥ 0.85 × LocalSyncTracingOff calls/s
//
// LocalConcurrent16 and RemoteNtoN have no target yet: the first is read
// against BaselineChannelConcurrent16, the second against
// BaselineTCPPipelined1000; the network baselines are the floor and the
// ceiling for calls between nodes. Spawn and IdleActorBytes
// are also read against their goroutine baselines.
package bench
