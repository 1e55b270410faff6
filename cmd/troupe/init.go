package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
)

const initDoc = `Sets up the current Go module (or -dir) for actors described in protobuf:

  buf.yaml                        a workspace: your protos in proto/, Troupe's in third_party/troupe
  buf.gen.yaml                    protoc-gen-go and protoc-gen-actor run with go tool, into gen/
  proto/greeter/v1/greeter.proto  a sample actor class, Greeter
  main.go                         spawns a Greeter and calls it
  third_party/troupe/             Troupe's protos, as troupe proto export writes them

It writes nothing if one of these files exists. Then, with the plugins and buf
added to the module as tools (see the README), run go tool buf generate,
go mod tidy and go run .

`

// initFile is a file troupe init writes, a template of initData.
type initFile struct {
	path string
	text string
}

// initData fills the templates.
type initData struct {
	Module string // the Go module's path, from go.mod
}

func runInit(_ context.Context, stdout, _ io.Writer, args []string) error {
	fs := newFlagSet("init", "[flags]", initDoc, stdout)
	dir := fs.String("dir", ".", "the `directory` of the Go module to set up")
	module := fs.String("module", "", "the Go module's `path`; default: the module line of DIR/go.mod")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *module == "" {
		m, err := modulePath(filepath.Join(*dir, "go.mod"))
		if err != nil {
			return err
		}
		*module = m
	}
	written, err := writeInit(*dir, initData{Module: *module})
	if err != nil {
		return err
	}
	for _, name := range written {
		fmt.Fprintln(stdout, name)
	}
	return nil
}

// writeInit writes the files of initFiles and the exported protos under dir
// and returns their paths relative to dir. It writes nothing if one exists.
func writeInit(dir string, data initData) ([]string, error) {
	var existing []string
	for _, f := range initFiles {
		if _, err := os.Stat(filepath.Join(dir, f.path)); !errors.Is(err, fs.ErrNotExist) {
			existing = append(existing, f.path)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "third_party", "troupe")); !errors.Is(err, fs.ErrNotExist) {
		existing = append(existing, filepath.Join("third_party", "troupe"))
	}
	if len(existing) > 0 {
		return nil, fmt.Errorf("%s already exist%s in %s; troupe init writes only into a module without them",
			strings.Join(existing, ", "), map[bool]string{true: "s"}[len(existing) == 1], dir)
	}
	var written []string
	for _, f := range initFiles {
		var buf bytes.Buffer
		if err := template.Must(template.New(f.path).Parse(f.text)).Execute(&buf, data); err != nil {
			return nil, err
		}
		dst := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		written = append(written, filepath.FromSlash(f.path))
	}
	protos, err := exportProtos(filepath.Join(dir, "third_party", "troupe"))
	if err != nil {
		return nil, err
	}
	for _, p := range protos {
		written = append(written, filepath.Join("third_party", "troupe", p))
	}
	return written, nil
}

// modulePath reads the module path from a go.mod file.
func modulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no %s: run go mod init first, or pass -module", gomod)
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		rest, ok := strings.CutPrefix(line, "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		rest, _, _ = strings.Cut(rest, "//")
		path := strings.TrimSpace(rest)
		if unquoted, err := strconv.Unquote(path); err == nil {
			path = unquoted
		}
		if path == "" {
			break
		}
		return path, nil
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s has no module line", gomod)
}
