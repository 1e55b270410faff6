package main

// initFiles are the files troupe init writes, templates of initData.
var initFiles = []initFile{
	{"buf.yaml", `# A buf workspace of two modules: your protos in proto/, and Troupe's
# (actor/v1/options.proto and the files beside it) in third_party/troupe,
# written by troupe proto export; run it again after upgrading Troupe. With a
# registry instead, delete that module and declare
#   deps: [buf.build/troupehq/troupe]
# then run buf dep update.
version: v2
modules:
  - path: proto
  - path: third_party/troupe
    name: buf.build/troupehq/troupe
lint:
  use: [STANDARD]
  # Actor classes are named after what they are (Greeter), not FooService.
  except: [SERVICE_SUFFIX]
breaking:
  use: [FILE]
`},
	{"buf.gen.yaml", `# go tool buf generate writes the Go code of your protos into gen/: protoc-gen-go
# the messages, protoc-gen-actor the actor classes (package greeterv1actor
# beside greeterv1). The plugins run with go tool, so their versions are the
# ones go.mod pins, the same Troupe as the runtime the code calls.
#
# Only proto/ is generated: Troupe's own protos already have their Go code,
# package actorv1 in github.com/troupehq/troupe/gen/actor/v1, which managed
# mode must leave them pointing at.
version: v2
inputs:
  - directory: proto
managed:
  enabled: true
  disable:
    - module: buf.build/troupehq/troupe
  override:
    - file_option: go_package_prefix
      value: {{.Module}}/gen
plugins:
  - local: ["go", "tool", "protoc-gen-go"]
    out: gen
    opt: paths=source_relative
  - local: ["go", "tool", "protoc-gen-actor"]
    out: gen
    opt: paths=source_relative
`},
	{"proto/greeter/v1/greeter.proto", `syntax = "proto3";

// Package greeter.v1 is a first actor class.
package greeter.v1;

import "actor/v1/options.proto";

// Greeter greets and counts whom it greeted. The actor option makes the
// service an actor class; init names its constructor's message.
service Greeter {
  option (actor.v1.actor) = {init: "GreeterInit"};

  // Greet returns a greeting for name.
  rpc Greet(GreetRequest) returns (GreetResponse);
}

// GreeterInit is the constructor's argument.
message GreeterInit {
  // greeting starts every message, such as "Hello".
  string greeting = 1;
}

// GreetRequest names whom to greet.
message GreetRequest {
  // name is whom to greet.
  string name = 1;
}

// GreetResponse is the greeting.
message GreetResponse {
  // message is the greeting, such as "Hello, Ada (1 greeted)".
  string message = 1;
}
`},
	{"main.go", `// This program starts an embedded Troupe node, spawns a Greeter actor and
// calls it.
package main

import (
	"context"
	"fmt"
	"log"

	greeterv1 "{{.Module}}/gen/greeter/v1"
	"{{.Module}}/gen/greeter/v1/greeterv1actor"
	"github.com/troupehq/troupe/runtime/actor"
)

// greeter implements greeterv1actor.GreeterActor. The runtime runs one of its
// methods at a time, so its state needs no lock.
type greeter struct {
	greeting string
	greeted  int
}

func newGreeter(_ context.Context, init *greeterv1.GreeterInit) (greeterv1actor.GreeterActor, error) {
	return &greeter{greeting: init.GetGreeting()}, nil
}

func (g *greeter) Greet(_ context.Context, req *greeterv1.GreetRequest) (*greeterv1.GreetResponse, error) {
	g.greeted++
	return &greeterv1.GreetResponse{Message: fmt.Sprintf("%s, %s (%d greeted)", g.greeting, req.GetName(), g.greeted)}, nil
}

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	sys, err := actor.Start(ctx, actor.WithClasses(greeterv1actor.RegisterGreeter(newGreeter)))
	if err != nil {
		return err
	}
	defer sys.Shutdown(ctx)

	g, err := greeterv1actor.GreeterOptions().Spawn(ctx, sys, &greeterv1.GreeterInit{Greeting: "Hello"})
	if err != nil {
		return err
	}
	fut := g.Greet(ctx, &greeterv1.GreetRequest{Name: "Ada"}) // returns at once
	resp, err := fut.Get(ctx)                                  // waits for the answer
	if err != nil {
		return err
	}
	fmt.Println(resp.GetMessage())
	return nil
}
`},
}
