// Command named shows named actors: looking one up by name, spawning with
// GetIfExists to get the existing actor instead of a second one, and
// namespaces, which keep equal names apart.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"

	namedv1 "github.com/troupehq/troupe/examples/named/gen/named/v1"
	"github.com/troupehq/troupe/examples/named/gen/named/v1/namedv1actor"
	"github.com/troupehq/troupe/runtime/actor"
)

// greeter implements namedv1actor.GreeterActor.
type greeter struct{ greeting string }

func newGreeter(_ context.Context, init *namedv1.GreeterInit) (namedv1actor.GreeterActor, error) {
	return &greeter{greeting: init.GetGreeting()}, nil
}

func (g *greeter) Greet(_ context.Context, req *namedv1.GreetRequest) (*namedv1.GreetResponse, error) {
	return &namedv1.GreetResponse{Text: g.greeting + ", " + req.GetName()}, nil
}

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	// Without WithNamespace the system's namespace is "default": the names
	// its actors take and look up live there.
	sys, err := actor.Start(ctx, actor.WithClasses(namedv1actor.RegisterGreeter(newGreeter)))
	if err != nil {
		return err
	}
	defer sys.Shutdown(ctx)

	greet := func(label string, h *namedv1actor.GreeterHandle) error {
		resp, err := h.Greet(ctx, &namedv1.GreetRequest{Name: "Ada"}).Get(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("%s: %s\n", label, resp.GetText())
		return nil
	}

	// With GetIfExists, the first spawn creates the actor and a second one
	// with the same name returns it: the second init is ignored.
	spawn := namedv1actor.GreeterOptions().Name("greeter").GetIfExists(true)
	first, err := spawn.Spawn(ctx, sys, &namedv1.GreeterInit{Greeting: "Hello"})
	if err != nil {
		return err
	}
	second, err := spawn.Spawn(ctx, sys, &namedv1.GreeterInit{Greeting: "Bonjour"})
	if err != nil {
		return err
	}
	fmt.Println("both spawns returned the same actor:", first.Ref().ID() == second.Ref().ID())
	if err := greet("first spawn", first); err != nil {
		return err
	}
	if err := greet("second spawn", second); err != nil {
		return err
	}

	// Without GetIfExists, a taken name is an error.
	_, err = namedv1actor.GreeterOptions().Name("greeter").Spawn(ctx, sys, &namedv1.GreeterInit{Greeting: "Hola"})
	fmt.Println("spawn without GetIfExists: name taken:", errors.Is(err, actor.ErrNameTaken))

	// Anyone with the system can find the actor by its name.
	found, err := namedv1actor.GetGreeter(ctx, sys, "greeter")
	if err != nil {
		return err
	}
	if err := greet("looked up by name", found); err != nil {
		return err
	}

	// Names are per namespace: "other" has no greeter yet.
	_, err = namedv1actor.GetGreeter(ctx, sys, "greeter", actor.InNamespace("other"))
	if !errors.Is(err, actor.ErrActorNotFound) {
		return fmt.Errorf("lookup in namespace other: got %v, want ErrActorNotFound", err)
	}
	fmt.Println("lookup in namespace other:", err)

	// The same name in another namespace is another actor.
	_, err = namedv1actor.GreeterOptions().Name("greeter").Namespace("other").
		Spawn(ctx, sys, &namedv1.GreeterInit{Greeting: "Hallo"})
	if err != nil {
		return err
	}
	other, err := namedv1actor.GetGreeter(ctx, sys, "greeter", actor.InNamespace("other"))
	if err != nil {
		return err
	}
	if err := greet("greeter in namespace other", other); err != nil {
		return err
	}
	return greet("greeter in namespace default", found)
}
