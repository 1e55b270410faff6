package actor_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/runtime/actor"

	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1connect"
)

// richError is the error of behaviour "rich-error": a code, a message, a
// typed detail and metadata with two values under one key.
func richError() *connect.Error {
	err := connect.NewError(connect.CodeFailedPrecondition, errors.New("widget is locked"))
	detail, _ := connect.NewErrorDetail(&testv1.DoResponse{Value: 7, Text: "held by w-3"})
	err.AddDetail(detail)
	err.Meta().Set("x-widget", "7")
	err.Meta().Add("x-holder", "w-3")
	err.Meta().Add("x-holder", "w-4")
	return err
}

// "rich-error": Do fails with richError.
var _ = behave("rich-error", &behaviour{do: func(context.Context, *probe, *testv1.DoRequest) (*testv1.DoResponse, error) {
	return nil, richError()
}})

// checkRichError fails t unless err is richError as the caller should see
// it: same code, message, detail and metadata.
func checkRichError(t *testing.T, via string, err error) {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("%s: error %v (%T) is not a *connect.Error", via, err, err)
	}
	if ce.Code() != connect.CodeFailedPrecondition || ce.Message() != "widget is locked" {
		t.Errorf("%s: code %v, message %q; want failed_precondition, %q", via, ce.Code(), ce.Message(), "widget is locked")
	}
	if got := ce.Meta().Get("x-widget"); got != "7" {
		t.Errorf("%s: metadata x-widget = %q, want 7 (all: %v)", via, got, ce.Meta())
	}
	if got := ce.Meta().Values("x-holder"); len(got) != 2 || got[0] != "w-3" || got[1] != "w-4" {
		t.Errorf("%s: metadata x-holder = %q, want [w-3 w-4]", via, got)
	}
	if len(ce.Details()) != 1 {
		t.Fatalf("%s: %d details, want 1", via, len(ce.Details()))
	}
	v, err := ce.Details()[0].Value()
	if d, ok := v.(*testv1.DoResponse); err != nil || !ok || d.GetValue() != 7 || d.GetText() != "held by w-3" {
		t.Errorf("%s: detail = %v (%T), %v; want DoResponse{7, held by w-3}", via, v, v, err)
	}
}

// An application error keeps its code, message, details and metadata on
// the way to a caller on another node and to a caller through the
// gateway, in every protocol.
func TestApplicationErrorDetailsCross(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, m *mode) {
		ctx := testCtx(t)
		name := "rich-" + m.name
		opts := testv1actor.ProbeOptions().Name(name)
		if m.cluster {
			// On a node other than the head, whose listener serves the
			// gateway below: the error crosses nodes twice.
			opts.Scheduling(actor.NodeAffinity(workerNode(t, m), false))
		}
		h := m.spawn(t, opts, "rich-error", nil)
		_, err := h.Do(ctx, &testv1.DoRequest{}).Get(ctx)
		checkRichError(t, "handle", err)

		url, hc := gatewayOf(t, m)
		for _, p := range protocols {
			client := testv1connect.NewProbeClient(hc, url, p.opts...)
			req := named(name, &testv1.DoRequest{}).(*connect.Request[testv1.DoRequest])
			req.Header().Set(actor.HeaderNamespace, m.sys.Namespace())
			_, err := client.Do(ctx, req)
			checkRichError(t, "gateway "+p.name, err)
		}
	})
}

// workerNode is the id of a live cluster node that is not the head.
func workerNode(t *testing.T, m *mode) string {
	t.Helper()
	nodes, err := m.sys.ListNodes(testCtx(t))
	if err != nil {
		t.Fatalf("ListNodes: %v", err)
	}
	for _, n := range nodes {
		if !n.Head && n.State == "ALIVE" && n.Address != "" {
			return n.ID
		}
	}
	t.Fatalf("no live node besides the head in %+v", nodes)
	return ""
}

// gatewayOf is where m's gateway listens: a gateway served here for an
// embedded system, the head's listener (behind the cluster token) on a
// cluster.
func gatewayOf(t *testing.T, m *mode) (string, *http.Client) {
	t.Helper()
	if m.embedded() {
		return serveGateway(t, m.sys)
	}
	c := shared.get(t)
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	hc := &http.Client{Transport: &tokenTransport{token: c.token, next: &http.Transport{Protocols: p}}}
	t.Cleanup(hc.CloseIdleConnections)
	return "http://" + c.addr, hc
}

// tokenTransport sends the cluster token with every request.
type tokenTransport struct {
	token string
	next  http.RoundTripper
}

func (t *tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.next.RoundTrip(r)
}
