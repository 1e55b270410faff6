package transport_test

// The benchmarks run the node in-process on 127.0.0.1: client and server
// share the process and its two cores, and the kernel's loopback stands in
// for the network. Each transport benchmark has its baseline beside it:
// a bare Connect unary call over the same h2c stack, and raw TCP.

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/transport"
)

// latencies records one duration per iteration and reports p50 and p99.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	b.ReportMetric(float64(l[len(l)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(l[len(l)*99/100].Nanoseconds()), "p99-ns")
}

func benchCall() *actorv1.CallEnvelope {
	return &actorv1.CallEnvelope{ActorId: "a-1", Procedure: "/bench.v1.EchoService/Echo", Request: make([]byte, 32)}
}

// BenchmarkBaselineConnectUnary is one Connect unary call at a time over
// h2c, the per-call cost the transport's streams avoid.
func BenchmarkBaselineConnectUnary(b *testing.B) {
	const procedure = "/bench.v1.EchoService/Echo"
	mux := http.NewServeMux()
	mux.Handle(procedure, connect.NewUnaryHandler(procedure,
		func(_ context.Context, req *connect.Request[actorv1.CallEnvelope]) (*connect.Response[actorv1.ResultEnvelope], error) {
			return connect.NewResponse(&actorv1.ResultEnvelope{Response: req.Msg.GetRequest()}), nil
		}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := transport.NewH2CServer(mux, 0)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Close()
	hc := transport.NewH2CClient()
	defer hc.CloseIdleConnections()
	client := connect.NewClient[actorv1.CallEnvelope, actorv1.ResultEnvelope](hc, "http://"+lis.Addr().String()+procedure)
	ctx := context.Background()
	if _, err := client.CallUnary(ctx, connect.NewRequest(benchCall())); err != nil { // warm the connection
		b.Fatal(err)
	}
	lat := make(latencies, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := client.CallUnary(ctx, connect.NewRequest(benchCall())); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	lat.report(b)
}

// BenchmarkTransportSync is one call in flight at a time: the remote
// request/response latency.
func BenchmarkTransportSync(b *testing.B) {
	c := dial(b, startNode(b, "127.0.0.1:0", echo))
	ctx := context.Background()
	if _, err := c.Call(ctx, benchCall()).Result(); err != nil {
		b.Fatal(err)
	}
	lat := make(latencies, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := c.Call(ctx, benchCall()).Result(); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	lat.report(b)
}

// BenchmarkTransportPipelined1000 submits 1000 calls from one goroutine,
// then waits for all of them.
func BenchmarkTransportPipelined1000(b *testing.B) {
	c := dial(b, startNode(b, "127.0.0.1:0", echo))
	ctx := context.Background()
	pending := make([]*transport.Pending, 1000)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		for i := range pending {
			pending[i] = c.Call(ctx, benchCall())
		}
		for _, p := range pending {
			if _, err := p.Result(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(pending))/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkTransportParallel is many goroutines (32 per core) each making
// one call at a time on a shared Conn.
func BenchmarkTransportParallel(b *testing.B) {
	c := dial(b, startNode(b, "127.0.0.1:0", echo))
	ctx := context.Background()
	b.SetParallelism(32)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Call(ctx, benchCall()).Result(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// tcpEcho serves a raw TCP echo of 64-byte frames on 127.0.0.1, flushing
// whenever it has no more input buffered.
func tcpEcho(b *testing.B) net.Conn {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		conn, err := lis.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
		var frame [64]byte
		for {
			if _, err := io.ReadFull(r, frame[:]); err != nil {
				return
			}
			_, _ = w.Write(frame[:])
			if r.Buffered() == 0 {
				if err := w.Flush(); err != nil {
					return
				}
			}
		}
	})
	conn, err := net.Dial("tcp", lis.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = conn.Close()
		_ = lis.Close()
		wg.Wait()
	})
	return conn
}

// BenchmarkBaselineTCPRoundTrip is one 64-byte frame echoed at a time over
// raw TCP: the floor under BenchmarkTransportSync.
func BenchmarkBaselineTCPRoundTrip(b *testing.B) {
	conn := tcpEcho(b)
	var frame [64]byte
	lat := make(latencies, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := conn.Write(frame[:]); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(conn, frame[:]); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	lat.report(b)
}

// BenchmarkBaselineTCPPipelined1000 writes 1000 frames through a buffered
// writer while a reader takes the 1000 echoes: raw TCP with batching, the
// ceiling over BenchmarkTransportPipelined1000.
func BenchmarkBaselineTCPPipelined1000(b *testing.B) {
	conn := tcpEcho(b)
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	var out, in [64]byte
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range 1000 {
				binary.BigEndian.PutUint64(out[:], uint64(i))
				_, _ = w.Write(out[:])
			}
			_ = w.Flush()
		})
		for range 1000 {
			if _, err := io.ReadFull(r, in[:]); err != nil {
				b.Fatal(err)
			}
		}
		wg.Wait()
	}
	b.ReportMetric(float64(b.N*1000)/time.Since(start).Seconds(), "calls/s")
}
