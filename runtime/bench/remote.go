package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// startRemoteProbes starts a cluster head hosting Probe in a second
// process, with its state in a fresh temporary directory, connects to it
// as a driver with the token the head wrote there, and spawns n Probe
// actors on it, each having answered a call. Closing the probes shuts the
// driver down, stops the process and removes the directory.
func startRemoteProbes(n int) (p *probes, err error) {
	dir, err := os.MkdirTemp("", "troupe-bench-head-")
	if err != nil {
		return nil, err
	}
	srv, err := startServer(serverNode, stateDirEnv+"="+dir)
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	p = &probes{stop: func() error {
		srv.stop()
		return os.RemoveAll(dir)
	}}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.close())
		}
	}()
	token, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		return nil, fmt.Errorf("reading the head's token: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p.sys, err = actor.Connect(ctx, srv.addr, actor.WithToken(strings.TrimSpace(string(token))),
		actor.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, fmt.Errorf("actor.Connect: %w", err)
	}
	if err := p.spawn(ctx, testv1actor.ProbeOptions(), n); err != nil {
		return nil, err
	}
	return p, nil
}

// remoteSync is one call in flight to an actor on a second node: the
// driver's h.Add(ctx, req).Get(ctx) per op, timed one by one.
func remoteSync() Workload {
	return Workload{
		Name:     "RemoteSync",
		Baseline: "BaselineTCPRoundTrip",
		Doc:      "one call at a time to an actor on a node in a second process",
		Setup: func() (*Run, error) {
			p, err := startRemoteProbes(1)
			if err != nil {
				return nil, err
			}
			return p.syncRun(true), nil
		},
	}
}

// remoteAsync1000 is LocalAsync1000 with the actor on a second node: an
// op makes 1000 calls, then waits for all their futures.
func remoteAsync1000() Workload {
	return Workload{
		Name:     "RemoteAsync1000",
		Baseline: "BaselineTCPPipelined1000",
		Doc:      "one caller, one actor on a second node: 1000 calls, then wait for all their futures",
		Setup: func() (*Run, error) {
			p, err := startRemoteProbes(1)
			if err != nil {
				return nil, err
			}
			return p.batchRun(), nil
		},
	}
}

// remoteNtoN is LocalNtoN with the 8 actors on a second node: 4 callers
// at once, each submitting 5000 calls round-robin over them per op and
// waiting for its own.
func remoteNtoN() Workload {
	const callers = 4
	return Workload{
		Name:     "RemoteNtoN",
		Baseline: "BaselineTCPPipelined1000",
		Doc:      "4 callers at once, each 5000 calls round-robin over the same 8 actors on a second node",
		Setup: func() (*Run, error) {
			p, err := startRemoteProbes(fanOutActors)
			if err != nil {
				return nil, err
			}
			return p.fanOutRun(callers), nil
		},
	}
}
