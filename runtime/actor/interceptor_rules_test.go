package actor_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// The serving side's interceptors of every test node, and of the
// embedded systems of the rules below. They act on Do calls whose key
// starts with "icpt-" and leave every other call alone:
//
//	guardOuter  denies key "icpt-deny" (permission_denied); else adds 1
//	            to the request's arg and "o" to the response's text
//	guardInner  multiplies the arg by 10 and adds "i" to the text
//
// Given as WithInterceptors(guardOuter, guardInner), a method that
// answers its arg and "m" answers (arg+1)*10 and "mio".
var (
	guardOuter = serveOnly(func(ctx context.Context, req *actor.Request, r *testv1.DoRequest, next actor.CallFunc) (proto.Message, error) {
		if r.GetKey() == "icpt-deny" {
			return nil, connect.NewError(connect.CodePermissionDenied, errors.New("denied by the node"))
		}
		return tagged(ctx, req, r.GetArg()+1, "o", next)
	})
	guardInner = serveOnly(func(ctx context.Context, req *actor.Request, r *testv1.DoRequest, next actor.CallFunc) (proto.Message, error) {
		return tagged(ctx, req, r.GetArg()*10, "i", next)
	})
	nodeInterceptors = actor.WithInterceptors(guardOuter, guardInner)
)

// serveOnly is an interceptor of the serving side of "icpt-" Do calls.
func serveOnly(f func(ctx context.Context, req *actor.Request, r *testv1.DoRequest, next actor.CallFunc) (proto.Message, error)) actor.Interceptor {
	return actor.InterceptorFunc(func(next actor.CallFunc) actor.CallFunc {
		return func(ctx context.Context, req *actor.Request) (proto.Message, error) {
			r, ok := req.Msg.(*testv1.DoRequest)
			if req.IsClient || !ok || !strings.HasPrefix(r.GetKey(), "icpt-") {
				return next(ctx, req)
			}
			return f(ctx, req, r, next)
		}
	})
}

// tagged calls next with the request's arg set to arg and adds tag to
// the response's text.
func tagged(ctx context.Context, req *actor.Request, arg int64, tag string, next actor.CallFunc) (proto.Message, error) {
	r := proto.Clone(req.Msg).(*testv1.DoRequest)
	r.Arg = arg
	req.Msg = r
	resp, err := next(ctx, req)
	if err != nil {
		return nil, err
	}
	out := proto.Clone(resp).(*testv1.DoResponse)
	out.Text += tag
	return out, nil
}

// "icpt": Do counts its runs in counter "ran" and answers its arg and "m".
var _ = behave("icpt", &behaviour{do: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	if _, err := count(ctx, p.init, "ran", 1); err != nil {
		return nil, err
	}
	return &testv1.DoResponse{Value: r.GetArg(), Text: "m"}, nil
}})

// callerLog records, per actor, what the caller's side of its
// interceptors saw.
type callerLog struct {
	mu     sync.Mutex
	events map[string][]string
}

func (l *callerLog) add(id, e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.events == nil {
		l.events = map[string][]string{}
	}
	l.events[id] = append(l.events[id], e)
}

func (l *callerLog) of(id string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.events[id], " ")
}

// recorder is a caller's side interceptor that logs "name>" with the
// request's key on the way in and "<name" with the response's text or the
// error's code on the way out. With deny it fails key "icpt-client-deny"
// with unauthenticated instead of calling next.
func (l *callerLog) recorder(name string, deny bool) actor.Interceptor {
	return actor.InterceptorFunc(func(next actor.CallFunc) actor.CallFunc {
		return func(ctx context.Context, req *actor.Request) (proto.Message, error) {
			r, ok := req.Msg.(*testv1.DoRequest)
			if !req.IsClient || !ok || !strings.HasPrefix(r.GetKey(), "icpt-") {
				return next(ctx, req)
			}
			l.add(req.ActorID, fmt.Sprintf("%s>%s:%s", name, req.Procedure[strings.LastIndexByte(req.Procedure, '/')+1:], r.GetKey()))
			if deny && r.GetKey() == "icpt-client-deny" {
				err := connect.NewError(connect.CodeUnauthenticated, errors.New("no credentials"))
				l.add(req.ActorID, "<"+name+":"+connect.CodeOf(err).String())
				return nil, err
			}
			resp, err := next(ctx, req)
			if err != nil {
				l.add(req.ActorID, "<"+name+":"+connect.CodeOf(err).String())
			} else {
				l.add(req.ActorID, "<"+name+":"+resp.(*testv1.DoResponse).GetText())
			}
			return resp, err
		}
	})
}

var rulesLog callerLog

// Interceptors wrap calls on both sides, the first given outermost, on an
// embedded node and from a driver to another node of a cluster. An
// interceptor that returns an error keeps the method from running, and
// the caller sees that error with its code.
func TestInterceptorsWrapBothSides(t *testing.T) {
	t.Parallel()
	callers := []actor.Interceptor{rulesLog.recorder("a", true), rulesLog.recorder("b", false)}
	forEachModeWith(t, []actor.Option{actor.WithInterceptors(callers...), nodeInterceptors}, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		h := m.spawn(t, testv1actor.ProbeOptions(), "icpt", nil)
		if m.cluster {
			// A driver of its own with the caller's interceptors; the
			// nodes have the serving side's.
			caller := connectWith(t, actor.WithInterceptors(callers...))
			var err error
			if h, err = testv1actor.ProbeFromRef(ctx, caller, h.ActorRef()); err != nil {
				t.Fatal(err)
			}
		}
		id := h.Ref().ID()

		resp, err := h.Do(ctx, &testv1.DoRequest{Key: "icpt-ok", Arg: 1}).Get(ctx)
		if err != nil || resp.GetValue() != 20 || resp.GetText() != "mio" {
			t.Fatalf("Do = %v, %v; want 20 and mio: the serving side's interceptors, the first outermost", resp, err)
		}
		if got, want := rulesLog.of(id), "a>Do:icpt-ok b>Do:icpt-ok <b:mio <a:mio"; got != want {
			t.Fatalf("the caller's side saw %q, want %q", got, want)
		}

		_, err = h.Do(ctx, &testv1.DoRequest{Key: "icpt-deny"}).Get(ctx)
		var ce *connect.Error
		if !errors.As(err, &ce) || ce.Code() != connect.CodePermissionDenied || ce.Message() != "denied by the node" {
			t.Fatalf("denied on the serving side: %v; want permission_denied: denied by the node", err)
		}
		_, err = h.Do(ctx, &testv1.DoRequest{Key: "icpt-client-deny"}).Get(ctx)
		if !errors.As(err, &ce) || ce.Code() != connect.CodeUnauthenticated || ce.Message() != "no credentials" {
			t.Fatalf("denied on the caller's side: %v; want unauthenticated: no credentials", err)
		}
		if n := m.counter(t, "ran"); n != 1 {
			t.Fatalf("the method ran %d times, want once: a denied call never runs", n)
		}
		want := "a>Do:icpt-ok b>Do:icpt-ok <b:mio <a:mio" +
			" a>Do:icpt-deny b>Do:icpt-deny <b:permission_denied <a:permission_denied" +
			" a>Do:icpt-client-deny <a:unauthenticated"
		if got := rulesLog.of(id); got != want {
			t.Fatalf("the caller's side saw\n%s\nwant\n%s", got, want)
		}
	})
}

// connectWith joins the shared cluster as a driver with opts.
func connectWith(t *testing.T, opts ...actor.Option) *actor.System {
	t.Helper()
	c := shared.get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	opts = append([]actor.Option{actor.WithNamespace(fmt.Sprintf("rule-%d", c.ns.Add(1))), actor.WithToken(c.token),
		actor.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	sys, err := actor.Connect(ctx, c.addr, opts...)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sys.Shutdown(ctx)
	})
	return sys
}
