package actor

import (
	"context"
	"crypto/tls"
	"os"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/runtime/internal/cluster"
	"github.com/troupehq/troupe/runtime/internal/cluster/caller"
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/resources"
)

// TokenEnv is the environment variable Connect and cluster.RunNode read the
// cluster token from when no WithToken or --token gives it.
const TokenEnv = "TROUPE_TOKEN"

type clusterConfig struct {
	token  string
	tls    *tls.Config
	caFile string
}

// WithTLS makes Connect (and a cluster node's requests to the head and other
// nodes) speak HTTP/2 over TLS, trusting the certificate authorities in the
// PEM file caFile. Default: cleartext HTTP/2, unless WithTLSConfig.
func WithTLS(caFile string) Option {
	return optionFunc(func(c *config) { c.cluster.caFile = caFile })
}

// WithTLSConfig makes Connect (and a cluster node's requests to the head and
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
	cl := caller.NewClient(addr, token, tlsConf, cfg.log)
	var p *clusterPlane
	s, err := newSystem(ctx, &cfg, func(s *System, total resources.Set) plane {
		p = newClusterPlane(s, total, cl, true)
		return p
	})
	if err != nil {
		cl.Close()
		return nil, err
	}
	res, err := cl.Head.RegisterJob(ctx, connect.NewRequest(&actorv1.RegisterJobRequest{Namespace: s.namespace, Pid: int64(os.Getpid())}))
	if err != nil {
		_ = s.Shutdown(context.WithoutCancel(ctx))
		return nil, err
	}
	s.job = res.Msg.GetJobId()
	p.startJob(time.Duration(res.Msg.GetHeartbeatIntervalMs()) * time.Millisecond)
	return s, nil
}
