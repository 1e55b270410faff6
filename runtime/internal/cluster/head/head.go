package head

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/control"
	"github.com/troupehq/troupe/runtime/internal/node"
	"github.com/troupehq/troupe/runtime/internal/resources"
	"github.com/troupehq/troupe/runtime/internal/telemetry"
)

// Config configures a Head.
type Config struct {
	// StateDir holds the head's store and token.
	StateDir string
	// Log receives the head's warnings.
	Log *slog.Logger
	// HTTPClient reaches the nodes; it must carry the cluster token.
	HTTPClient *http.Client
	// Scheme is the nodes' URL scheme: "https" with TLS. Default "http".
	Scheme string
	// HeartbeatInterval is how often nodes and drivers heartbeat.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout is how long without heartbeats a node or a job is
	// declared dead.
	HeartbeatTimeout time.Duration
	// NewID returns a fresh actor or job id.
	NewID func() string
	// DeadActorRetention is how many dead actors the head keeps, in memory
	// and in its store, for listings and lookups; beyond it the oldest
	// dead, by time of death, are evicted from both. 0 keeps none; nil is
	// node.DefaultDeadRetention. A negative value is taken as 0.
	DeadActorRetention *int
}

// Head is the control plane of a cluster, served as actor.v1.HeadService.
type Head struct {
	actorv1connect.UnimplementedHeadServiceHandler
	cfg  Config
	st   *store
	stop context.CancelFunc
	done chan struct{}
	// clusterID is created with the head's state (store.clusterID).
	clusterID string
	calls     sync.WaitGroup // requests to nodes in flight

	// mu guards the tables; no disk write happens under it (commit.go).
	mu      sync.Mutex
	nodes   nodeTable
	actors  actorTable
	names   *control.Names[*headActor]
	jobs    jobTable
	clients map[string]actorv1connect.NodeServiceClient
	next    int // round robin for SPREAD
	// pgs are the placement groups (groups.go).
	pgs       *control.Groups
	groupMeta map[string]groupMeta
	// dur is the durable actors' activation table (durable.go).
	dur durableTable
	// dirty are the groups and durable activations changed since the last
	// write, for persistLocked.
	dirty       write
	dirtyGroups []*control.Group
	// commit writes the changes to the store off mu (commit.go).
	commit *committer
}

type headNode struct {
	info *actorv1.NodeInfo
	control.Ledger
	lastSeen time.Time
}

// alive reports whether n heartbeats: it may host actors, draining or not.
func (n *headNode) alive() bool {
	st := n.info.GetState()
	return st == actorv1.NodeState_NODE_STATE_ALIVE || st == actorv1.NodeState_NODE_STATE_DRAINING
}

// open reports whether new actors and bundles may be placed on n: it is
// alive and not draining.
func (n *headNode) open() bool { return n.info.GetState() == actorv1.NodeState_NODE_STATE_ALIVE }

// describe returns a copy of n's info with its free resources.
func (n *headNode) describe() *actorv1.NodeInfo {
	ni := proto.Clone(n.info).(*actorv1.NodeInfo)
	if n.alive() {
		ni.Available = n.Free().Float()
	}
	return ni
}

type headActor struct {
	rec  *actorv1.ActorRecord
	spec node.Spec
	// creating is set while the head asks a node to create the actor.
	creating bool
	// deathSeq numbers the actor's death among the head's, 0 until it
	// dies (and for actors that died before the head numbered deaths).
	deathSeq uint64
	// evicted is set once the dead actor is dropped from the head's
	// tables; it may linger in order until the next compaction.
	evicted bool
	// running and pending are its calls running and not finished, as its
	// node last reported them (not stored).
	running, pending int32
}

func (a *headActor) info() *actorv1.ActorInfo { return a.rec.GetInfo() }
func (a *headActor) dead() bool               { return a.info().GetState() == actorv1.ActorState_ACTOR_STATE_DEAD }

type headJob struct {
	info     *actorv1.JobInfo
	lastSeen time.Time
}

func (j *headJob) describe() *actorv1.JobInfo { return proto.Clone(j.info).(*actorv1.JobInfo) }

// New opens (or recovers) the head's state in cfg.StateDir and starts
// its failure detector. Close stops it.
func New(cfg Config) (*Head, error) { return open(cfg, nil) }

// open is New; wrap, when set, wraps the store the committer writes to.
func open(cfg Config, wrap func(backend) backend) (*Head, error) {
	if cfg.Scheme == "" {
		cfg.Scheme = "http"
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = time.Second
	}
	if cfg.HeartbeatTimeout <= 0 {
		cfg.HeartbeatTimeout = 10 * cfg.HeartbeatInterval
	}
	st, err := openStore(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	deadCap := node.DefaultDeadRetention
	if cfg.DeadActorRetention != nil {
		deadCap = max(*cfg.DeadActorRetention, 0)
	}
	h := &Head{cfg: cfg, st: st, done: make(chan struct{}), dur: durableTable{acts: map[string]*actorv1.DurableActivation{}},
		nodes: nodeTable{}, actors: newActorTable(deadCap), names: control.NewNames((*headActor).dead),
		jobs: jobTable{}, pgs: control.NewGroups(), groupMeta: map[string]groupMeta{}, clients: map[string]actorv1connect.NodeServiceClient{}}
	if h.clusterID, err = st.clusterID(cfg.NewID); err != nil {
		_ = st.close()
		return nil, fmt.Errorf("head state: cluster id: %w", err)
	}
	if err := h.recover(); err != nil {
		_ = st.close()
		return nil, err
	}
	var to backend = st
	if wrap != nil {
		to = wrap(st)
	}
	h.commit = newCommitter(to, cfg.Log)
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	go h.watch(ctx)
	return h, nil
}

// recover loads the stored tables. Nodes and jobs get a fresh grace period:
// those that do not heartbeat again in time are declared dead.
func (h *Head) recover() error {
	w, err := h.st.load()
	if err != nil {
		return fmt.Errorf("recover head state: %w", err)
	}
	now := time.Now()
	for _, ni := range w.nodes {
		total, _ := resources.FromFloat(ni.GetTotal())
		h.nodes[ni.GetNodeId()] = &headNode{info: ni, Ledger: control.NewLedger(total), lastSeen: now}
	}
	h.recoverGroups(w.groups)
	for _, d := range w.durable {
		h.dur.acts[d.key] = d.da
	}
	sort.SliceStable(w.actors, func(i, j int) bool {
		return w.actors[i].GetInfo().GetCreatedUnixNano() < w.actors[j].GetInfo().GetCreatedUnixNano()
	})
	for _, rec := range w.actors {
		spec, err := cluster.SpecFromProto(rec.GetInfo().GetSpec())
		if err != nil {
			h.cfg.Log.Warn("head state: skipping an actor with an invalid spec", "actor_id", rec.GetInfo().GetActorId(), "error", err)
			continue
		}
		a := &headActor{rec: rec, spec: spec}
		h.actors.add(a)
		if a.dead() {
			continue
		}
		if n := h.nodes[rec.GetInfo().GetNodeId()]; n != nil {
			n.Take(h.nodeCostLocked(&spec))
		}
		h.names.Bind(&a.spec, a)
	}
	for _, j := range w.jobs {
		h.jobs[j.GetJobId()] = &headJob{info: j, lastSeen: now}
	}
	if err := h.recoverDead(w.deaths); err != nil {
		return fmt.Errorf("recover dead actors: %w", err)
	}
	if len(w.actors) > 0 || len(w.nodes) > 0 {
		h.cfg.Log.Info("head state recovered", "nodes", len(w.nodes), "actors", len(w.actors), "jobs", len(w.jobs))
	}
	return nil
}

// Close stops the head's failure detector and closes its store.
func (h *Head) Close() error {
	h.stop()
	<-h.done
	h.calls.Wait()
	h.commit.close()
	return h.st.close()
}

// watch declares nodes and jobs whose heartbeats stopped dead, and retries
// placing pending actors.
func (h *Head) watch(ctx context.Context) {
	defer close(h.done)
	tick := time.NewTicker(max(h.cfg.HeartbeatTimeout/5, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		h.mu.Lock()
		var w write
		var todo []func()
		now := time.Now()
		for _, n := range h.nodes {
			if n.alive() && now.Sub(n.lastSeen) > h.cfg.HeartbeatTimeout {
				h.cfg.Log.Warn("node lost: no heartbeat", "node_id", n.info.GetNodeId(), "address", n.info.GetAddress())
				todo = append(todo, h.nodeLostLocked(n, &w, fmt.Sprintf("node %s stopped heartbeating", n.info.GetNodeId()))...)
			}
		}
		for _, j := range h.jobs {
			if j.info.GetState() == actorv1.JobState_JOB_STATE_RUNNING && now.Sub(j.lastSeen) > h.cfg.HeartbeatTimeout {
				h.cfg.Log.Warn("job lost: its driver stopped heartbeating", "job_id", j.info.GetJobId())
				todo = append(todo, h.endJobLocked(j, &w)...)
			}
		}
		todo = append(todo, h.placePendingLocked(&w)...)
		h.persistLocked(&w)
		h.mu.Unlock()
		h.run(todo)
	}
}

// run performs requests to nodes decided under the lock.
func (h *Head) run(todo []func()) {
	for _, f := range todo {
		h.calls.Add(1)
		go func() {
			defer h.calls.Done()
			f()
		}()
	}
}

// runWait is run, and waits for the requests to finish or ctx to end.
func (h *Head) runWait(ctx context.Context, todo []func()) {
	var wg sync.WaitGroup
	wg.Add(len(todo))
	h.calls.Add(len(todo))
	for _, f := range todo {
		go func() {
			defer h.calls.Done()
			defer wg.Done()
			f()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// persistLocked hands w, with the groups and durable activations changed
// since the last write, to the committer, and returns the channel of the
// write's outcome: a request answers once it is written (written).
func (h *Head) persistLocked(w *write) <-chan error {
	h.dropEvictedLocked(w)
	for i, g := range h.dirtyGroups {
		if !slices.Contains(h.dirtyGroups[:i], g) {
			w.groups = append(w.groups, h.groupInfo(g))
		}
	}
	w.durable = append(w.durable, h.dirty.durable...)
	h.dirty, h.dirtyGroups = write{}, nil
	ops, err := w.ops()
	if err != nil {
		h.cfg.Log.Error("head state: write failed", "error", err)
		done := make(chan error, 1)
		done <- err
		return done
	}
	return h.commit.submit(ops)
}

func (h *Head) client(addr string) actorv1connect.NodeServiceClient {
	c, ok := h.clients[addr]
	if !ok {
		c = actorv1connect.NewNodeServiceClient(h.cfg.HTTPClient, h.cfg.Scheme+"://"+addr)
		h.clients[addr] = c
	}
	return c
}

// infoLocked returns a copy of a's info with its node's current address.
func (h *Head) infoLocked(a *headActor) *actorv1.ActorInfo {
	in := proto.Clone(a.info()).(*actorv1.ActorInfo)
	if a.creating && in.GetState() == actorv1.ActorState_ACTOR_STATE_PENDING_CREATION {
		in.PendingReason = "being created on node " + in.GetNodeId()
	}
	if !a.dead() {
		in.RunningCalls, in.PendingCalls = a.running, a.pending
	}
	return in
}

// PendingActors samples, for the gauges, the actors that wait on the head
// for a node: no node counts them.
func (h *Head) PendingActors() []telemetry.ActorSample {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []telemetry.ActorSample
	for _, a := range h.actors.order {
		if !a.dead() && !a.evicted && a.info().GetNodeId() == "" {
			out = append(out, telemetry.ActorSample{Class: a.info().GetClass(), State: cluster.StateFromProto(a.info().GetState()).String()})
		}
	}
	return out
}
