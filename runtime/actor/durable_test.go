package actor_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/troupehq/troupe/runtime/actor"
	"github.com/troupehq/troupe/runtime/actor/sqlite"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// ledger is the Ledger's behaviour: it holds no state; hooks let a test
// hold Hold and Touch calls inside the actor.
type ledger struct {
	hook    func(ctx context.Context, key string) error
	readers atomic.Int32
	writers atomic.Int32
	overlap atomic.Bool // a reader and a writer ran at once
}

func (l *ledger) Add(_ context.Context, st *testv1.LedgerState, r *testv1.LedgerAddRequest) (*testv1.LedgerValue, error) {
	st.Value += r.GetBy()
	st.Adds++
	if r.GetFail() {
		return nil, connect.NewError(connect.CodeFailedPrecondition, errors.New("asked to fail"))
	}
	if r.GetPanic() {
		panic("asked to panic")
	}
	return &testv1.LedgerValue{Value: st.GetValue(), Adds: st.GetAdds(), Note: st.GetNote()}, nil
}

func (l *ledger) Get(_ context.Context, st *testv1.LedgerState, _ *testv1.LedgerGetRequest) (*testv1.LedgerValue, error) {
	return &testv1.LedgerValue{Value: st.GetValue(), Adds: st.GetAdds(), Note: st.GetNote()}, nil
}

func (l *ledger) Hold(ctx context.Context, st *testv1.LedgerState, r *testv1.LedgerHoldRequest) (*testv1.LedgerValue, error) {
	l.readers.Add(1)
	defer l.readers.Add(-1)
	if l.writers.Load() > 0 {
		l.overlap.Store(true)
	}
	if err := l.hook(ctx, r.GetKey()); err != nil {
		return nil, err
	}
	return &testv1.LedgerValue{Value: st.GetValue()}, nil
}

func (l *ledger) Touch(ctx context.Context, st *testv1.LedgerState, r *testv1.LedgerHoldRequest) (*testv1.LedgerValue, error) {
	l.writers.Add(1)
	defer l.writers.Add(-1)
	if l.readers.Load() > 0 {
		l.overlap.Store(true)
	}
	if err := l.hook(ctx, r.GetKey()); err != nil {
		return nil, err
	}
	st.Note = r.GetKey()
	return &testv1.LedgerValue{Value: st.GetValue(), Note: st.GetNote()}, nil
}

func createLedger(_ context.Context, _ string, init *testv1.LedgerInit) (*testv1.LedgerState, error) {
	return &testv1.LedgerState{Value: init.GetStart()}, nil
}

// startDurable starts a system hosting the Ledger class with opts.
func startDurable(t testing.TB, l *ledger, opts ...actor.Option) *actor.System {
	t.Helper()
	if l == nil {
		l = &ledger{}
	}
	if l.hook == nil {
		l.hook = func(context.Context, string) error { return nil }
	}
	// A fresh store unless opts give one: a later WithStateStore wins.
	opts = append([]actor.Option{actor.WithLogger(slog.New(slog.DiscardHandler)), stateDir(t, t.TempDir()),
		actor.WithClasses(testv1actor.RegisterLedger(l, createLedger))}, opts...)
	sys, err := actor.Start(context.Background(), opts...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { shutdown(t, sys) })
	return sys
}

// stateDir keeps state in the SQLite file troupe-state.db in dir, closed
// when the test ends, after the systems it started have shut down.
func stateDir(t testing.TB, dir string) actor.Option {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(dir, "troupe-state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return actor.WithStateStore(store)
}

func shutdown(t testing.TB, sys *actor.System) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sys.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func ledgerOf(t testing.TB, sys *actor.System, id string, start int64) *testv1actor.LedgerHandle {
	t.Helper()
	h, err := testv1actor.GetOrCreateLedger(context.Background(), sys, id, &testv1.LedgerInit{Start: start})
	if err != nil {
		t.Fatalf("GetOrCreateLedger: %v", err)
	}
	return h
}

func value(t testing.TB, h *testv1actor.LedgerHandle) *testv1.LedgerValue {
	t.Helper()
	v, err := h.Get(context.Background(), &testv1.LedgerGetRequest{}).Get(context.Background())
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return v
}

func add(t testing.TB, ctx context.Context, h *testv1actor.LedgerHandle, by int64) *testv1.LedgerValue {
	t.Helper()
	v, err := h.Add(ctx, &testv1.LedgerAddRequest{By: by}).Get(ctx)
	if err != nil {
		t.Fatalf("Add(%d): %v", by, err)
	}
	return v
}

// A mutating call that errors or panics leaves the state as it was,
// though it changed the state before failing; the actor goes on serving.
func TestDurableFailedCallLeavesState(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	sys := startDurable(t, nil, stateDir(t, dir))
	h := ledgerOf(t, sys, "acct", 100)
	if v := add(t, ctx, h, 5); v.GetValue() != 105 || v.GetAdds() != 1 {
		t.Fatalf("after +5 from 100: %v", v)
	}
	_, err := h.Add(ctx, &testv1.LedgerAddRequest{By: 7, Fail: true}).Get(ctx)
	if connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatalf("failing Add: %v, want the method's failed_precondition", err)
	}
	_, err = h.Add(ctx, &testv1.LedgerAddRequest{By: 7, Panic: true}).Get(ctx)
	if connect.CodeOf(err) != connect.CodeInternal {
		t.Fatalf("panicking Add: %v, want internal", err)
	}
	if v := value(t, h); v.GetValue() != 105 || v.GetAdds() != 1 {
		t.Fatalf("after a failed and a panicked Add: %v, want value 105 after 1 add", v)
	}
	if v := add(t, ctx, h, 1); v.GetValue() != 106 || v.GetAdds() != 2 {
		t.Fatalf("the actor stopped serving after the panic: %v", v)
	}
	shutdown(t, sys)

	// What the store has is the same.
	again := startDurable(t, nil, stateDir(t, dir))
	if v := value(t, ledgerOf(t, again, "acct", 0)); v.GetValue() != 106 || v.GetAdds() != 2 {
		t.Fatalf("after restart: %v, want 106 after 2 adds", v)
	}
}

// Readonly calls run together on the committed state; a mutating call
// waits for them and they never overlap it.
func TestDurableReadonlyConcurrency(t *testing.T) {
	ctx := t.Context()
	readers, writer := newGate(3), newGate(1)
	l := &ledger{hook: func(ctx context.Context, key string) error {
		if key == "write" {
			return writer.pass(ctx)
		}
		return readers.pass(ctx)
	}}
	sys := startDurable(t, l, stateDir(t, t.TempDir()))
	h := ledgerOf(t, sys, "shared", 42)

	var holds []*actor.Future[*testv1.LedgerValue]
	for range 3 {
		holds = append(holds, h.Hold(ctx, &testv1.LedgerHoldRequest{Key: "read"}))
	}
	readers.wait(t, 3) // all three are inside at once
	touch := h.Touch(ctx, &testv1.LedgerHoldRequest{Key: "write"})
	readers.open()
	writer.wait(t, 1)
	writer.open()
	for _, f := range holds {
		if v, err := f.Get(ctx); err != nil || v.GetValue() != 42 {
			t.Fatalf("Hold = %v, %v; want 42", v, err)
		}
	}
	if v, err := touch.Get(ctx); err != nil || v.GetNote() != "write" {
		t.Fatalf("Touch = %v, %v", v, err)
	}
	if l.overlap.Load() {
		t.Fatal("a readonly call ran while a mutating call ran")
	}
	if v := value(t, h); v.GetNote() != "write" {
		t.Fatalf("Touch's change was not committed: %v", v)
	}
}

// State outlives the activation (idle timeout) and the system.
func TestDurableSurvivesDeactivationAndRestart(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	sys := startDurable(t, nil, stateDir(t, dir), actor.WithIdleTimeout(10*time.Millisecond))
	h := ledgerOf(t, sys, "long-lived", 0)
	for range 3 {
		add(t, ctx, h, 2)
	}
	if n := actor.ActiveDurable(sys); n != 1 {
		t.Fatalf("%d active durable actors, want 1", n)
	}
	eventually(t, "the idle actor to be deactivated", func() bool { return actor.ActiveDurable(sys) == 0 })
	// The same handle activates it again, with its state.
	if v := add(t, ctx, h, 2); v.GetValue() != 8 {
		t.Fatalf("after deactivation: %d, want 8", v.GetValue())
	}
	shutdown(t, sys)

	again := startDurable(t, nil, stateDir(t, dir))
	// The init is ignored: the actor exists.
	if v := value(t, ledgerOf(t, again, "long-lived", 1000)); v.GetValue() != 8 || v.GetAdds() != 4 {
		t.Fatalf("after a full restart: %v, want 8 after 4 adds", v)
	}
	// Another id is another actor, created from its init.
	if v := value(t, ledgerOf(t, again, "fresh", 1000)); v.GetValue() != 1000 {
		t.Fatalf("a new actor: %v, want its init's 1000", v)
	}
}

// A call retried with the same caller and sequence is applied once, even
// by another system after a restart.
func TestDurableRetriedCallAppliedOnce(t *testing.T) {
	dir := t.TempDir()
	sys := startDurable(t, nil, stateDir(t, dir))
	h := ledgerOf(t, sys, "idem", 0)
	first := actor.WithCallKey(t.Context(), "client-a", 1)
	for range 3 {
		if v := add(t, first, h, 10); v.GetValue() != 10 {
			t.Fatalf("call (client-a, 1) = %d, want 10 every time", v.GetValue())
		}
	}
	// Another caller with the same sequence is another call.
	if v := add(t, actor.WithCallKey(t.Context(), "client-b", 1), h, 10); v.GetValue() != 20 {
		t.Fatalf("call (client-b, 1) = %d, want 20", v.GetValue())
	}
	second := actor.WithCallKey(t.Context(), "client-a", 2)
	if v := add(t, second, h, 10); v.GetValue() != 30 {
		t.Fatalf("call (client-a, 2) = %d, want 30", v.GetValue())
	}
	shutdown(t, sys)

	again := startDurable(t, nil, stateDir(t, dir))
	h = ledgerOf(t, again, "idem", 0)
	if v := add(t, second, h, 10); v.GetValue() != 30 {
		t.Fatalf("retry of (client-a, 2) after restart = %d, want its recorded 30", v.GetValue())
	}
	if v := value(t, h); v.GetValue() != 30 || v.GetAdds() != 3 {
		t.Fatalf("state %v, want 30 after 3 adds", v)
	}
}

// State stored by an older version of the state message, without the
// fields added since, still loads into the new one.
func TestDurableStateEvolution(t *testing.T) {
	// The old LedgerState: value only.
	fd := protodesc.ToFileDescriptorProto(testv1.File_test_v1_durable_proto)
	var old *descriptorpb.DescriptorProto
	for _, m := range fd.GetMessageType() {
		if m.GetName() == "LedgerState" {
			old = m
		}
	}
	old.Field = old.Field[:1]
	fd.Name = proto.String("old/durable.proto")
	fd.Package = proto.String("old.v1")
	fd.MessageType = []*descriptorpb.DescriptorProto{old}
	fd.Service = nil
	fd.Dependency = nil
	file, err := protodesc.NewFile(fd, nil)
	if err != nil {
		t.Fatal(err)
	}
	desc := file.Messages().ByName("LedgerState")
	if desc.Fields().Len() != 1 {
		t.Fatalf("old state has %d fields", desc.Fields().Len())
	}
	msg := dynamicpb.NewMessage(desc)
	msg.Set(desc.Fields().ByName("value"), protoreflect.ValueOfInt64(41))
	b, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}

	store, err := sqlite.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Commit(t.Context(), actor.StateCommit{Class: testv1actor.LedgerClassName, ID: "old", State: b}); err != nil {
		t.Fatal(err)
	}
	sys := startDurable(t, nil, actor.WithStateStore(store))
	h := ledgerOf(t, sys, "old", 0)
	if v := value(t, h); v.GetValue() != 41 || v.GetAdds() != 0 || v.GetNote() != "" {
		t.Fatalf("old state read as %v, want value 41 and the new fields empty", v)
	}
	if v := add(t, t.Context(), h, 1); v.GetValue() != 42 || v.GetAdds() != 1 {
		t.Fatalf("after +1: %v", v)
	}
}

// GetOrCreate refuses what it cannot serve, without a panic.
func TestDurableGetOrCreateErrors(t *testing.T) {
	sys := start(t, nil) // Ledger is not registered
	if _, err := testv1actor.GetOrCreateLedger(t.Context(), sys, "x", nil); !errors.Is(err, actor.ErrUnknownClass) {
		t.Fatalf("unregistered class: %v, want ErrUnknownClass", err)
	}
	dsys := startDurable(t, nil, stateDir(t, t.TempDir()))
	if _, err := testv1actor.GetOrCreateLedger(t.Context(), dsys, "", nil); !errors.Is(err, actor.ErrInvalidOption) {
		t.Fatalf("empty id: %v, want ErrInvalidOption", err)
	}
	h := ledgerOf(t, dsys, "after", 0)
	shutdown(t, dsys)
	if _, err := h.Add(t.Context(), &testv1.LedgerAddRequest{By: 1}).Get(t.Context()); !errors.Is(err, actor.ErrSystemClosed) {
		t.Fatalf("call after shutdown: %v, want ErrSystemClosed", err)
	}
}

// A system that registers a durable class keeps its state where the
// program says: without WithStateStore, Start fails and names the option.
func TestDurableNeedsStateStore(t *testing.T) {
	sys, err := actor.Start(t.Context(), actor.WithLogger(slog.New(slog.DiscardHandler)),
		actor.WithClasses(testv1actor.RegisterLedger(&ledger{}, createLedger)))
	if err == nil {
		shutdown(t, sys)
		t.Fatal("Start with a durable class and no state store succeeded")
	}
	if !errors.Is(err, actor.ErrInvalidOption) || !strings.Contains(err.Error(), "WithStateStore") || !strings.Contains(err.Error(), testv1actor.LedgerClassName) {
		t.Fatalf("Start without a state store: %v; want ErrInvalidOption naming the class and WithStateStore", err)
	}
}
