package actor

import (
	"context"
	"crypto/tls"
	"os"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// TokenEnv is the environment variable Connect and RunNode read the
// cluster token from when no WithToken or --token gives it.
const TokenEnv = "TROUPE_TOKEN"

type clusterConfig struct {
	token  string
	tls    *tls.Config
	caFile string
}

// WithTLS makes Connect (and RunNode's requests to the head and other
// nodes) speak HTTP/2 over TLS, trusting the certificate authorities in the
// PEM file caFile. Default: cleartext HTTP/2, unless WithTLSConfig.
func WithTLS(caFile string) Option {
	return optionFunc(func(c *config) { c.cluster.caFile = caFile })
}

// WithTLSConfig makes Connect (and RunNode's requests to the head and
// other nodes) speak HTTP/2 over TLS with conf. It wins over WithTLS.
// Default: cleartext HTTP/2.
func WithTLSConfig(conf *tls.Config) Option {
	return optionFunc(func(c *config) { c.cluster.tls = conf })
}

// clientTLS is the TLS configuration of the system's requests to the
// cluster, nil for cleartext.
func (c *clusterConfig) clientTLS() (*tls.Config, error) {
	if c.tls != nil {
		return c.tls, nil
	}
	if c.caFile != "" {
		conf, err := cluster.ClientTLS(c.caFile)
		if err != nil {
			return nil, errs.New(errs.ErrInvalidOption, err)
		}
		return conf, nil
	}
	return nil, nil
}

// WithToken sets the cluster token that Connect and joining nodes send
// with every request. Default: the TROUPE_TOKEN environment variable. The
// head writes the token to the file "token" in its state directory.
func WithToken(token string) Option {
	return optionFunc(func(c *config) { c.cluster.token = token })
}

// clusterState is what a system in a cluster holds: its client of the head
// and the nodes, and, for a driver, its job's heartbeat.
type clusterState struct {
	client *cluster.Client
	driver bool
	stop   context.CancelFunc
	done   chan struct{}
}

func (c *clusterState) shutdown(ctx context.Context, s *System) error {
	if c.stop != nil {
		c.stop()
		<-c.done
	}
	var err error
	if c.driver {
		_, err = c.client.Head.EndJob(ctx, connect.NewRequest(&actorv1.EndJobRequest{JobId: s.job}))
	}
	c.client.Close()
	return err
}

// Connect joins the cluster whose head listens at addr ("HOST:PORT") as a
// driver, and returns the system to drive it: the same System as Start,
// whose actors live on the cluster's nodes. The driver is a job: actors it
// spawns without a detached lifetime die when it shuts down or stops
// heartbeating. Requests carry the cluster token (WithToken or
// TROUPE_TOKEN). The driver hosts no actors.
func Connect(ctx context.Context, addr string, opts ...Option) (*System, error) {
	cfg := newConfig(opts)
	token := cfg.cluster.token
	if token == "" {
		token = os.Getenv(TokenEnv)
	}
	cfg.classes = nil
	tlsConf, err := cfg.cluster.clientTLS()
	if err != nil {
		return nil, err
	}
	s, _, err := newSystem(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	cl := cluster.NewClient(addr, token, tlsConf, cfg.log)
	res, err := cl.Head.RegisterJob(ctx, connect.NewRequest(&actorv1.RegisterJobRequest{Namespace: s.namespace, Pid: int64(os.Getpid())}))
	if err != nil {
		cl.Close()
		_ = s.Shutdown(context.WithoutCancel(ctx))
		return nil, err
	}
	s.job = res.Msg.GetJobId()
	hctx, cancel := context.WithCancel(context.Background())
	s.cluster = &clusterState{client: cl, driver: true, stop: cancel, done: make(chan struct{})}
	go s.jobHeartbeat(hctx, time.Duration(res.Msg.GetHeartbeatIntervalMs())*time.Millisecond)
	return s, nil
}

// jobHeartbeat tells the head that the driver lives until ctx ends.
func (s *System) jobHeartbeat(ctx context.Context, interval time.Duration) {
	defer close(s.cluster.done)
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, max(5*interval, time.Second))
		res, err := s.cluster.client.Head.JobHeartbeat(rctx, connect.NewRequest(&actorv1.JobHeartbeatRequest{JobId: s.job}))
		cancel()
		if err == nil && res.Msg.GetEnded() {
			s.log.Warn("the head ended this job: its owned actors are dead", "job_id", s.job)
		}
	}
}

// refFor returns a reference to the actor in, on the local path when it
// lives in this process.
func (s *System) refFor(in *actorv1.ActorInfo) *Ref {
	if in.GetNodeId() == s.node.ID {
		if a, ok := s.node.Actor(in.GetActorId()); ok {
			return s.refTo(a)
		}
	}
	return &Ref{sys: s, r: cluster.NewTarget(in)}
}

func (s *System) refByID(ctx context.Context, id string) (*Ref, error) {
	res, err := s.cluster.client.Head.GetActor(ctx, connect.NewRequest(&actorv1.GetActorRequest{ActorId: id}))
	if err != nil {
		return nil, err
	}
	return s.refFor(res.Msg.GetActor()), nil
}

func (s *System) lookupRemote(ctx context.Context, namespace, name, class string) (*Ref, error) {
	res, err := s.cluster.client.Head.GetActor(ctx, connect.NewRequest(&actorv1.GetActorRequest{Namespace: namespace, Name: name}))
	if err != nil {
		return nil, err
	}
	in := res.Msg.GetActor()
	if in.GetClass() != class {
		return nil, errs.Newf(errs.ErrWrongClass, "actor %q in namespace %q is a %s, not a %s", name, namespace, in.GetClass(), class)
	}
	return s.refFor(in), nil
}

// actorNamespace is the namespace of the actor whose method ctx belongs
// to, or "".
func actorNamespace(ctx context.Context) string {
	if a := node.ActorFrom(ctx); a != nil {
		return a.Spec.Namespace
	}
	return ""
}

// ownerlessLifetime settles the lifetime of an actor spawned on a node
// from outside any actor, which is what a spawn through a node's gateway
// (its ControlService) is: a node is not a job, so nothing could own the
// actor. It is detached: it lives until killed and restarts per
// max_restarts. Asking for LIFETIME_OWNED there fails with invalid
// argument rather than giving an actor that no owner's end would kill.
func (s *System) ownerlessLifetime(ctx context.Context, spec *node.Spec, lifetime actorv1.Lifetime) error {
	if s.cluster == nil || s.cluster.driver || node.ActorFrom(ctx) != nil {
		return nil
	}
	if lifetime == actorv1.Lifetime_LIFETIME_OWNED {
		return errs.Newf(errs.ErrInvalidOption, "a node has no job to own an actor: spawn it through a driver's gateway, or as LIFETIME_DETACHED")
	}
	spec.Detached = true
	return nil
}

func (s *System) spawnRemote(ctx context.Context, class *node.Class, spec node.Spec, init proto.Message) (*Ref, error) {
	body, err := proto.Marshal(init)
	if err != nil {
		return nil, errs.New(errs.ErrInvalidOption, err)
	}
	job, owner := s.job, ""
	if a := node.ActorFrom(ctx); a != nil {
		job, owner = a.Job, a.ID
		if !s.cluster.driver && spec.Namespace == s.namespace {
			spec.Namespace = a.Spec.Namespace // a node's actors spawn in their own namespace
		}
	}
	res, err := s.cluster.client.Head.SpawnActor(ctx, connect.NewRequest(&actorv1.SpawnActorRequest{
		Class: class.Name, Spec: cluster.SpecToProto(spec), Init: body, JobId: job, OwnerActorId: owner}))
	if err != nil {
		return nil, err
	}
	return s.refFor(res.Msg.GetActor()), nil
}

func (s *System) killRemote(ctx context.Context, id string, noRestart bool) error {
	_, err := s.cluster.client.Head.KillActor(ctx, connect.NewRequest(&actorv1.KillActorRequest{ActorId: id, NoRestart: noRestart}))
	return err
}

func (s *System) listRemote(ctx context.Context, filters map[string]string) ([]ActorInfo, error) {
	res, err := s.cluster.client.Head.ListActors(ctx, connect.NewRequest(&actorv1.ListActorsRequest{Filters: filters}))
	if err != nil {
		return nil, err
	}
	out := make([]ActorInfo, 0, len(res.Msg.GetActors()))
	for _, in := range res.Msg.GetActors() {
		info := ActorInfo{
			ID: in.GetActorId(), Class: in.GetClass(), State: cluster.StateFromProto(in.GetState()), Job: in.GetJobId(),
			Name: in.GetName(), Node: in.GetNodeId(), PID: int(in.GetPid()), Namespace: in.GetNamespace(),
			Resources: in.GetSpec().GetResources(), Restarts: int(in.GetRestarts()), Detached: in.GetDetached(),
			PendingReason: in.GetPendingReason(),
			PendingCalls:  int(in.GetPendingCalls()), RunningCalls: int(in.GetRunningCalls()),
		}
		if info.State == Dead {
			info.DeathCause = cluster.CauseFromProto(in.GetDeathCause()).String()
		}
		out = append(out, info)
	}
	return out, nil
}

// callRemote carries a call to the node hosting the actor t names. The
// call is queued on the node's stream before callRemote returns, so one
// caller's calls reach the node in the order it made them.
func (s *System) callRemote(t *cluster.Target, c *node.Call) {
	if s.cluster == nil {
		c.Fail(errs.Newf(errs.ErrSystemClosed, "not connected to a cluster"))
		return
	}
	var md map[string]string
	if s.tel.Tracing() {
		md = s.tel.Inject(c.Ctx)
	}
	c.Remote = s.cluster.client.Invoke(c.Ctx, t, c.Method, c.Req, md, c)
}
