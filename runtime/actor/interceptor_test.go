package actor_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// orderLog is an interceptor that logs "name>side" on the way in and
// "<name.side" on the way out, side c (caller) or s (serving), for Add
// calls.
type orderLog struct {
	mu  sync.Mutex
	log []string
}

func (tr *orderLog) add(s string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.log = append(tr.log, s)
}

func (tr *orderLog) String() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return strings.Join(tr.log, " ")
}

func (tr *orderLog) named(name string) actor.Interceptor {
	return actor.InterceptorFunc(func(next actor.CallFunc) actor.CallFunc {
		return func(ctx context.Context, req *actor.Request) (proto.Message, error) {
			if _, ok := req.Msg.(*testv1.AddRequest); !ok {
				return next(ctx, req)
			}
			side := "s"
			if req.IsClient {
				side = "c"
			}
			tr.add(name + ">" + side)
			resp, err := next(ctx, req)
			tr.add("<" + name + "." + side)
			return resp, err
		}
	})
}

// On one embedded system a call passes the caller's side of the System's
// interceptors, then the serving side of the System's and then of the
// spawn's, each the first given outermost; a spawn's interceptors wrap
// only its own actors.
func TestInterceptorOrder(t *testing.T) {
	var tr orderLog
	sys := start(t, nil, actor.WithInterceptors(tr.named("a")), actor.WithInterceptors(tr.named("b")))
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions().Interceptors(tr.named("p"), tr.named("q")), nil)
	if _, err := h.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	want := "a>c b>c a>s b>s p>s q>s <q.s <p.s <b.s <a.s <b.c <a.c"
	if got := tr.String(); got != want {
		t.Fatalf("order:\n got %s\nwant %s", got, want)
	}
	tr.log = nil
	plain := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	if _, err := plain.Add(ctx, &testv1.AddRequest{By: 1}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := tr.String(), "a>c b>c a>s b>s <b.s <a.s <b.c <a.c"; got != want {
		t.Fatalf("another actor's calls:\n got %s\nwant %s", got, want)
	}
}

// The request and response an interceptor sees are the call's, and the
// actor's id and class are the callee's.
func TestInterceptorSeesTheCall(t *testing.T) {
	type seen struct {
		req  actor.Request
		resp proto.Message
		err  error
	}
	var mu sync.Mutex
	var got []seen
	icpt := actor.InterceptorFunc(func(next actor.CallFunc) actor.CallFunc {
		return func(ctx context.Context, req *actor.Request) (proto.Message, error) {
			in := *req
			resp, err := next(ctx, req)
			mu.Lock()
			got = append(got, seen{req: in, resp: resp, err: err})
			mu.Unlock()
			return resp, err
		}
	})
	sys := start(t, nil, actor.WithInterceptors(icpt))
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions(), &testv1.ProbeInit{Start: 40})
	if _, err := h.Add(ctx, &testv1.AddRequest{By: 2}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("%d calls seen, want 2 (serving side, then caller's)", len(got))
	}
	for i, s := range got {
		if s.req.IsClient != (i == 1) || s.req.Procedure != testv1actor.ProbeAddProcedure || s.req.ActorID != h.Ref().ID() ||
			s.req.Class != "test.v1.Probe" || s.req.Msg.(*testv1.AddRequest).GetBy() != 2 ||
			s.resp.(*testv1.AddResponse).GetValue() != 42 || s.err != nil {
			t.Errorf("seen %d: %+v", i, s)
		}
	}
}

// A caller's calls keep their order through the caller's interceptors,
// even when an interceptor holds an earlier call longer than a later one.
func TestInterceptedCallsKeepOrder(t *testing.T) {
	slow := actor.InterceptorFunc(func(next actor.CallFunc) actor.CallFunc {
		return func(ctx context.Context, req *actor.Request) (proto.Message, error) {
			if r, ok := req.Msg.(*testv1.AddRequest); ok && req.IsClient && r.GetSeq()%10 == 0 {
				// An interceptor with work to do, such as fetching a
				// token: the calls made after this one wait for it.
				busy(100)
			}
			return next(ctx, req)
		}
	})
	var mu sync.Mutex
	var order []int64
	record := actor.InterceptorFunc(func(next actor.CallFunc) actor.CallFunc {
		return func(ctx context.Context, req *actor.Request) (proto.Message, error) {
			if r, ok := req.Msg.(*testv1.AddRequest); ok && !req.IsClient {
				mu.Lock()
				order = append(order, r.GetSeq())
				mu.Unlock()
			}
			return next(ctx, req)
		}
	})
	sys := start(t, nil, actor.WithInterceptors(slow, record))
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	const n = 500
	futs := make([]*actor.Future[*testv1.AddResponse], n)
	for i := range n {
		futs[i] = h.Add(ctx, &testv1.AddRequest{By: 1, Seq: int64(i)})
	}
	if _, err := actor.All(ctx, futs...); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, s := range order {
		if s != int64(i) {
			t.Fatalf("call %d ran as number %d: calls ran out of the order they were made", s, i)
		}
	}
	if len(order) != n {
		t.Fatalf("%d calls ran, want %d", len(order), n)
	}
}

// busy yields n times: work that takes a while, without a clock.
func busy(n int) {
	for range n {
		runtime.Gosched()
	}
}

// An interceptor's errors: one returned before next keeps the method from
// running and reaches the caller with its code; a panic fails the call
// with internal; a response of the wrong type fails it with
// invalid_argument. The actor lives on.
func TestInterceptorErrors(t *testing.T) {
	var ran int
	b := &behaviour{do: func(context.Context, *probe, *testv1.DoRequest) (*testv1.DoResponse, error) {
		ran++
		return &testv1.DoResponse{}, nil
	}}
	icpt := actor.InterceptorFunc(func(next actor.CallFunc) actor.CallFunc {
		return func(ctx context.Context, req *actor.Request) (proto.Message, error) {
			r, ok := req.Msg.(*testv1.DoRequest)
			if !ok {
				return next(ctx, req)
			}
			switch {
			case r.GetKey() == "deny-caller" && req.IsClient, r.GetKey() == "deny-server" && !req.IsClient:
				return nil, connect.NewError(connect.CodePermissionDenied, errors.New("not allowed"))
			case r.GetKey() == "panic" && req.IsClient:
				panic("interceptor bug")
			case r.GetKey() == "wrong-response" && req.IsClient:
				_, _ = next(ctx, req)
				return &testv1.AddResponse{}, nil
			case r.GetKey() == "wrong-request" && !req.IsClient:
				req.Msg = &testv1.AddRequest{}
			}
			return next(ctx, req)
		}
	})
	sys := start(t, b, actor.WithInterceptors(icpt))
	ctx := context.Background()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	for _, c := range []struct {
		key  string
		code connect.Code
		ran  int
	}{
		{"deny-caller", connect.CodePermissionDenied, 0},
		{"deny-server", connect.CodePermissionDenied, 0},
		{"panic", connect.CodeInternal, 0},
		{"wrong-response", connect.CodeInvalidArgument, 1},
		{"wrong-request", connect.CodeInvalidArgument, 1},
		{"ok", 0, 2},
	} {
		_, err := h.Do(ctx, &testv1.DoRequest{Key: c.key}).Get(ctx)
		if connect.CodeOf(err) != c.code && !(c.code == 0 && err == nil) {
			t.Errorf("%s: %v, want code %v", c.key, err, c.code)
		}
		if c.code == connect.CodePermissionDenied && !strings.Contains(err.Error(), "not allowed") {
			t.Errorf("%s: %v, want the interceptor's message", c.key, err)
		}
		if got, _ := h.Get(ctx, &testv1.GetRequest{}).Get(ctx); ran != c.ran || got == nil {
			t.Errorf("after %s the method ran %d times, want %d", c.key, ran, c.ran)
		}
	}
}

// Cancelling an intercepted call's future cancels the call the
// interceptors made; a serial actor waiting on an intercepted call to
// itself gets ErrDeadlock, as without interceptors.
func TestInterceptedCallCancelAndDeadlock(t *testing.T) {
	g := newGate(1)
	defer g.open()
	var sys *actor.System
	b := &behaviour{do: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		switch r.GetKey() {
		case "hold":
			return nil, g.pass(ctx)
		case "self":
			self, err := testv1actor.ProbeFromRef(ctx, sys, r.GetRef())
			if err != nil {
				return nil, err
			}
			_, err = self.Get(ctx, &testv1.GetRequest{}).Get(ctx)
			return nil, err
		}
		return &testv1.DoResponse{}, nil
	}}
	pass := actor.InterceptorFunc(func(next actor.CallFunc) actor.CallFunc { return next })
	sys = start(t, b, actor.WithInterceptors(pass))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h := spawn(t, sys, testv1actor.ProbeOptions(), nil)
	held := h.Do(ctx, &testv1.DoRequest{Key: "hold"})
	g.wait(t, 1)
	held.Cancel()
	if _, err := held.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled intercepted call: %v, want its method's ctx to end with context.Canceled", err)
	}
	_, err := h.Do(ctx, &testv1.DoRequest{Key: "self", Ref: h.ActorRef()}).Get(ctx)
	if !errors.Is(err, actor.ErrDeadlock) {
		t.Fatalf("waiting on an intercepted call to itself: %v, want ErrDeadlock", err)
	}
}

// A spawn's interceptors need the actor in this process.
func TestSpawnInterceptorsNeedTheActorHere(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	sys := connectWith(t)
	pass := actor.InterceptorFunc(func(next actor.CallFunc) actor.CallFunc { return next })
	_, err := testv1actor.ProbeOptions().Interceptors(pass).Spawn(testCtx(t), sys, nil)
	if !errors.Is(err, actor.ErrInvalidOption) || !strings.Contains(err.Error(), "WithInterceptors") {
		t.Fatalf("Spawn with interceptors on a cluster: %v, want ErrInvalidOption naming WithInterceptors", err)
	}
}

// Calls to durable actors pass the interceptors too, on both sides.
func TestInterceptorsWrapDurableCalls(t *testing.T) {
	var tr orderLog
	icpt := actor.InterceptorFunc(func(next actor.CallFunc) actor.CallFunc {
		return func(ctx context.Context, req *actor.Request) (proto.Message, error) {
			if _, ok := req.Msg.(*testv1.LedgerAddRequest); ok {
				side := "s"
				if req.IsClient {
					side = "c"
				}
				tr.add(side + ":" + req.Class + ":" + req.ActorID)
			}
			return next(ctx, req)
		}
	})
	sys := startDurable(t, nil, actor.WithInterceptors(icpt))
	h := ledgerOf(t, sys, "acct", 1)
	if v := add(t, t.Context(), h, 2); v.GetValue() != 3 {
		t.Fatalf("Add = %v, want 3", v)
	}
	if got, want := tr.String(), "c:test.v1.Ledger:acct s:test.v1.Ledger:acct"; got != want {
		t.Fatalf("interceptors saw %q, want %q", got, want)
	}
}
