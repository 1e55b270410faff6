package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"connectrpc.com/connect"

	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
)

// batch is the number of calls in flight in the pipelined workloads.
const batch = 1000

// chanCall is a request to a channel server with the channel its answer
// comes back on: the shape of a future.
type chanCall struct {
	req   *testv1.AddRequest
	reply chan *testv1.AddResponse
}

// startChanServer starts workers goroutines serving a buffered request
// channel, each answering with a fresh AddResponse carrying the running
// sum, as Probe's Add does. stop ends them.
func startChanServer(workers int) (reqs chan<- chanCall, stop func() error) {
	ch := make(chan chanCall, 1024)
	var sum atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for c := range ch {
				c.reply <- &testv1.AddResponse{Value: sum.Add(c.req.GetBy())}
			}
		})
	}
	return ch, func() error {
		close(ch)
		wg.Wait()
		return nil
	}
}

// chanRoundTrip sends one request and waits for its answer.
func chanRoundTrip(reqs chan<- chanCall, req *testv1.AddRequest) *testv1.AddResponse {
	reply := make(chan *testv1.AddResponse, 1)
	reqs <- chanCall{req: req, reply: reply}
	return <-reply
}

// baselineChannelRoundTrip is LocalSync's baseline: one call in flight to
// a goroutine, answered on a fresh reply channel.
func baselineChannelRoundTrip() Workload {
	return Workload{
		Name: "BaselineChannelRoundTrip",
		Doc:  "one request at a time to a goroutine, answered on a fresh reply channel",
		Setup: func() (*Run, error) {
			reqs, stop := startChanServer(1)
			req := &testv1.AddRequest{By: 1}
			calls := 0
			return &Run{
				CallsPerOp: 1,
				Ops: func(_ Timer, n int) error {
					for range n {
						calls++
						if resp := chanRoundTrip(reqs, req); resp.GetValue() != int64(calls) {
							return fmt.Errorf("answer %d, want %d", resp.GetValue(), calls)
						}
					}
					return nil
				},
				Close: stop,
			}, nil
		},
	}
}

// baselineChannelPipelined1000 is the baseline of the batched local
// workloads: an op sends 1000 requests to one goroutine, each with its
// own reply channel, then waits for all the answers.
func baselineChannelPipelined1000() Workload {
	return Workload{
		Name: "BaselineChannelPipelined1000",
		Doc:  "1000 requests in flight to a goroutine, each with its own reply channel, then wait for all",
		Setup: func() (*Run, error) {
			reqs, stop := startChanServer(1)
			req := &testv1.AddRequest{By: 1}
			replies := make([]chan *testv1.AddResponse, batch)
			calls := 0
			return &Run{
				CallsPerOp: batch,
				Ops: func(_ Timer, n int) error {
					for range n {
						for i := range replies {
							replies[i] = make(chan *testv1.AddResponse, 1)
							reqs <- chanCall{req: req, reply: replies[i]}
						}
						for _, reply := range replies {
							calls++
							if resp := <-reply; resp.GetValue() != int64(calls) {
								return fmt.Errorf("answer %d, want %d", resp.GetValue(), calls)
							}
						}
					}
					return nil
				},
				Close: stop,
			}, nil
		},
	}
}

// baselineChannelConcurrent16 is LocalConcurrent16's baseline: 16
// goroutines make round trips to 16 goroutines serving one channel. An op
// is 4096 calls, 256 from each caller.
func baselineChannelConcurrent16() Workload {
	const callers, perCaller = 16, 256
	return Workload{
		Name: "BaselineChannelConcurrent16",
		Doc:  "16 callers, one request in flight each, to 16 goroutines serving one channel",
		Setup: func() (*Run, error) {
			reqs, stop := startChanServer(callers)
			req := &testv1.AddRequest{By: 1}
			return &Run{
				CallsPerOp: callers * perCaller,
				Ops: func(_ Timer, n int) error {
					for range n {
						err := parallel(callers, func(int) error {
							for range perCaller {
								if resp := chanRoundTrip(reqs, req); resp.GetValue() <= 0 {
									return fmt.Errorf("answer %d, want > 0", resp.GetValue())
								}
							}
							return nil
						})
						if err != nil {
							return err
						}
					}
					return nil
				},
				Close: stop,
			}, nil
		},
	}
}

// baselineTCPRoundTrip is the floor of a call between two processes: one
// varint-delimited AddRequest over a TCP connection on 127.0.0.1 to a
// second process, which answers with an AddResponse.
func baselineTCPRoundTrip() Workload {
	return Workload{
		Name: "BaselineTCPRoundTrip",
		Doc:  "one varint-delimited protobuf request at a time over TCP on 127.0.0.1 to a second process",
		Setup: func() (*Run, error) {
			e, err := dialEcho()
			if err != nil {
				return nil, err
			}
			req := &testv1.AddRequest{By: 1}
			return oneAtATime(true, 0, func() (int64, error) {
				err := e.roundTrip(req)
				return e.sum, err
			}, e.close), nil
		},
	}
}

// baselineTCPPipelined1000 is TCPRoundTrip with 1000 requests in flight:
// a goroutine writes them through a bufio.Writer and flushes while the
// caller reads the 1000 answers.
func baselineTCPPipelined1000() Workload {
	return Workload{
		Name: "BaselineTCPPipelined1000",
		Doc:  "TCPRoundTrip with 1000 requests in flight, written by a goroutine while the caller reads",
		Setup: func() (*Run, error) {
			e, err := dialEcho()
			if err != nil {
				return nil, err
			}
			req := &testv1.AddRequest{By: 1}
			return &Run{
				CallsPerOp: batch,
				Ops: func(_ Timer, n int) error {
					for range n {
						if err := e.pipeline(req, batch); err != nil {
							return err
						}
					}
					return nil
				},
				Close: e.close,
			}, nil
		},
	}
}

// baselineConnectUnary is one bare Connect unary call at a time over h2c,
// to a handler in a second process: what a call between nodes would cost
// if each were its own request.
func baselineConnectUnary() Workload {
	return Workload{
		Name: "BaselineConnectUnary",
		Doc:  "one bare Connect unary call at a time over h2c to a second process",
		Setup: func() (*Run, error) {
			client, err := dialConnect()
			if err != nil {
				return nil, err
			}
			ctx := context.Background()
			call := func() (int64, error) {
				resp, err := client.CallUnary(ctx, connect.NewRequest(&testv1.AddRequest{By: 1}))
				if err != nil {
					return 0, err
				}
				return resp.Msg.GetValue(), nil
			}
			if _, err := call(); err != nil { // opens the connection
				return nil, fmt.Errorf("first call: %w", err)
			}
			return oneAtATime(true, 1, call, client.close), nil
		},
	}
}

// baselineGoroutineSpawn is Spawn's baseline: an op starts a goroutine
// that waits on a mailbox channel of its own, the least a Go program
// needs for something that receives messages. Like Spawn, after every
// 1000 the workload waits, on the clock, until they have all started, and
// every 20,000 it ends them off the clock.
func baselineGoroutineSpawn() Workload {
	const perPopulation = 20_000
	return Workload{
		Name: "BaselineGoroutineSpawn",
		Doc:  "start a goroutine waiting on a mailbox channel of its own",
		Setup: func() (*Run, error) {
			var started, ended sync.WaitGroup
			mailboxes := make([]chan *testv1.AddRequest, 0, perPopulation)
			end := func() {
				for _, m := range mailboxes {
					close(m)
				}
				mailboxes = mailboxes[:0]
				ended.Wait()
			}
			return &Run{
				Ops: func(t Timer, n int) error {
					for range n {
						m := make(chan *testv1.AddRequest, 1)
						mailboxes = append(mailboxes, m)
						started.Add(1)
						ended.Go(func() {
							started.Done()
							for range m {
							}
						})
						if len(mailboxes)%batch != 0 {
							continue
						}
						started.Wait()
						if len(mailboxes) == perPopulation {
							t.StopTimer()
							end()
							t.StartTimer()
						}
					}
					return nil
				},
				Close: func() error {
					started.Wait()
					end()
					return nil
				},
			}, nil
		},
	}
}

// baselineIdleGoroutineBytes is IdleActorBytes's baseline: what 100,000
// goroutines cost, each blocked on a mailbox channel of its own after
// receiving one message, the way an actor framework that gives each actor
// a goroutine keeps its idle actors. It counts the live heap and the
// goroutine stacks (StackInuse), since here the stacks are the cost.
func baselineIdleGoroutineBytes() Workload {
	const goroutines = 100_000
	return Workload{
		Name: "BaselineIdleGoroutineBytes",
		Doc:  "100,000 goroutines each blocked on its own mailbox channel, in bytes per goroutine",
		Setup: func() (*Run, error) {
			var bytesPer float64
			return &Run{
				Ops: func(_ Timer, n int) error {
					for range n {
						runtime.GC()
						var before, after runtime.MemStats
						runtime.ReadMemStats(&before)
						mailboxes := make([]chan *testv1.AddRequest, goroutines)
						var received, ended sync.WaitGroup
						req := &testv1.AddRequest{By: 1}
						for i := range mailboxes {
							m := make(chan *testv1.AddRequest, 1)
							mailboxes[i] = m
							received.Add(1)
							ended.Go(func() {
								var sum int64
								for r := range m {
									sum += r.GetBy()
									if sum == 1 {
										received.Done()
									}
								}
							})
							m <- req
						}
						received.Wait()
						runtime.GC()
						runtime.ReadMemStats(&after)
						grew := int64(after.HeapAlloc+after.StackInuse) - int64(before.HeapAlloc+before.StackInuse)
						bytesPer = float64(grew) / goroutines
						for _, m := range mailboxes {
							close(m)
						}
						ended.Wait()
					}
					return nil
				},
				Metrics: func() []Metric { return []Metric{{bytesPer, "bytes/goroutine"}} },
			}, nil
		},
	}
}
