package cluster

import (
	"crypto/tls"
	"fmt"
	"net/http"

	"github.com/troupehq/troupe/internal/dial"
)

// HTTPClient returns the HTTP client a process reaches the head and the
// nodes with, and the URL scheme that goes with it (dial.HTTP2Client).
func HTTPClient(tlsConf *tls.Config) (*http.Client, string) { return dial.HTTP2Client(tlsConf) }

// ClientTLS returns the TLS configuration of a client of the cluster: the
// system's certificate authorities and those in the PEM file caFile
// (dial.TLSConfig), the same set the troupe CLI trusts.
func ClientTLS(caFile string) (*tls.Config, error) { return dial.TLSConfig(caFile) }

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
