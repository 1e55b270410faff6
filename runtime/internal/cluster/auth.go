package cluster

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"connectrpc.com/connect"

	"github.com/troupehq/troupe/internal/dial"
	"github.com/troupehq/troupe/runtime/internal/errs"
)

// TokenFile is the name of the file in the head's state directory that
// holds the cluster token.
const TokenFile = "token"

// MinTokenBytes is the shortest cluster token a head or a node accepts.
// A head's own is 64 hex characters (32 random bytes).
const MinTokenBytes = 32

// CheckToken fails with ErrInvalidOption unless token is at least
// MinTokenBytes long.
func CheckToken(token string) error {
	if len(token) < MinTokenBytes {
		return errs.Newf(errs.ErrInvalidOption, "the cluster token is %d bytes long: it needs at least %d (the head writes a random one of 64 to its state directory)", len(token), MinTokenBytes)
	}
	return nil
}

// ReadTokenFile returns the token in the file at path, without the
// surrounding white space. exposed are the file's permission bits for
// group and others: not 0 means more users than the owner may read it.
func ReadTokenFile(path string) (token string, exposed os.FileMode, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", 0, err
	}
	token = strings.TrimSpace(string(b))
	if token == "" {
		return "", 0, fmt.Errorf("token file %s: %w", path, errEmptyToken)
	}
	return token, st.Mode().Perm() & 0o077, nil
}

var errEmptyToken = errors.New("empty")

// ExposedWarning is the warning to give for a token file whose mode lets
// group or others read it.
func ExposedWarning(path string, exposed os.FileMode) string {
	return fmt.Sprintf("token file %s is readable by group or others (mode %04o): anyone who reads it controls the cluster; chmod 600 it", path, exposed)
}

// LoadOrCreateToken returns the token stored in dir, creating a random one
// readable only by its user at first start. It warns through log when the
// file is readable by others, and refuses a token shorter than
// MinTokenBytes.
func LoadOrCreateToken(dir string, log *slog.Logger) (string, error) {
	path := filepath.Join(dir, TokenFile)
	tok, exposed, err := ReadTokenFile(path)
	switch {
	case err == nil:
		if exposed != 0 {
			log.Warn(ExposedWarning(path, exposed))
		}
		if err := CheckToken(tok); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		return tok, nil
	case !errors.Is(err, os.ErrNotExist) && !errors.Is(err, errEmptyToken):
		return "", err
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	tok = hex.EncodeToString(raw)
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

// AuthClient returns hc with every request carrying token (dial.WithToken).
func AuthClient(hc *http.Client, token string) *http.Client { return dial.WithToken(hc, token) }
