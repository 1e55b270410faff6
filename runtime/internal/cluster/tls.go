package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"github.com/troupehq/troupe/runtime/internal/transport"
)

// HTTPClient returns the HTTP client a process reaches the head and the
// nodes with, and the URL scheme that goes with it: cleartext HTTP/2
// ("http") without tlsConf, HTTP/2 over TLS ("https") with it.
func HTTPClient(tlsConf *tls.Config) (*http.Client, string) {
	if tlsConf == nil {
		return transport.NewH2CClient(), "http"
	}
	return transport.NewHTTP2Client(tlsConf), "https"
}

// ClientTLS returns the TLS configuration of a client that trusts the
// certificate authorities in the PEM file caFile.
func ClientTLS(caFile string) (*tls.Config, error) {
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate authority: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("TLS certificate authority: no PEM certificate in %s", caFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// ServeTLS makes srv speak HTTP/1.1 and HTTP/2 over TLS only, with the
// certificate and key in the PEM files certFile and keyFile.
func ServeTLS(srv *http.Server, certFile, keyFile string) error {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate: %w", err)
	}
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	srv.Protocols = p
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	return nil
}
