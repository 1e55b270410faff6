// Command troupe is the operator's tool for Troupe: it measures and
// inspects actor systems.
//
//	troupe <command> [flags]
//	troupe help [command]
//
// Each command lives in its own file and is listed in commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/troupehq/troupe/runtime/actor/otlp"
	"github.com/troupehq/troupe/runtime/bench"
)

// A command is one subcommand of troupe.
type command struct {
	name    string
	summary string // one line, for troupe help
	// run runs the command with the arguments after its name. It returns
	// a usageError for bad arguments and flag.ErrHelp when it printed its
	// help because -help or -h was given.
	run func(ctx context.Context, stdout, stderr io.Writer, args []string) error
}

// commands are troupe's subcommands, in the order troupe help lists them.
// Adding a command is a line here and a file of its own.
var commands = []command{
	{"microbenchmark", "measure actor calls against their baselines, the rows of Ray's microbenchmark", runMicrobenchmark},
	{"list", "list a cluster's actors, nodes or jobs", runList},
	{"get", "show one actor of a cluster in detail", runGet},
	{"summary", "count a cluster's actors by class and state", runSummary},
	{"status", "show a cluster's nodes, their resources and the actors waiting for one", runStatus},
	{"kill", "kill an actor of a cluster by id or name", runKill},
	{"init", "set up a Go module for actors: buf.yaml, buf.gen.yaml, a sample proto and main.go", runInit},
	{"proto", "export Troupe's protos for a buf workspace or protoc (troupe proto export DIR)", runProto},
	{"version", "print the version of Troupe this troupe was built from", runVersion},
}

// A usageError is an error in how troupe was called; troupe exits with 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func main() {
	// The network baselines start this executable again as their server.
	if code, ok := bench.ServeFromEnv(); ok {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	// Spans and metrics go where the OTEL_* environment says, if anywhere.
	shutdown, err := otlp.Setup(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "troupe:", err)
		os.Exit(1)
	}
	code := run(ctx, os.Stdout, os.Stderr, os.Args[1:])
	stop()
	_ = shutdown(context.Background())
	os.Exit(code)
}

// run runs troupe with args (without the program name) and returns the
// exit code: 0, 1 for a failed command, 2 for a usage error.
func run(ctx context.Context, stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name, args := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) == 0 {
			usage(stdout)
			return 0
		}
		// troupe help foo is troupe foo -help.
		name, args = args[0], []string{"-help"}
	}
	cmd, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "troupe: unknown command %q\n", name)
		usage(stderr)
		return 2
	}
	err := cmd.run(ctx, stdout, stderr, args)
	var uerr usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &uerr):
		fmt.Fprintf(stderr, "troupe %s: %v\n", name, err)
		return 2
	default:
		fmt.Fprintf(stderr, "troupe %s: %v\n", name, err)
		return 1
	}
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Troupe's operator tool.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage:")
	fmt.Fprintln(w, "  troupe <command> [flags]")
	fmt.Fprintln(w, "  troupe help <command>")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-16s %s\n", c.name, c.summary)
	}
}

// flagSet is the flag set of a command, with the help -help prints.
type flagSet struct {
	*flag.FlagSet
	help func()
}

// newFlagSet returns the flag set of a command. -help prints its usage,
// headed by synopsis and doc, on stdout; Parse reports errors.
func newFlagSet(name, synopsis, doc string, stdout io.Writer) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed once, by run
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, help: func() {
		fmt.Fprintf(stdout, "Usage: troupe %s %s\n\n%s\nFlags:\n", name, synopsis, doc)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}}
}

// Parse parses args and turns errors into the ones run expects:
// flag.ErrHelp once the help is printed, or a usageError. Commands take
// no positional arguments.
func (fs *flagSet) Parse(args []string) error {
	if err := fs.FlagSet.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.help()
			return err
		}
		return usagef("%v (see troupe help %s)", err, fs.Name())
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q (see troupe help %s)", fs.Args(), fs.Name())
	}
	return nil
}
