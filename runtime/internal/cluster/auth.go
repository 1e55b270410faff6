package cluster

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"connectrpc.com/connect"
)

// TokenFile is the name of the file in the head's state directory that
// holds the cluster token.
const TokenFile = "token"

// LoadOrCreateToken returns the token stored in dir, creating a random one
// readable only by its user at first start.
func LoadOrCreateToken(dir string) (string, error) {
	path := filepath.Join(dir, TokenFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if tok := strings.TrimSpace(string(b)); tok != "" {
			return tok, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	tok := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write cluster token: %w", err)
	}
	return tok, nil
}

// RequireToken wraps h so that every request must carry the cluster token
// as "Authorization: Bearer <token>"; others fail with unauthenticated, in
// whichever protocol (Connect, gRPC, gRPC-Web) the request speaks, and
// their connection is closed once the answer is sent (an HTTP/2
// connection after its other requests end).
func RequireToken(token string, h http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	ew := connect.NewErrorWriter()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("Connection", "close")
			_ = ew.Write(w, r, connect.NewError(connect.CodeUnauthenticated, errors.New("missing or wrong cluster token")))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// withToken is an HTTP client transport that adds the cluster token.
type withToken struct {
	token string
	next  http.RoundTripper
}

func (t *withToken) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.next.RoundTrip(r)
}

// AuthClient returns hc with every request carrying token.
func AuthClient(hc *http.Client, token string) *http.Client {
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c := *hc
	c.Transport = &withToken{token: token, next: next}
	return &c
}

// CloseIdleConnections closes the wrapped transport's idle connections.
func (t *withToken) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
