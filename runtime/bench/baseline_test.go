package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
// sum, as Probe's Add does. They end with b.
func startChanServer(b *testing.B, workers int) chan<- chanCall {
	reqs := make(chan chanCall, 1024)
	var sum atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for c := range reqs {
				c.reply <- &testv1.AddResponse{Value: sum.Add(c.req.GetBy())}
			}
		})
	}
	b.Cleanup(func() {
		close(reqs)
		wg.Wait()
	})
	return reqs
}

// chanRoundTrip sends one request and waits for its answer.
func chanRoundTrip(reqs chan<- chanCall, req *testv1.AddRequest) *testv1.AddResponse {
	reply := make(chan *testv1.AddResponse, 1)
	reqs <- chanCall{req: req, reply: reply}
	return <-reply
}

// BenchmarkBaselineChannelRoundTrip is LocalSync's baseline: one call in
// flight to a goroutine, answered on a fresh reply channel.
func BenchmarkBaselineChannelRoundTrip(b *testing.B) {
	reqs := startChanServer(b, 1)
	req := &testv1.AddRequest{By: 1}
	calls := 0
	for b.Loop() {
		calls++
		if resp := chanRoundTrip(reqs, req); resp.GetValue() != int64(calls) {
			b.Fatalf("answer %d, want %d", resp.GetValue(), calls)
		}
	}
	reportCalls(b, calls)
}

// BenchmarkBaselineChannelPipelined1000 is the baseline of the batched
// local workloads: an op sends 1000 requests to one goroutine, each with
// its own reply channel, then waits for all the answers.
func BenchmarkBaselineChannelPipelined1000(b *testing.B) {
	reqs := startChanServer(b, 1)
	req := &testv1.AddRequest{By: 1}
	replies := make([]chan *testv1.AddResponse, batch)
	calls := 0
	for b.Loop() {
		for i := range replies {
			replies[i] = make(chan *testv1.AddResponse, 1)
			reqs <- chanCall{req: req, reply: replies[i]}
		}
		for _, reply := range replies {
			calls++
			if resp := <-reply; resp.GetValue() != int64(calls) {
				b.Fatalf("answer %d, want %d", resp.GetValue(), calls)
			}
		}
	}
	reportCalls(b, calls)
}

// BenchmarkBaselineChannelConcurrent16 is LocalConcurrent16's baseline:
// 16 goroutines make round trips to 16 goroutines serving one channel.
// An op is 4096 calls, 256 from each caller.
func BenchmarkBaselineChannelConcurrent16(b *testing.B) {
	const callers, perCaller = 16, 256
	reqs := startChanServer(b, callers)
	req := &testv1.AddRequest{By: 1}
	calls := 0
	for b.Loop() {
		err := parallel(callers, func(int) error {
			for range perCaller {
				if resp := chanRoundTrip(reqs, req); resp.GetValue() <= 0 {
					return fmt.Errorf("answer %d, want > 0", resp.GetValue())
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		calls += callers * perCaller
	}
	reportCalls(b, calls)
}

// BenchmarkBaselineTCPRoundTrip is the floor of a call between two
// processes: one varint-delimited AddRequest over a TCP connection on
// 127.0.0.1 to a second process, which answers with an AddResponse.
func BenchmarkBaselineTCPRoundTrip(b *testing.B) {
	e, _ := dialEcho(b)
	req := &testv1.AddRequest{By: 1}
	lat := newLatencies()
	calls := 0
	for b.Loop() {
		start := time.Now()
		if err := e.roundTrip(req); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		calls++
	}
	lat.report(b)
	reportCalls(b, calls)
}

// BenchmarkBaselineTCPPipelined1000 is TCPRoundTrip with 1000 requests in
// flight: a goroutine writes them through a bufio.Writer and flushes while
// the benchmark reads the 1000 answers.
func BenchmarkBaselineTCPPipelined1000(b *testing.B) {
	e, _ := dialEcho(b)
	req := &testv1.AddRequest{By: 1}
	calls := 0
	for b.Loop() {
		if err := e.pipeline(req, batch); err != nil {
			b.Fatal(err)
		}
		calls += batch
	}
	reportCalls(b, calls)
}

// BenchmarkBaselineConnectUnary is one bare Connect unary call at a time
// over h2c, to a handler in a second process: what a call between nodes
// would cost if each were its own request.
func BenchmarkBaselineConnectUnary(b *testing.B) {
	client, _ := dialConnect(b)
	ctx := context.Background()
	call := func() (int64, error) {
		resp, err := client.CallUnary(ctx, connect.NewRequest(&testv1.AddRequest{By: 1}))
		if err != nil {
			return 0, err
		}
		return resp.Msg.GetValue(), nil
	}
	if _, err := call(); err != nil { // opens the connection
		b.Fatal(err)
	}
	lat := newLatencies()
	calls := 0
	for b.Loop() {
		start := time.Now()
		v, err := call()
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		calls++
		if v != int64(calls+1) {
			b.Fatalf("answer %d, want %d", v, calls+1)
		}
	}
	lat.report(b)
	reportCalls(b, calls)
}
