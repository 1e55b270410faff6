package actor_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/gen/actor/v1/actorv1connect"
	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1connect"
)

// serveGateway serves sys's gateway over h2c on a free port of 127.0.0.1
// and returns its URL and a client speaking HTTP/2 with prior knowledge.
func serveGateway(t *testing.T, sys *actor.System, opts ...actor.GatewayOption) (string, *http.Client) {
	t.Helper()
	h, err := sys.Gateway(opts...)
	if err != nil {
		t.Fatalf("Gateway: %v", err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	hc := &http.Client{Transport: &http.Transport{Protocols: p}}
	t.Cleanup(hc.CloseIdleConnections)
	return srv.URL, hc
}

// protocols are the three wire protocols a gateway serves, with the
// Connect protocol's JSON form too.
var protocols = []struct {
	name string
	opts []connect.ClientOption
}{
	{"connect", nil},
	{"connect+json", []connect.ClientOption{connect.WithProtoJSON()}},
	{"grpc", []connect.ClientOption{connect.WithGRPC()}},
	{"grpcweb", []connect.ClientOption{connect.WithGRPCWeb()}},
}

func named(name string, msg any) connect.AnyRequest {
	var req connect.AnyRequest
	switch m := msg.(type) {
	case *testv1.AddRequest:
		req = connect.NewRequest(m)
	case *testv1.GetRequest:
		req = connect.NewRequest(m)
	case *testv1.DoRequest:
		req = connect.NewRequest(m)
	}
	req.Header().Set(actor.HeaderActorName, name)
	return req
}

func TestGatewayCallsActorsInEveryProtocol(t *testing.T) {
	sys := start(t, nil)
	url, hc := serveGateway(t, sys)
	h := spawn(t, sys, testv1actor.ProbeOptions().Name("p"), &testv1.ProbeInit{Start: 10})
	ctx := context.Background()
	want := int64(10)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			client := testv1connect.NewProbeClient(hc, url, p.opts...)
			for range 3 {
				want++
				res, err := client.Add(ctx, named("p", &testv1.AddRequest{By: 1}).(*connect.Request[testv1.AddRequest]))
				if err != nil {
					t.Fatalf("Add: %v", err)
				}
				if res.Msg.GetValue() != want {
					t.Fatalf("Add = %d, want %d", res.Msg.GetValue(), want)
				}
				if got := res.Header().Get(actor.HeaderActorID); got != h.Ref().ID() {
					t.Errorf("response %s = %q, want %q", actor.HeaderActorID, got, h.Ref().ID())
				}
			}
			// By id, and the readonly Get.
			req := connect.NewRequest(&testv1.GetRequest{})
			req.Header().Set(actor.HeaderActorID, h.Ref().ID())
			res, err := client.Get(ctx, req)
			if err != nil || res.Msg.GetValue() != want {
				t.Fatalf("Get by id = %v, %v; want %d", res.Msg, err, want)
			}
		})
	}
	// The Go handle sees what the other callers did.
	got, err := h.Get(ctx, &testv1.GetRequest{}).Get(ctx)
	if err != nil || got.GetValue() != want {
		t.Fatalf("handle Get = %v, %v; want %d", got, err, want)
	}
}

func TestGatewayNamespaceHeaderAndHTTPGet(t *testing.T) {
	sys := start(t, nil)
	url, hc := serveGateway(t, sys)
	spawn(t, sys, testv1actor.ProbeOptions().Name("p").Namespace("other"), &testv1.ProbeInit{Start: 7})
	ctx := context.Background()
	client := testv1connect.NewProbeClient(hc, url, connect.WithHTTPGet())

	req := connect.NewRequest(&testv1.GetRequest{})
	req.Header().Set(actor.HeaderActorName, "p")
	if _, err := client.Get(ctx, req); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("Get in the default namespace: %v, want not_found", err)
	}
	req.Header().Set(actor.HeaderNamespace, "other")
	res, err := client.Get(ctx, req)
	if err != nil || res.Msg.GetValue() != 7 {
		t.Fatalf("Get in namespace other = %v, %v; want 7", res.Msg, err)
	}
	// Readonly methods take Connect GET requests.
	get, err := hc.Get(url + testv1connect.ProbeGetProcedure + "?encoding=json&message=%7B%7D&connect=v1")
	if err != nil {
		t.Fatal(err)
	}
	defer get.Body.Close()
	if get.StatusCode != http.StatusBadRequest { // no actor headers on a plain GET
		t.Errorf("GET without actor headers: status %d, want 400", get.StatusCode)
	}
}

// TestGatewayErrors sends each kind of bad request in each protocol and
// checks its code, and that the gateway still serves afterwards.
func TestGatewayErrors(t *testing.T) {
	b := &behaviour{do: func(_ context.Context, _ *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
		if r.GetKey() == "deny" {
			return nil, connect.NewError(connect.CodePermissionDenied, errors.New("no, not you"))
		}
		return &testv1.DoResponse{Text: "ok"}, nil
	}}
	sys := start(t, b)
	const token = "s3cret"
	url, hc := serveGateway(t, sys, actor.BearerToken(token), actor.MaxMessageBytes(1024))
	spawn(t, sys, testv1actor.ProbeOptions().Name("p"), nil)
	o, err := testv1actor.OtherOptions().Name("o").Spawn(context.Background(), sys, nil)
	if err != nil {
		t.Fatal(err)
	}
	auth := func(req connect.AnyRequest) connect.AnyRequest {
		req.Header().Set("Authorization", "Bearer "+token)
		return req
	}
	ctx := context.Background()

	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			client := testv1connect.NewProbeClient(hc, url, p.opts...)
			do := func(req connect.AnyRequest) error {
				_, err := client.Do(ctx, req.(*connect.Request[testv1.DoRequest]))
				return err
			}
			healthy := func() {
				t.Helper()
				res, err := client.Do(ctx, auth(named("p", &testv1.DoRequest{})).(*connect.Request[testv1.DoRequest]))
				if err != nil || res.Msg.GetText() != "ok" {
					t.Fatalf("healthy call after the error: %v, %v", res, err)
				}
			}
			byID := func(id string) connect.AnyRequest {
				req := auth(connect.NewRequest(&testv1.DoRequest{}))
				req.Header().Set(actor.HeaderActorID, id)
				return req
			}
			cases := []struct {
				name    string
				err     error
				code    connect.Code
				message string
			}{
				{"no token", do(named("p", &testv1.DoRequest{})), connect.CodeUnauthenticated, "bearer token"},
				{"wrong token", do(func() connect.AnyRequest {
					r := named("p", &testv1.DoRequest{})
					r.Header().Set("Authorization", "Bearer nope")
					return r
				}()), connect.CodeUnauthenticated, "bearer token"},
				{"no actor headers", do(auth(connect.NewRequest(&testv1.DoRequest{}))), connect.CodeInvalidArgument, "troupe-actor-name"},
				{"unknown name", do(auth(named("nobody", &testv1.DoRequest{}))), connect.CodeNotFound, `no live actor named "nobody"`},
				{"unknown id", do(byID("0123456789ab")), connect.CodeNotFound, "no actor 0123456789ab"},
				{"wrong class", do(byID(o.Ref().ID())), connect.CodeFailedPrecondition, "not a test.v1.Probe"},
				{"oversize", do(auth(named("p", &testv1.DoRequest{Key: strings.Repeat("x", 2000)}))), connect.CodeResourceExhausted, ""},
				{"application error", do(auth(named("p", &testv1.DoRequest{Key: "deny"}))), connect.CodePermissionDenied, "no, not you"},
			}
			for _, c := range cases {
				if got := connect.CodeOf(c.err); got != c.code {
					t.Errorf("%s: %v, want code %v", c.name, c.err, c.code)
				} else if !strings.Contains(c.err.Error(), c.message) {
					t.Errorf("%s: %q, want it to say %q", c.name, c.err, c.message)
				}
				healthy()
			}

			// A method no class has.
			nope := connect.NewClient[testv1.DoRequest, testv1.DoResponse](hc, url+"/test.v1.Probe/Nope", p.opts...)
			_, err := nope.CallUnary(ctx, auth(named("p", &testv1.DoRequest{})).(*connect.Request[testv1.DoRequest]))
			if connect.CodeOf(err) != connect.CodeUnimplemented {
				t.Errorf("unknown method: %v, want unimplemented", err)
			}
			healthy()
		})
	}

	// Bodies that are not the message, in each encoding.
	for _, c := range []struct{ contentType, body string }{
		{"application/proto", "\xff\xff\xff"},
		{"application/json", `{"key": 12`},
		{"application/json", `{"arg": "twelve"}`},
	} {
		req, _ := http.NewRequest(http.MethodPost, url+testv1connect.ProbeDoProcedure, strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.contentType)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set(actor.HeaderActorName, "p")
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte(`"invalid_argument"`)) {
			t.Errorf("%s body %q: %d %s, want 400 invalid_argument", c.contentType, c.body, res.StatusCode, body)
		}
	}
	// gRPC: a frame that does not decode.
	client := testv1connect.NewProbeClient(hc, url, connect.WithGRPC())
	frame := []byte{0, 0, 0, 0, 3, 0xff, 0xff, 0xff}
	req, _ := http.NewRequest(http.MethodPost, url+testv1connect.ProbeDoProcedure, bytes.NewReader(frame))
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set(actor.HeaderActorName, "p")
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if got := res.Trailer.Get("Grpc-Status"); got != "3" { // INVALID_ARGUMENT
		t.Errorf("gRPC malformed frame: grpc-status %q, want 3", got)
	}
	// An unknown path is a plain 404.
	res, err = hc.Post(url+"/no.such.Service/Method", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown service: status %d", res.StatusCode)
	}
	if _, err := client.Do(ctx, auth(named("p", &testv1.DoRequest{})).(*connect.Request[testv1.DoRequest])); err != nil {
		t.Fatalf("the gateway stopped serving: %v", err)
	}
}

func TestGatewayOptionsAreChecked(t *testing.T) {
	sys := start(t, nil)
	if _, err := sys.Gateway(actor.MaxMessageBytes(0)); !errors.Is(err, actor.ErrInvalidOption) {
		t.Fatalf("Gateway(MaxMessageBytes(0)) = %v, want ErrInvalidOption", err)
	}
}

func TestControlService(t *testing.T) {
	sys := start(t, nil)
	url, hc := serveGateway(t, sys)
	ctx := context.Background()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			control := actorv1connect.NewControlServiceClient(hc, url, p.opts...)
			probe := testv1connect.NewProbeClient(hc, url, p.opts...)
			name := "c-" + p.name
			init, err := anypb.New(&testv1.ProbeInit{Start: 5, Label: "from " + p.name})
			if err != nil {
				t.Fatal(err)
			}
			spawned, err := control.Spawn(ctx, connect.NewRequest(&actorv1.SpawnRequest{
				Class: testv1actor.ProbeClassName, Init: init, Name: name,
				Options: &actorv1.SpawnOptions{MaxRestarts: proto.Int32(2), Lifetime: actorv1.Lifetime_LIFETIME_DETACHED},
			}))
			if err != nil {
				t.Fatalf("Spawn: %v", err)
			}
			ref := spawned.Msg.GetActor()
			if ref.GetActorId() == "" || ref.GetClass() != testv1actor.ProbeClassName || ref.GetName() != name || ref.GetNamespace() != actor.DefaultNamespace {
				t.Fatalf("Spawn returned %v", ref)
			}
			got, err := probe.Get(ctx, named(name, &testv1.GetRequest{}).(*connect.Request[testv1.GetRequest]))
			if err != nil || got.Msg.GetValue() != 5 || got.Msg.GetLabel() != "from "+p.name {
				t.Fatalf("Get = %v, %v; want the init's 5", got, err)
			}

			// Spawned with the options asked for.
			list, err := control.ListActors(ctx, connect.NewRequest(&actorv1.ControlServiceListActorsRequest{Filters: map[string]string{"id": ref.GetActorId()}}))
			if err != nil || len(list.Msg.GetActors()) != 1 {
				t.Fatalf("ListActors = %v, %v", list, err)
			}
			row := list.Msg.GetActors()[0]
			if row.GetClass() != testv1actor.ProbeClassName || row.GetName() != name || !row.GetDetached() ||
				row.GetJobId() != sys.Job() || row.GetNodeId() != sys.NodeID() || row.GetPid() == 0 || row.GetNamespace() != actor.DefaultNamespace {
				t.Errorf("ListActors row = %v", row)
			}

			// GetOrCreate finds it, ignoring the init.
			other, _ := anypb.New(&testv1.ProbeInit{Start: 99})
			goc, err := control.GetOrCreate(ctx, connect.NewRequest(&actorv1.GetOrCreateRequest{Class: testv1actor.ProbeClassName, Name: name, Init: other}))
			if err != nil || goc.Msg.GetActor().GetActorId() != ref.GetActorId() {
				t.Fatalf("GetOrCreate = %v, %v; want %s", goc, err, ref.GetActorId())
			}
			// A second Spawn of the name fails.
			if _, err := control.Spawn(ctx, connect.NewRequest(&actorv1.SpawnRequest{Class: testv1actor.ProbeClassName, Name: name})); connect.CodeOf(err) != connect.CodeAlreadyExists {
				t.Errorf("Spawn of a taken name: %v, want already_exists", err)
			}
			looked, err := control.Lookup(ctx, connect.NewRequest(&actorv1.LookupRequest{Name: name}))
			if err != nil || looked.Msg.GetActor().GetActorId() != ref.GetActorId() || looked.Msg.GetActor().GetClass() != testv1actor.ProbeClassName {
				t.Fatalf("Lookup = %v, %v", looked, err)
			}
			if _, err := control.Lookup(ctx, connect.NewRequest(&actorv1.LookupRequest{Name: name, Class: testv1actor.OtherClassName})); connect.CodeOf(err) != connect.CodeFailedPrecondition {
				t.Errorf("Lookup of another class: %v, want failed_precondition", err)
			}

			// Kill by name, for good: the name is free, calls by id fail.
			if _, err := control.Kill(ctx, connect.NewRequest(&actorv1.KillRequest{Name: name, NoRestart: true})); err != nil {
				t.Fatalf("Kill: %v", err)
			}
			eventually(t, "the actor to die", func() bool { return stateOf(t, sys, ref.GetActorId()).State == actor.Dead })
			if _, err := control.Lookup(ctx, connect.NewRequest(&actorv1.LookupRequest{Name: name})); connect.CodeOf(err) != connect.CodeNotFound {
				t.Errorf("Lookup of a killed actor: %v, want not_found", err)
			}
			req := connect.NewRequest(&testv1.GetRequest{})
			req.Header().Set(actor.HeaderActorID, ref.GetActorId())
			if _, err := probe.Get(ctx, req); connect.CodeOf(err) != connect.CodeAborted {
				t.Errorf("call to a killed actor: %v, want aborted", err)
			}
			// Kill by reference of the dead actor does nothing.
			if _, err := control.Kill(ctx, connect.NewRequest(&actorv1.KillRequest{Actor: ref})); err != nil {
				t.Errorf("Kill of a dead actor: %v", err)
			}
		})
	}

	control := actorv1connect.NewControlServiceClient(hc, url)
	errCases := []struct {
		name string
		err  error
		code connect.Code
	}{
		{"unknown class", func() error {
			_, err := control.Spawn(ctx, connect.NewRequest(&actorv1.SpawnRequest{Class: "no.v1.Such"}))
			return err
		}(), connect.CodeNotFound},
		{"init of another type", func() error {
			init, _ := anypb.New(&testv1.DoRequest{})
			_, err := control.Spawn(ctx, connect.NewRequest(&actorv1.SpawnRequest{Class: testv1actor.ProbeClassName, Init: init}))
			return err
		}(), connect.CodeInvalidArgument},
		{"bad option", func() error {
			_, err := control.Spawn(ctx, connect.NewRequest(&actorv1.SpawnRequest{Class: testv1actor.ProbeClassName,
				Options: &actorv1.SpawnOptions{MaxConcurrency: proto.Int32(0)}}))
			return err
		}(), connect.CodeInvalidArgument},
		{"GetOrCreate without a name", func() error {
			_, err := control.GetOrCreate(ctx, connect.NewRequest(&actorv1.GetOrCreateRequest{Class: testv1actor.ProbeClassName}))
			return err
		}(), connect.CodeInvalidArgument},
		{"Kill of nothing", func() error {
			_, err := control.Kill(ctx, connect.NewRequest(&actorv1.KillRequest{}))
			return err
		}(), connect.CodeInvalidArgument},
		{"Kill of an unknown name", func() error {
			_, err := control.Kill(ctx, connect.NewRequest(&actorv1.KillRequest{Name: "nobody"}))
			return err
		}(), connect.CodeNotFound},
		{"Kill of an unknown id", func() error {
			_, err := control.Kill(ctx, connect.NewRequest(&actorv1.KillRequest{Actor: &actorv1.ActorRef{ActorId: "0123"}}))
			return err
		}(), connect.CodeNotFound},
	}
	for _, c := range errCases {
		if got := connect.CodeOf(c.err); got != c.code {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.code)
		}
	}
}

func TestGatewayReflectionAndHealth(t *testing.T) {
	sys := start(t, nil)
	url, hc := serveGateway(t, sys, actor.BearerToken("t"))
	ctx := context.Background()

	refl := grpcreflect.NewClient(hc, url, connect.WithInterceptors(bearer("t")))
	stream := refl.NewStream(ctx)
	names, err := stream.ListServices()
	if err != nil {
		t.Fatalf("ListServices: %v", err)
	}
	want := map[string]bool{testv1actor.ProbeClassName: false, testv1actor.OtherClassName: false, actorv1connect.ControlServiceName: false}
	for _, n := range names {
		if _, ok := want[string(n)]; ok {
			want[string(n)] = true
		}
	}
	for n, found := range want {
		if !found {
			t.Errorf("reflection lists %v, without %s", names, n)
		}
	}
	file, err := stream.FileContainingSymbol("test.v1.ProbeInit")
	if err != nil || len(file) == 0 || file[0].GetPackage() != "test.v1" {
		t.Errorf("FileContainingSymbol(test.v1.ProbeInit) = %v, %v", file, err)
	}
	_, _ = stream.Close()

	// Health needs no token, and says NOT_SERVING once the system is down.
	check := func(service string) (int, string) {
		res, err := hc.Post(url+"/grpc.health.v1.Health/Check", "application/json", strings.NewReader(`{"service":"`+service+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	serving := func(body string) bool {
		return strings.Contains(body, `_SERVING"`) && !strings.Contains(body, "NOT_SERVING")
	}
	if code, body := check(""); code != 200 || !serving(body) {
		t.Errorf("health: %d %s", code, body)
	}
	if code, body := check(testv1actor.ProbeClassName); code != 200 || !serving(body) {
		t.Errorf("health of Probe: %d %s", code, body)
	}
	if code, _ := check("no.v1.Such"); code != http.StatusNotFound {
		t.Errorf("health of an unknown service: %d, want 404", code)
	}
	if err := sys.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if code, body := check(""); code != 200 || !strings.Contains(body, `NOT_SERVING"`) {
		t.Errorf("health after Shutdown: %d %s", code, body)
	}
}

// bearer adds the token to every request of a client.
func bearer(token string) connect.Interceptor {
	return bearerClient(token)
}

type bearerClient string

func (b bearerClient) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		req.Header().Set("Authorization", "Bearer "+string(b))
		return next(ctx, req)
	}
}

func (b bearerClient) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		conn.RequestHeader().Set("Authorization", "Bearer "+string(b))
		return conn
	}
}

func (b bearerClient) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// FuzzGateway sends the gateway requests with random paths, protocols,
// headers and bodies. Whatever arrives, the gateway answers without
// panicking, and a well-formed call still works afterwards.
func FuzzGateway(f *testing.F) {
	sys := start(f, nil)
	h, err := sys.Gateway(actor.MaxMessageBytes(1 << 10))
	if err != nil {
		f.Fatal(err)
	}
	if _, err := testv1actor.ProbeOptions().Name("p").Spawn(context.Background(), sys, nil); err != nil {
		f.Fatal(err)
	}
	add, _ := proto.Marshal(&testv1.AddRequest{By: 1})
	grpcFrame := append([]byte{0, 0, 0, 0, byte(len(add))}, add...)
	seeds := []struct {
		path, contentType, name, id string
		body                        []byte
	}{
		{testv1connect.ProbeAddProcedure, "application/proto", "p", "", add},
		{testv1connect.ProbeAddProcedure, "application/json", "p", "", []byte(`{"by": "3"}`)},
		{testv1connect.ProbeAddProcedure, "application/json", "p", "", []byte(`{"by": 1e400}`)},
		{testv1connect.ProbeAddProcedure, "application/grpc", "p", "", grpcFrame},
		{testv1connect.ProbeAddProcedure, "application/grpc-web+proto", "p", "", grpcFrame},
		{testv1connect.ProbeAddProcedure, "application/grpc", "p", "", []byte{1, 0, 0, 0, 3, 1, 2, 3}}, // "compressed"
		{testv1connect.ProbeAddProcedure, "application/grpc", "p", "", []byte{0, 0xff, 0xff, 0xff, 0xff}},
		{testv1connect.ProbeAddProcedure, "application/proto", "", "", add},
		{testv1connect.ProbeAddProcedure, "application/proto", "", "\x00\xff", add},
		{testv1connect.ProbeAddProcedure, "application/proto", "nobody", "", nil},
		{testv1connect.ProbeGetProcedure, "application/json", "p", "", []byte(`{}`)},
		{testv1connect.ProbeDoProcedure, "application/json", "p", "", []byte(`{"ref": {"actorId": 7}}`)},
		{"/actor.v1.ControlService/Spawn", "application/json", "", "", []byte(`{"class": "test.v1.Probe", "init": {"@type": "type.googleapis.com/test.v1.ProbeInit", "start": 1}}`)},
		{"/actor.v1.ControlService/Spawn", "application/json", "", "", []byte(`{"class": "test.v1.Probe", "init": {"@type": "type.googleapis.com/no.Such"}}`)},
		{"/actor.v1.ControlService/Kill", "application/json", "", "", []byte(`{"name": "nobody"}`)},
		{"/actor.v1.ControlService/ListActors", "application/json", "", "", []byte(`{"filters": {"state": "ALIVE"}}`)},
		{"/test.v1.Probe/Nope", "application/json", "p", "", []byte(`{}`)},
		{"/", "text/plain", "", "", []byte("hello")},
		{"/grpc.health.v1.Health/Check", "application/json", "", "", []byte(`{"service": 1}`)},
	}
	for _, s := range seeds {
		f.Add(s.path, s.contentType, s.name, s.id, s.body)
	}
	f.Fuzz(func(t *testing.T, path, contentType, name, id string, body []byte) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req := httptest.NewRequest(http.MethodPost, "http://gateway.test/", bytes.NewReader(body))
		req.URL.Path = path
		req.ProtoMajor, req.ProtoMinor, req.Proto = 2, 0, "HTTP/2.0"
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Te", "trailers")
		if name != "" {
			req.Header.Set(actor.HeaderActorName, name)
		}
		if id != "" {
			req.Header.Set(actor.HeaderActorID, id)
		}
		// Kills would stop the actor the check below calls.
		if strings.Contains(path, "Kill") {
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == 0 {
			t.Fatal("no status written")
		}
		if rec.Code >= 500 && rec.Code != http.StatusNotImplemented && rec.Code != http.StatusServiceUnavailable {
			// Connect maps unknown/internal codes to 500: only an
			// application error may produce them, and Probe's Add
			// returns none.
			if bytes.Contains(rec.Body.Bytes(), []byte("panic")) {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
	// The gateway still serves a well-formed call.
	req := httptest.NewRequest(http.MethodPost, "http://gateway.test"+testv1connect.ProbeGetProcedure, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(actor.HeaderActorName, "p")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		f.Fatalf("after fuzzing: %d %s", rec.Code, rec.Body)
	}
}
