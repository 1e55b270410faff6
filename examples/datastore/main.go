// Command datastore passes one actor's handle to another: the driver spawns
// a DataStore, then a Processor whose constructor argument carries the
// store's reference. The processor writes its results through that
// reference, and the driver reads them back from the store directly.
package main

import (
	"context"
	"fmt"
	"log"
	"strings"

	"google.golang.org/protobuf/types/known/emptypb"

	datastorev1 "github.com/troupehq/troupe/examples/datastore/gen/datastore/v1"
	"github.com/troupehq/troupe/examples/datastore/gen/datastore/v1/datastorev1actor"
	"github.com/troupehq/troupe/runtime/actor"
)

// store implements datastorev1actor.DataStoreActor. Its proto declares no
// init message, so its constructor takes a google.protobuf.Empty.
type store struct{ data map[string]string }

func newStore(context.Context, *emptypb.Empty) (datastorev1actor.DataStoreActor, error) {
	return &store{data: map[string]string{}}, nil
}

func (s *store) Put(_ context.Context, req *datastorev1.PutRequest) (*datastorev1.PutResponse, error) {
	s.data[req.GetKey()] = req.GetValue()
	return &datastorev1.PutResponse{}, nil
}

func (s *store) Get(_ context.Context, req *datastorev1.GetRequest) (*datastorev1.GetResponse, error) {
	v, ok := s.data[req.GetKey()]
	return &datastorev1.GetResponse{Found: ok, Value: v}, nil
}

// processor implements datastorev1actor.ProcessorActor.
type processor struct {
	store *datastorev1actor.DataStoreHandle
}

// newProcessor turns the reference in its init back into a typed handle,
// which it keeps for its whole life. actor.SystemFrom(ctx) is the system the
// processor runs in; DataStoreFromRef fails if the reference names an actor
// of another class.
func newProcessor(ctx context.Context, init *datastorev1.ProcessorInit) (datastorev1actor.ProcessorActor, error) {
	st, err := datastorev1actor.DataStoreFromRef(ctx, actor.SystemFrom(ctx), init.GetStore())
	if err != nil {
		return nil, fmt.Errorf("processor: the store reference: %w", err)
	}
	return &processor{store: st}, nil
}

// Process shouts the text and stores it. The processor waits for the Put,
// so a successful Process means the store holds the result.
func (p *processor) Process(ctx context.Context, req *datastorev1.ProcessRequest) (*datastorev1.ProcessResponse, error) {
	out := strings.ToUpper(req.GetText()) + "!"
	if _, err := p.store.Put(ctx, &datastorev1.PutRequest{Key: req.GetKey(), Value: out}).Get(ctx); err != nil {
		return nil, err
	}
	return &datastorev1.ProcessResponse{Stored: out}, nil
}

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	sys, err := actor.Start(ctx, actor.WithClasses(
		datastorev1actor.RegisterDataStore(newStore),
		datastorev1actor.RegisterProcessor(newProcessor),
	))
	if err != nil {
		return err
	}
	defer sys.Shutdown(ctx)

	st, err := datastorev1actor.DataStoreOptions().Spawn(ctx, sys, nil) // nil: an empty init
	if err != nil {
		return err
	}
	// ActorRef turns the handle into a message field: the same reference
	// could travel to an actor on another node or to a caller in another
	// language.
	proc, err := datastorev1actor.ProcessorOptions().Spawn(ctx, sys, &datastorev1.ProcessorInit{Store: st.ActorRef()})
	if err != nil {
		return err
	}

	records := []*datastorev1.ProcessRequest{
		{Key: "greeting", Text: "hello, troupe"},
		{Key: "farewell", Text: "see you"},
	}
	for _, r := range records {
		resp, err := proc.Process(ctx, r).Get(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("processor stored %s = %q\n", r.GetKey(), resp.GetStored())
	}

	// Read back from the store itself, not through the processor.
	for _, key := range []string{"greeting", "farewell", "missing"} {
		resp, err := st.Get(ctx, &datastorev1.GetRequest{Key: key}).Get(ctx)
		if err != nil {
			return err
		}
		if resp.GetFound() {
			fmt.Printf("store has %s = %q\n", key, resp.GetValue())
		} else {
			fmt.Printf("store has no %s\n", key)
		}
	}
	return nil
}
