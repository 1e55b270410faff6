// Package dial is how every Troupe process reaches a cluster: nodes,
// drivers and the troupe CLI build their HTTP/2 clients here, so they
// trust the same certificate authorities and send the cluster token the
// same way.
package dial

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"
)

// TLSConfig returns the TLS configuration of a client of a cluster: it
// trusts the system's certificate authorities and those in the PEM files
// caFiles. A file that cannot be read or holds no PEM certificate is an
// error.
func TLSConfig(caFiles ...string) (*tls.Config, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	for _, f := range caFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("TLS certificate authority: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("TLS certificate authority: no PEM certificate in %s", f)
		}
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// HTTP2Client returns an HTTP/2 client of a cluster and the URL scheme
// that goes with it: cleartext with prior knowledge ("http") when tlsConf
// is nil, over TLS ("https") with tlsConf, which it copies. Both share one
// set of buffer sizes and liveness pings.
func HTTP2Client(tlsConf *tls.Config) (*http.Client, string) {
	p := new(http.Protocols)
	tr := &http.Transport{
		Protocols:          p,
		DisableCompression: true,
		HTTP2: &http.HTTP2Config{
			MaxReceiveBufferPerConnection: 4<<20 - 1,
			MaxReceiveBufferPerStream:     4<<20 - 1,
			SendPingTimeout:               15 * time.Second,
			PingTimeout:                   10 * time.Second,
		},
	}
	if tlsConf == nil {
		p.SetUnencryptedHTTP2(true)
		return &http.Client{Transport: tr}, "http"
	}
	p.SetHTTP2(true)
	tr.TLSClientConfig = tlsConf.Clone()
	tr.ForceAttemptHTTP2 = true
	return &http.Client{Transport: tr}, "https"
}

// WithToken returns hc with every request carrying the cluster token as
// "Authorization: Bearer <token>"; an empty token sends none.
func WithToken(hc *http.Client, token string) *http.Client {
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c := *hc
	c.Transport = &bearer{token: token, next: next}
	return &c
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.token == "" {
		return b.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// CloseIdleConnections closes the wrapped transport's idle connections.
func (b *bearer) CloseIdleConnections() {
	if c, ok := b.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
