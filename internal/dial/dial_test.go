package dial_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/troupehq/troupe/internal/dial"
	"github.com/troupehq/troupe/internal/testcert"
)

// A client built from TLSConfig(ca) reaches a server whose certificate ca
// signed, over HTTP/2, with the token; one built without it does not.
func TestClientTrustsTheGivenAuthorityAndSendsTheToken(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := testcert.SelfSigned(t, dir)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization") + " " + r.Proto
	}))
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()

	conf, err := dial.TLSConfig(certFile)
	if err != nil {
		t.Fatal(err)
	}
	hc, scheme := dial.HTTP2Client(conf)
	if scheme != "https" {
		t.Fatalf("scheme = %q, want https", scheme)
	}
	res, err := dial.WithToken(hc, "s3cret").Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got != "Bearer s3cret HTTP/2.0" {
		t.Fatalf("server saw %q, want the token over HTTP/2", got)
	}

	system, err := dial.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := dial.HTTP2Client(system)
	if res, err := plain.Get(srv.URL); err == nil {
		res.Body.Close()
		t.Fatal("a client trusting only the system's authorities accepted a self-signed certificate")
	}
}

func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := dial.TLSConfig(filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("TLSConfig(missing file) = nil error")
	}
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := dial.TLSConfig(junk); err == nil {
		t.Error("TLSConfig(file without PEM) = nil error")
	}
}

func TestEmptyTokenSendsNoHeader(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Values("Authorization")
	}))
	defer srv.Close()
	res, err := dial.WithToken(srv.Client(), "").Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(got) != 0 {
		t.Fatalf("Authorization = %q, want none", got)
	}
}
