package agent

import (
	"errors"
	"fmt"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/internal/telemetry"
)

// ErrOutOfCluster is the error of a node that can no longer be part of its
// cluster: the head rejects its token, or the head lost its state and
// runs a new cluster. The node stops; restarted, it joins afresh.
var ErrOutOfCluster = errors.New("node is out of its cluster")

// errClusterChanged is the error of a head that answers with another
// cluster id than the one the node joined.
type errClusterChanged struct{ joined, now string }

func (e *errClusterChanged) Error() string {
	return fmt.Sprintf("%v: it joined cluster %s, and the head now runs cluster %s "+
		"(the head lost its state); restart this node to join the new cluster", ErrOutOfCluster, e.joined, e.now)
}

func (e *errClusterChanged) Unwrap() error { return ErrOutOfCluster }

// outOfCluster returns the error that ends the node when err is one no
// retry will cure, nil otherwise.
func outOfCluster(err error) error {
	var changed *errClusterChanged
	switch {
	case errors.As(err, &changed):
		return err
	case connect.CodeOf(err) == connect.CodeUnauthenticated:
		return fmt.Errorf("%w: the head rejects this node's cluster token (a wrong token, "+
			"or the head lost its state and made a new one): %v", ErrOutOfCluster, err)
	}
	return nil
}

// Failed returns the channel that gets the error putting the node out of
// its cluster for good, once.
func (a *Agent) Failed() <-chan error { return a.failed }

func (a *Agent) fail(err error) {
	a.log.Error("leaving the cluster", "error", err)
	select {
	case a.failed <- err:
	default:
	}
}

// joined records the cluster id and the node's free resources the head
// answered with, and fails when the head runs another cluster than the
// one the node joined. An empty id (a head that names no cluster) is
// taken as the same cluster.
func (a *Agent) joined(clusterID string, available map[string]float64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if clusterID != "" {
		if a.clusterID != "" && a.clusterID != clusterID {
			return &errClusterChanged{joined: a.clusterID, now: clusterID}
		}
		a.clusterID = clusterID
	}
	if available != nil {
		a.available = available
	}
	return nil
}

// Resources returns the node's resources and how much of each actors hold,
// as the head counts them (placement groups' reservations included).
func (a *Agent) Resources() []telemetry.ResourceSample {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]telemetry.ResourceSample, 0, len(a.info.GetTotal()))
	for name, total := range a.info.GetTotal() {
		used := 0.0
		if free, ok := a.available[name]; ok {
			used = total - free
		}
		out = append(out, telemetry.ResourceSample{Name: name, Total: total, Used: used})
	}
	return out
}
