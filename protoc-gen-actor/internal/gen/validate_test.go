package gen_test

import (
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
)

const (
	fixtureProto = "fixture/v1/fixture.proto"
	clashProto   = "fixture/clash/v1/clash.proto"
	durableProto = "fixture/v1/durable.proto"
)

// TestRefusals breaks one thing in the fixture at a time and checks that the
// generator refuses it with a message naming the file, the service, the rpc
// if any, and the option.
func TestRefusals(t *testing.T) {
	for _, c := range []struct {
		name   string
		break_ func(t *testing.T, f *fixture)
		want   string
	}{
		{
			name: "durable without state",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, durableProto, "Tally", func(o *actorv1.ActorOptions) { o.State = "" })
			},
			want: `fixture/v1/durable.proto: service fixture.v1.Tally: option state: a durable actor needs a state message; name it in state`,
		},
		{
			name: "state without durable",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, durableProto, "Tally", func(o *actorv1.ActorOptions) { o.Durable = false })
			},
			want: `fixture/v1/durable.proto: service fixture.v1.Tally: option state: only durable actors keep a state message; set durable: true or remove state`,
		},
		{
			name: "state names no message",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, durableProto, "Tally", func(o *actorv1.ActorOptions) { o.State = "Missing" })
			},
			want: `fixture/v1/durable.proto: service fixture.v1.Tally: option state: no message "Missing" (looked for fixture.v1.Missing and Missing)`,
		},
		{
			name: "state names an enum",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, durableProto, "Tally", func(o *actorv1.ActorOptions) { o.State = "actor.v1.Lifetime" })
			},
			want: `fixture/v1/durable.proto: service fixture.v1.Tally: option state: "actor.v1.Lifetime" is the enum actor.v1.Lifetime; state names a message`,
		},
		{
			name: "durable and detached",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, durableProto, "Tally", func(o *actorv1.ActorOptions) { o.Lifetime = actorv1.Lifetime_LIFETIME_DETACHED })
			},
			want: `fixture/v1/durable.proto: service fixture.v1.Tally: option lifetime: does not apply to durable actors`,
		},
		{
			name: "durable with restarts",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, durableProto, "Tally", func(o *actorv1.ActorOptions) { o.MaxRestarts = 3 })
			},
			want: `fixture/v1/durable.proto: service fixture.v1.Tally: option max_restarts: does not apply to durable actors`,
		},
		{
			name: "durable with concurrency",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, durableProto, "Tally", func(o *actorv1.ActorOptions) { o.MaxConcurrency = 4 })
			},
			want: `fixture/v1/durable.proto: service fixture.v1.Tally: option max_concurrency: does not apply to durable actors`,
		},
		{
			name: "durable with resources",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, durableProto, "Tally", func(o *actorv1.ActorOptions) { o.NumCpus = 1 })
			},
			want: `fixture/v1/durable.proto: service fixture.v1.Tally: option num_cpus: does not apply to durable actors`,
		},
		{
			name: "durable method with task retries",
			break_: func(t *testing.T, f *fixture) {
				f.methodOptions(t, durableProto, "Tally", "Total", func(o *actorv1.MethodOptions) { o.MaxTaskRetries = proto.Int32(2) })
			},
			want: `fixture/v1/durable.proto: service fixture.v1.Tally: rpc Total: option max_task_retries: durable actors are never restarted`,
		},
		{
			name: "init names no message",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Counter", func(o *actorv1.ActorOptions) { o.Init = "Foo" })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Counter: option init: no message "Foo" (looked for fixture.v1.Foo and Foo)`,
		},
		{
			name: "fully-qualified init names no message",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Counter", func(o *actorv1.ActorOptions) { o.Init = ".fixture.v1.Foo" })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Counter: option init: no message ".fixture.v1.Foo" (looked for fixture.v1.Foo)`,
		},
		{
			name: "init names an enum",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Counter", func(o *actorv1.ActorOptions) { o.Init = "actor.v1.Lifetime" })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Counter: option init: "actor.v1.Lifetime" is the enum actor.v1.Lifetime; init names a message`,
		},
		{
			name: "negative num_cpus",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Counter", func(o *actorv1.ActorOptions) { o.NumCpus = -1 })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Counter: option num_cpus: -1 is negative`,
		},
		{
			name: "NaN num_cpus",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Counter", func(o *actorv1.ActorOptions) { o.NumCpus = math.NaN() })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Counter: option num_cpus: NaN is not a finite number`,
		},
		{
			name: "negative num_gpus",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Everything", func(o *actorv1.ActorOptions) { o.NumGpus = -0.5 })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Everything: option num_gpus: -0.5 is negative`,
		},
		{
			name: "infinite num_gpus",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Everything", func(o *actorv1.ActorOptions) { o.NumGpus = math.Inf(1) })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Everything: option num_gpus: +Inf is not a finite number`,
		},
		{
			name: "negative resource",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Everything", func(o *actorv1.ActorOptions) { o.Resources["disk"] = -1 })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Everything: option resources: "disk": -1 is negative`,
		},
		{
			name: "NaN resource",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Everything", func(o *actorv1.ActorOptions) { o.Resources["disk"] = math.NaN() })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Everything: option resources: "disk": NaN is not a finite number`,
		},
		{
			name: "unnamed resource",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Everything", func(o *actorv1.ActorOptions) { o.Resources[""] = 1 })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Everything: option resources: empty resource name`,
		},
		{
			name: "negative max_concurrency",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Counter", func(o *actorv1.ActorOptions) { o.MaxConcurrency = -1 })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Counter: option max_concurrency: -1 is negative`,
		},
		{
			name: "concurrency group below 1",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Everything", func(o *actorv1.ActorOptions) { o.ConcurrencyGroups["io"] = 0 })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Everything: option concurrency_groups: "io": limit 0 is less than 1`,
		},
		{
			name: "unnamed concurrency group",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Everything", func(o *actorv1.ActorOptions) { o.ConcurrencyGroups[""] = 2 })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Everything: option concurrency_groups: empty group name`,
		},
		{
			name: "unknown concurrency group",
			break_: func(t *testing.T, f *fixture) {
				f.methodOptions(t, fixtureProto, "Everything", "Load", func(o *actorv1.MethodOptions) { o.ConcurrencyGroup = "db" })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Everything: rpc Load: option concurrency_group: "db" is not one of the service's concurrency_groups ("compute", "io")`,
		},
		{
			name: "concurrency group of a service without groups",
			break_: func(t *testing.T, f *fixture) {
				f.methodOptions(t, fixtureProto, "Counter", "Get", func(o *actorv1.MethodOptions) { o.ConcurrencyGroup = "io" })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Counter: rpc Get: option concurrency_group: "io" is not a concurrency group: the service declares none`,
		},
		{
			name: "max_restarts below -1",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Counter", func(o *actorv1.ActorOptions) { o.MaxRestarts = -2 })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Counter: option max_restarts: -2 is less than -1 (-1 means without limit)`,
		},
		{
			name: "max_task_retries below -1",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Counter", func(o *actorv1.ActorOptions) { o.MaxTaskRetries = -3 })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Counter: option max_task_retries: -3 is less than -1`,
		},
		{
			name: "method max_task_retries below -1",
			break_: func(t *testing.T, f *fixture) {
				f.methodOptions(t, fixtureProto, "Everything", "Load", func(o *actorv1.MethodOptions) { o.MaxTaskRetries = proto.Int32(-2) })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Everything: rpc Load: option max_task_retries: -2 is less than -1`,
		},
		{
			name: "negative max_pending_calls",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Counter", func(o *actorv1.ActorOptions) { o.MaxPendingCalls = -1 })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Counter: option max_pending_calls: -1 is negative`,
		},
		{
			name: "unknown lifetime",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Counter", func(o *actorv1.ActorOptions) { o.Lifetime = 7 })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Counter: option lifetime: unknown value 7 of actor.v1.Lifetime`,
		},
		{
			name: "unknown scheduling strategy",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Counter", func(o *actorv1.ActorOptions) { o.Scheduling = 9 })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Counter: option scheduling: unknown value 9 of actor.v1.SchedulingStrategy`,
		},
		{
			name: "empty label key",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Everything", func(o *actorv1.ActorOptions) { o.LabelSelector[""] = "x" })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Everything: option label_selector: empty label key`,
		},
		{
			name: "option field from a newer options.proto",
			break_: func(t *testing.T, f *fixture) {
				f.actorOptions(t, fixtureProto, "Counter", func(o *actorv1.ActorOptions) {
					raw := protowire.AppendTag(nil, 99, protowire.VarintType)
					o.ProtoReflect().SetUnknown(protowire.AppendVarint(raw, 1))
				})
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Counter: option actor: field 99 is unknown to this protoc-gen-actor`,
		},
		{
			name: "client streaming",
			break_: func(t *testing.T, f *fixture) {
				f.method(t, fixtureProto, "Counter", "Increment").ClientStreaming = proto.Bool(true)
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Counter: rpc Increment: streaming rpc Increment is not supported by actors; use unary`,
		},
		{
			name: "server streaming",
			break_: func(t *testing.T, f *fixture) {
				f.method(t, clashProto, "Actor", "Call").ServerStreaming = proto.Bool(true)
			},
			want: `fixture/clash/v1/clash.proto: service fixture.clash.v1.Actor: rpc Call: streaming rpc Call is not supported by actors; use unary`,
		},
		{
			name: "method option on a plain service",
			break_: func(t *testing.T, f *fixture) {
				f.methodOptions(t, fixtureProto, "Plain", "Ping", func(o *actorv1.MethodOptions) { o.Readonly = true })
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Plain: rpc Ping: option method: the service is not an actor`,
		},
		{
			name: "two services generate the same identifier",
			break_: func(t *testing.T, f *fixture) {
				addActor(f.file(t, fixtureProto), "Foo", "BarBaz")
				addActor(f.file(t, fixtureProto), "FooBar", "Baz")
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.FooBar: rpc Baz: generated identifier FooBarBazProcedure is also generated for service fixture.v1.Foo rpc BarBaz (fixture/v1/fixture.proto); rename one of them`,
		},
		{
			name: "two services in two files of one Go package generate the same identifier",
			break_: func(t *testing.T, f *fixture) {
				addActor(f.file(t, fixtureProto), "Foo", "BarBaz")
				addActorOn(f.file(t, "fixture/v1/edition.proto"), ".fixture.v1.AppendRequest", "FooBar", "Baz")
			},
			want: `generated identifier FooBarBazProcedure is also generated for service fixture.v1.`,
		},
		{
			name: "two rpcs with one Go name",
			break_: func(t *testing.T, f *fixture) {
				addActor(f.file(t, fixtureProto), "Twins", "do_it", "DoIt")
			},
			want: `fixture/v1/fixture.proto: service fixture.v1.Twins: rpc DoIt: Go method name DoIt is also the name of rpc do_it; rename one of them`,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := loadFixture(t)
			c.break_(t, f)
			_, err := f.generate(t)
			if err == nil {
				t.Fatalf("the generator accepted it; want an error containing\n  %s", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error:\n  %v\nwant it to contain:\n  %s", err, c.want)
			}
		})
	}
}

// TestRefusalsAll checks that one run reports every problem, not the first.
func TestRefusalsAll(t *testing.T) {
	f := loadFixture(t)
	f.actorOptions(t, fixtureProto, "Counter", func(o *actorv1.ActorOptions) { o.MaxConcurrency = -1 })
	f.actorOptions(t, clashProto, "Actor", func(o *actorv1.ActorOptions) { o.MaxRestarts = -5 })
	f.method(t, fixtureProto, "Everything", "Peek").ServerStreaming = proto.Bool(true)
	_, err := f.generate(t)
	if err == nil {
		t.Fatal("the generator accepted three problems")
	}
	for _, want := range []string{
		"service fixture.v1.Counter: option max_concurrency",
		"service fixture.clash.v1.Actor: option max_restarts",
		"service fixture.v1.Everything: rpc Peek: streaming rpc Peek",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if n := len(strings.Split(err.Error(), "\n")); n != 3 {
		t.Errorf("error has %d lines, want one a problem:\n%v", n, err)
	}
}

// TestPrivateNamesUnique checks that services whose unexported prefixes
// coincide still get distinct unexported identifiers.
func TestPrivateNamesUnique(t *testing.T) {
	f := loadFixture(t)
	addActor(f.file(t, fixtureProto), "ABC", "Run")
	addActor(f.file(t, fixtureProto), "Abc", "Run")
	files, err := f.generate(t)
	if err != nil {
		t.Fatal(err)
	}
	// Compare with spaces collapsed: gofmt aligns the var blocks.
	out := strings.Join(strings.Fields(files["protoc-gen-actor/internal/fixture/v1/fixturev1actor/fixture.actor.go"]), " ")
	for _, want := range []string{
		"abcRunMethod = actor.NewMethod(ABCRunProcedure,",
		"abcClass = actor.NewClass[*emptypb.Empty, ABCActor](",
		"abcRunMethod2 = actor.NewMethod(AbcRunProcedure,",
		"abcClass2 = actor.NewClass[*emptypb.Empty, AbcActor](",
		"return actor.Register(abcClass2, factory)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// addActor adds an actor service with unary rpcs on fixture.v1.Context.
func addActor(file *descriptorpb.FileDescriptorProto, name string, rpcs ...string) {
	addActorOn(file, ".fixture.v1.Context", name, rpcs...)
}

// addActorOn adds an actor service whose rpcs take and return msg.
func addActorOn(file *descriptorpb.FileDescriptorProto, msg, name string, rpcs ...string) {
	opts := &descriptorpb.ServiceOptions{}
	proto.SetExtension(opts, actorv1.E_Actor, &actorv1.ActorOptions{})
	s := &descriptorpb.ServiceDescriptorProto{Name: proto.String(name), Options: opts}
	for _, rpc := range rpcs {
		s.Method = append(s.Method, &descriptorpb.MethodDescriptorProto{
			Name:       proto.String(rpc),
			InputType:  proto.String(msg),
			OutputType: proto.String(msg),
		})
	}
	file.Service = append(file.Service, s)
}
