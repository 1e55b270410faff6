package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
	"github.com/troupehq/troupe/internal/dial"
	"github.com/troupehq/troupe/runtime/actor"
)

// addressEnv is the environment variable the cluster commands read the
// head's address from when --address is not given.
// The environment variables the cluster commands read.
const (
	addressEnv = "TROUPE_ADDRESS"
	tlsCAEnv   = "TROUPE_TLS_CA"
)

// clusterFlagsDoc is the part of each cluster command's help that says how
// it finds the head.
const clusterFlagsDoc = `The command asks the cluster's head at --address (default $TROUPE_ADDRESS).
Its requests carry the cluster token: --token-file, else --token (which
other users see in ps), else the file "token" in --state-dir, else
$TROUPE_TOKEN, else $HOME/.troupe/head/token, which a head started without
--state-dir writes. A token file readable by group or others is used with a
warning.
`

// clusterFlags are the flags every command that talks to a cluster takes.
type clusterFlags struct {
	address   string
	token     string
	tokenFile string
	stateDir  string
	stderr    io.Writer // for warnings
	timeout   time.Duration
	format    string
	tlsCA     string
}

func (c *clusterFlags) register(fs *flagSet, format bool) {
	fs.StringVar(&c.address, "address", os.Getenv(addressEnv), "the head's `HOST:PORT` (default $"+addressEnv+")")
	fs.StringVar(&c.token, "token", "", "the cluster `token` (default: --state-dir's token file, then $"+actor.TokenEnv+")")
	fs.StringVar(&c.tokenFile, "token-file", "", "read the cluster token from this `file`")
	fs.StringVar(&c.stateDir, "state-dir", "", "the head's state `directory`, to read its token file")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "how long to wait for the head")
	fs.StringVar(&c.tlsCA, "tls-ca", os.Getenv(tlsCAEnv), "PEM `file` of the authority that signed the cluster's certificate: talk TLS to a head started with --tls-cert (default $"+tlsCAEnv+")")
	if format {
		fs.StringVar(&c.format, "format", "table", "output `format`: table or json")
	}
}

// check reports usage errors in the flags.
func (c *clusterFlags) check(name string) error {
	if c.address == "" {
		return usagef("no head address: give --address HOST:PORT or set %s (see troupe help %s)", addressEnv, name)
	}
	if c.format != "" && c.format != "table" && c.format != "json" {
		return usagef("--format %q: want table or json", c.format)
	}
	return nil
}

// resolveToken finds the cluster token as clusterFlagsDoc says.
func (c *clusterFlags) resolveToken() (string, error) {
	if c.tokenFile != "" {
		if c.token != "" {
			return "", usagef("give --token or --token-file, not both")
		}
		return c.readTokenFile(c.tokenFile)
	}
	if c.token != "" {
		return c.token, nil
	}
	if c.stateDir != "" {
		return c.readTokenFile(filepath.Join(c.stateDir, "token"))
	}
	if tok := os.Getenv(actor.TokenEnv); tok != "" {
		return tok, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		if tok, err := c.readTokenFile(filepath.Join(home, ".troupe", "head", "token")); err == nil {
			return tok, nil
		}
	}
	return "", nil // the head will say unauthenticated
}

// readTokenFile reads a token file, warning when group or others may
// read it.
func (c *clusterFlags) readTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the cluster token: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 && c.stderr != nil {
		fmt.Fprintf(c.stderr, "troupe: warning: token file %s is readable by group or others (mode %04o): chmod 600 it\n", path, st.Mode().Perm())
	}
	return strings.TrimSpace(string(b)), nil
}

// head returns a client of the head and the context its calls run in.
func (c *clusterFlags) head(ctx context.Context) (actorv1connect.HeadServiceClient, context.Context, context.CancelFunc, error) {
	token, err := c.resolveToken()
	if err != nil {
		return nil, nil, nil, err
	}
	client, err := newHeadClient(c.address, token, c.tlsCA)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	return client, ctx, cancel, nil
}

// explain turns an error from the head into what an operator can act on.
func (c *clusterFlags) explain(err error) error {
	switch connect.CodeOf(err) {
	case connect.CodeUnauthenticated:
		return fmt.Errorf("the head at %s refused the request: the cluster token is wrong or missing (give --token, --state-dir or set %s)", c.address, actor.TokenEnv)
	case connect.CodeUnavailable:
		return fmt.Errorf("cannot reach the head at %s: %w", c.address, err)
	case connect.CodeDeadlineExceeded:
		return fmt.Errorf("the head at %s did not answer within %v: %w", c.address, c.timeout, err)
	}
	return err
}

// newHeadClient returns a client of the head at addr that sends token with
// every request, the way nodes and drivers reach it: without caFile
// cleartext HTTP/2, as a cluster without certificates speaks; with it,
// HTTP/2 over TLS, trusting the authorities in caFile and the system's.
func newHeadClient(addr, token, caFile string) (actorv1connect.HeadServiceClient, error) {
	var tlsConf *tls.Config
	if caFile != "" {
		var err error
		if tlsConf, err = dial.TLSConfig(caFile); err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
	}
	hc, scheme := dial.HTTP2Client(tlsConf)
	return actorv1connect.NewHeadServiceClient(dial.WithToken(hc, token), scheme+"://"+addr), nil
}

// parseWithArgs parses args, flags and positional arguments in any order,
// and returns the positional ones; "--" ends the flags.
func (fs *flagSet) parseWithArgs(args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.FlagSet.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.help()
				return nil, err
			}
			return nil, usagef("%v (see troupe help %s)", err, fs.Name())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// filters is a repeatable --filter k=v flag.
type filters map[string]string

func (f filters) String() string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(f)) {
		kv = append(kv, k+"="+f[k])
	}
	return strings.Join(kv, ",")
}

func (f filters) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("%q is not k=v", s)
	}
	f[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	return nil
}

// normalize checks the filter keys against the columns a listing has,
// maps aliases (actor_id for id) to them and upper-cases states.
func (f filters) normalize(columns map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range f {
		col, ok := columns[k]
		if !ok {
			return nil, usagef("--filter %s: unknown key; keys: %s", k, strings.Join(slices.Sorted(maps.Keys(columns)), ", "))
		}
		if col == "state" {
			v = strings.ToUpper(v)
		}
		out[col] = v
	}
	return out, nil
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes rows under a header, columns aligned, control characters
// in the cells escaped.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = printable(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// orDash shows empty cells as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// amount formats an amount of a resource: memory in binary units, the
// rest as plain numbers.
func amount(resource string, v float64) string {
	if resource != "memory" {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	const unit = 1024
	if v < unit {
		return strconv.FormatFloat(v, 'f', 0, 64) + "B"
	}
	div, exp := float64(unit), 0
	for n := v / unit; n >= unit && exp < 4; n /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(v/div, 'f', 1, 64) + string("KMGTP"[exp]) + "iB"
}

// resourceList formats resources as "CPU 1, writer_node 1".
func resourceList(r map[string]float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r)) {
		parts = append(parts, k+" "+amount(k, r[k]))
	}
	return strings.Join(parts, ", ")
}

// stateName is a state enum's name without its prefix: "ALIVE".
func stateName(s fmt.Stringer, prefix string) string {
	return strings.TrimPrefix(s.String(), prefix)
}

// actorRow is an actor as troupe prints it.
type actorRow struct {
	ActorID   string `json:"actor_id"`
	Class     string `json:"class"`
	State     string `json:"state"`
	JobID     string `json:"job_id"`
	Name      string `json:"name"`
	NodeID    string `json:"node_id"`
	PID       int64  `json:"pid"`
	Namespace string `json:"namespace"`
	// Detail.
	Resources     map[string]float64 `json:"resources"`
	Restarts      int32              `json:"restarts"`
	DeathCause    string             `json:"death_cause"`
	Detached      bool               `json:"detached"`
	PendingReason string             `json:"pending_reason"`
}

func newActorRow(in *actorv1.ActorInfo) actorRow {
	r := actorRow{
		ActorID: in.GetActorId(), Class: in.GetClass(), State: stateName(in.GetState(), "ACTOR_STATE_"),
		JobID: in.GetJobId(), Name: in.GetName(), NodeID: in.GetNodeId(), PID: in.GetPid(), Namespace: in.GetNamespace(),
		Resources: in.GetSpec().GetResources(), Restarts: in.GetRestarts(), Detached: in.GetDetached(),
		PendingReason: in.GetPendingReason(),
	}
	if r.Resources == nil {
		r.Resources = map[string]float64{}
	}
	if c := in.GetDeathCause(); in.GetState() == actorv1.ActorState_ACTOR_STATE_DEAD && c != nil {
		r.DeathCause = strings.ToLower(strings.ReplaceAll(stateName(c.GetKind(), "CAUSE_KIND_"), "_", " "))
		if c.GetMessage() != "" {
			r.DeathCause += ": " + c.GetMessage()
		}
	}
	return r
}

var (
	actorColumns       = []string{"ACTOR_ID", "CLASS", "STATE", "JOB", "NAME", "NODE", "PID", "NAMESPACE"}
	actorDetailColumns = []string{"RESOURCES", "RESTARTS", "DEATH_CAUSE", "DETACHED", "PENDING_REASON"}
	// actorFilterKeys maps the keys --filter takes for actors to the
	// head's filter keys.
	actorFilterKeys = map[string]string{
		"id": "id", "actor_id": "id", "class": "class", "state": "state", "job": "job", "job_id": "job",
		"name": "name", "node": "node", "node_id": "node", "namespace": "namespace",
	}
)

func (r actorRow) cells(detail bool) []string {
	c := []string{r.ActorID, r.Class, r.State, orDash(r.JobID), orDash(r.Name), orDash(r.NodeID), pidCell(r.PID), r.Namespace}
	if detail {
		c = append(c, orDash(resourceList(r.Resources)), strconv.Itoa(int(r.Restarts)), orDash(r.DeathCause),
			strconv.FormatBool(r.Detached), orDash(r.PendingReason))
	}
	return c
}

func pidCell(pid int64) string {
	if pid == 0 {
		return "-"
	}
	return strconv.FormatInt(pid, 10)
}

// listActors asks the head for the actors that match filters (head keys).
func listActors(ctx context.Context, head actorv1connect.HeadServiceClient, filters map[string]string) ([]actorRow, error) {
	res, err := head.ListActors(ctx, connect.NewRequest(&actorv1.ListActorsRequest{Filters: filters}))
	if err != nil {
		return nil, err
	}
	rows := make([]actorRow, 0, len(res.Msg.GetActors()))
	for _, in := range res.Msg.GetActors() {
		rows = append(rows, newActorRow(in))
	}
	return rows, nil
}

// findActor finds the actor idOrName names: an actor id, else the live
// actor with that name in namespace, else the newest actor that had it.
func findActor(ctx context.Context, head actorv1connect.HeadServiceClient, idOrName, namespace string) (*actorv1.ActorInfo, error) {
	res, err := head.GetActor(ctx, connect.NewRequest(&actorv1.GetActorRequest{ActorId: idOrName}))
	if err == nil {
		return res.Msg.GetActor(), nil
	}
	if connect.CodeOf(err) != connect.CodeNotFound {
		return nil, err
	}
	res, err = head.GetActor(ctx, connect.NewRequest(&actorv1.GetActorRequest{Namespace: namespace, Name: idOrName}))
	if err == nil {
		return res.Msg.GetActor(), nil
	}
	if connect.CodeOf(err) != connect.CodeNotFound {
		return nil, err
	}
	list, err := head.ListActors(ctx, connect.NewRequest(&actorv1.ListActorsRequest{Filters: map[string]string{"name": idOrName, "namespace": namespace}}))
	if err != nil {
		return nil, err
	}
	if n := len(list.Msg.GetActors()); n > 0 {
		return list.Msg.GetActors()[n-1], nil
	}
	return nil, fmt.Errorf("no actor with id or name %q in namespace %q", idOrName, namespace)
}
