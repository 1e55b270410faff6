// Command cluster runs a cluster on this machine: a head and two nodes,
// each a child process running this same binary as a node, with a custom
// resource apiece. It pins a generator, a processor and a writer to the
// three nodes by those resources and runs numbers through them; then it
// leaves a detached, named journal behind that a second driver, in a
// process of its own, finds by name after the first has gone. It stops
// every process it started before it exits.
//
// The binary has three faces:
//
//	cluster                              the demo
//	cluster start --head ... | --address ...   a node (cluster.RunNode)
//	cluster second-driver HOST:PORT      the second driver
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	pipelinev1 "github.com/troupehq/troupe/examples/cluster/gen/pipeline/v1"
	"github.com/troupehq/troupe/examples/cluster/gen/pipeline/v1/pipelinev1actor"
	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/actor/otlp"
	"github.com/troupehq/troupe/runtime/cluster"
)

// namespace is where the journal's name lives.
const namespace = "pipeline"

// childEnv marks a node started by the demo: it ends when its stdin closes,
// so it never outlives the demo.
const childEnv = "TROUPE_CLUSTER_EXAMPLE_CHILD"

// quiet logs warnings and errors only, so the demo's output stays its own.
var quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

func main() {
	ctx := context.Background()
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "start":
		err = runNode(ctx, os.Args[1:])
	case len(os.Args) > 2 && os.Args[1] == "second-driver":
		err = secondDriver(ctx, os.Args[2])
	default:
		err = run(ctx)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// classes are the actor classes every node of the cluster hosts.
func classes() actor.Option {
	return actor.WithClasses(
		pipelinev1actor.RegisterGenerator(newGenerator),
		pipelinev1actor.RegisterProcessor(newProcessor),
		pipelinev1actor.RegisterWriter(newWriter),
		pipelinev1actor.RegisterJournal(newJournal),
	)
}

// runNode runs this binary as a node until it is told to stop.
func runNode(ctx context.Context, args []string) error {
	if os.Getenv(childEnv) != "" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			cancel()
		}()
	}
	// A node process exports its spans and metrics where the OTEL_*
	// environment says, if it names an exporter.
	shutdown, err := otlp.Setup(ctx)
	if err != nil {
		return err
	}
	defer shutdown(context.WithoutCancel(ctx))
	return cluster.RunNode(ctx, args, classes(), actor.WithLogger(quiet))
}

// nodeSpec is one node of the demo's cluster.
type nodeSpec struct {
	id       string
	resource string // the custom resource only this node has
}

var nodes = []nodeSpec{
	{"node-a", "generator_node"}, // the head
	{"node-b", "processor_node"},
	{"node-c", "writer_node"},
}

func run(ctx context.Context) (err error) {
	stateDir, err := os.MkdirTemp("", "troupe-cluster-example")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stateDir)

	// Start the head, then the two nodes that join it. Whatever happens
	// next, every process started is stopped before run returns.
	var procs []*child
	defer func() {
		for i := len(procs) - 1; i >= 0; i-- {
			if serr := procs[i].stop(); serr != nil && err == nil {
				err = serr
			}
		}
		if err == nil {
			fmt.Printf("stopped %d node processes\n", len(procs))
		}
	}()
	head, err := startChild(ctx, nil, "start", "--head", "--state-dir", stateDir, "--node-id", nodes[0].id,
		"--resources", fmt.Sprintf(`{%q: 1}`, nodes[0].resource))
	if err != nil {
		return err
	}
	procs = append(procs, head)
	b, err := os.ReadFile(filepath.Join(stateDir, "token"))
	if err != nil {
		return err
	}
	token := strings.TrimSpace(string(b))
	for _, n := range nodes[1:] {
		p, err := startChild(ctx, []string{actor.TokenEnv + "=" + token}, "start", "--address", head.addr,
			"--node-id", n.id, "--resources", fmt.Sprintf(`{%q: 1}`, n.resource))
		if err != nil {
			return err
		}
		procs = append(procs, p)
	}
	fmt.Printf("cluster: head %s, nodes %s and %s\n", nodes[0].id, nodes[1].id, nodes[2].id)

	if err := firstDriver(ctx, head.addr, token); err != nil {
		return err
	}

	// The second driver is another process: it finds the journal by name.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, self, "second-driver", head.addr)
	cmd.Env = append(os.Environ(), actor.TokenEnv+"="+token)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("second driver: %w", err)
	}
	return nil
}

// firstDriver pins the pipeline's stages to the three nodes, runs numbers
// through them and leaves a detached journal behind.
func firstDriver(ctx context.Context, addr, token string) error {
	sys, err := actor.Connect(ctx, addr, actor.WithNamespace(namespace), actor.WithToken(token), actor.WithLogger(quiet))
	if err != nil {
		return err
	}
	defer sys.Shutdown(context.WithoutCancel(ctx))

	// Each stage needs one unit of a resource that only one node has.
	pin := func(resource string) map[string]float64 { return map[string]float64{resource: 1} }
	gen, err := pipelinev1actor.GeneratorOptions().Resources(pin("generator_node")).
		Spawn(ctx, sys, &pipelinev1.GeneratorInit{Start: 1})
	if err != nil {
		return err
	}
	proc, err := pipelinev1actor.ProcessorOptions().Resources(pin("processor_node")).
		Spawn(ctx, sys, &pipelinev1.ProcessorInit{Factor: 10})
	if err != nil {
		return err
	}
	wr, err := pipelinev1actor.WriterOptions().Resources(pin("writer_node")).
		Spawn(ctx, sys, &pipelinev1.WriterInit{})
	if err != nil {
		return err
	}
	gn, err := gen.Node(ctx, &pipelinev1.NodeRequest{}).Get(ctx)
	if err != nil {
		return err
	}
	pn, err := proc.Node(ctx, &pipelinev1.ProcessorNodeRequest{}).Get(ctx)
	if err != nil {
		return err
	}
	wn, err := wr.Node(ctx, &pipelinev1.WriterNodeRequest{}).Get(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("Generator -> %s\n", gn.GetNodeId())
	fmt.Printf("Processor -> %s\n", pn.GetNodeId())
	fmt.Printf("Writer    -> %s\n", wn.GetNodeId())

	// The pipeline: each stage's output is the next one's input.
	generated, err := gen.Generate(ctx, &pipelinev1.GenerateRequest{Count: 3}).Get(ctx)
	if err != nil {
		return err
	}
	processed, err := proc.Process(ctx, &pipelinev1.ProcessRequest{Values: generated.GetValues()}).Get(ctx)
	if err != nil {
		return err
	}
	written, err := wr.Write(ctx, &pipelinev1.WriteRequest{Values: processed.GetValues()}).Get(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("pipeline: generated %v, processed %v, written %d with sum %d\n",
		generated.GetValues(), processed.GetValues(), written.GetWritten(), written.GetSum())

	// A detached actor outlives this driver; its name finds it later.
	journal, err := pipelinev1actor.JournalOptions().Name("journal").Lifetime(actor.Detached).
		Spawn(ctx, sys, &pipelinev1.JournalInit{Title: "pipeline runs"})
	if err != nil {
		return err
	}
	line := fmt.Sprintf("wrote %d numbers, sum %d", written.GetWritten(), written.GetSum())
	if _, err := journal.Append(ctx, &pipelinev1.AppendRequest{Line: line}).Get(ctx); err != nil {
		return err
	}
	fmt.Printf("first driver: journal %q in namespace %s, detached; shutting down\n", "journal", namespace)
	return sys.Shutdown(ctx)
}

// secondDriver joins the cluster after the first driver ended and finds
// the journal by name: in its namespace, and not in another.
func secondDriver(ctx context.Context, addr string) error {
	sys, err := actor.Connect(ctx, addr, actor.WithNamespace(namespace), actor.WithLogger(quiet))
	if err != nil {
		return err
	}
	defer sys.Shutdown(context.WithoutCancel(ctx))
	journal, err := pipelinev1actor.GetJournal(ctx, sys, "journal")
	if err != nil {
		return err
	}
	read, err := journal.Read(ctx, &pipelinev1.ReadRequest{}).Get(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("second driver: found journal %q in namespace %s: %q\n", read.GetTitle(), namespace, read.GetLines())
	_, err = pipelinev1actor.GetJournal(ctx, sys, "journal", actor.InNamespace("other"))
	switch {
	case errors.Is(err, actor.ErrActorNotFound):
		fmt.Println("second driver: no journal in namespace other: names are per namespace")
	case err == nil:
		return errors.New("found the journal in namespace other")
	default:
		return err
	}
	// The journal is detached: it lives until someone kills it.
	if err := sys.Kill(ctx, journal, actor.NoRestart()); err != nil {
		return err
	}
	fmt.Println("second driver: killed the journal")
	return sys.Shutdown(ctx)
}

// child is a node process the demo started.
type child struct {
	cmd   *exec.Cmd
	stdin io.Closer
	addr  string
	done  chan error
}

var listening = regexp.MustCompile(`^troupe node listening address=(\S+)`)

// startChild runs this binary with args and env and waits until it prints
// the address it listens at.
func startChild(ctx context.Context, env []string, args ...string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		c.done <- cmd.Wait()
	}()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	select {
	case c.addr = <-addr:
		return c, nil
	case err := <-c.done:
		return nil, fmt.Errorf("%v exited before it listened: %v", args, err)
	case <-timeout.C:
	case <-ctx.Done():
	}
	_ = cmd.Process.Kill()
	<-c.done
	return nil, fmt.Errorf("%v did not start listening", args)
}

// stop ends the node gracefully (its stdin closes) and waits for it,
// killing it if it takes too long.
func (c *child) stop() error {
	_ = c.stdin.Close()
	select {
	case err := <-c.done:
		return err
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("node %d did not stop in time: killed", c.cmd.Process.Pid)
	}
}

// The actors.

type generator struct{ next int64 }

func newGenerator(_ context.Context, init *pipelinev1.GeneratorInit) (pipelinev1actor.GeneratorActor, error) {
	return &generator{next: init.GetStart()}, nil
}

func (g *generator) Node(ctx context.Context, _ *pipelinev1.NodeRequest) (*pipelinev1.NodeResponse, error) {
	return &pipelinev1.NodeResponse{NodeId: actor.SystemFrom(ctx).NodeID()}, nil
}

func (g *generator) Generate(_ context.Context, req *pipelinev1.GenerateRequest) (*pipelinev1.GenerateResponse, error) {
	out := &pipelinev1.GenerateResponse{}
	for range req.GetCount() {
		out.Values = append(out.Values, g.next)
		g.next++
	}
	return out, nil
}

type processor struct{ factor int64 }

func newProcessor(_ context.Context, init *pipelinev1.ProcessorInit) (pipelinev1actor.ProcessorActor, error) {
	return &processor{factor: init.GetFactor()}, nil
}

func (p *processor) Node(ctx context.Context, _ *pipelinev1.ProcessorNodeRequest) (*pipelinev1.ProcessorNodeResponse, error) {
	return &pipelinev1.ProcessorNodeResponse{NodeId: actor.SystemFrom(ctx).NodeID()}, nil
}

func (p *processor) Process(_ context.Context, req *pipelinev1.ProcessRequest) (*pipelinev1.ProcessResponse, error) {
	out := &pipelinev1.ProcessResponse{}
	for _, v := range req.GetValues() {
		out.Values = append(out.Values, v*p.factor)
	}
	return out, nil
}

type writer struct{ written, sum int64 }

func newWriter(context.Context, *pipelinev1.WriterInit) (pipelinev1actor.WriterActor, error) {
	return &writer{}, nil
}

func (w *writer) Node(ctx context.Context, _ *pipelinev1.WriterNodeRequest) (*pipelinev1.WriterNodeResponse, error) {
	return &pipelinev1.WriterNodeResponse{NodeId: actor.SystemFrom(ctx).NodeID()}, nil
}

func (w *writer) Write(_ context.Context, req *pipelinev1.WriteRequest) (*pipelinev1.WriteResponse, error) {
	for _, v := range req.GetValues() {
		w.written++
		w.sum += v
	}
	return &pipelinev1.WriteResponse{Written: w.written, Sum: w.sum}, nil
}

type journal struct {
	title string
	lines []string
}

func newJournal(_ context.Context, init *pipelinev1.JournalInit) (pipelinev1actor.JournalActor, error) {
	return &journal{title: init.GetTitle()}, nil
}

func (j *journal) Append(_ context.Context, req *pipelinev1.AppendRequest) (*pipelinev1.AppendResponse, error) {
	j.lines = append(j.lines, req.GetLine())
	return &pipelinev1.AppendResponse{Lines: int32(len(j.lines))}, nil
}

func (j *journal) Read(context.Context, *pipelinev1.ReadRequest) (*pipelinev1.ReadResponse, error) {
	return &pipelinev1.ReadResponse{Title: j.title, Lines: j.lines}, nil
}
