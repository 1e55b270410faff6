package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
	"google.golang.org/protobuf/compiler/protogen"
)

// doc is a Go doc comment under construction, one paragraph at a time.
type doc struct{ lines []string }

func (d *doc) paragraph(lines []string) *doc {
	if len(lines) == 0 {
		return d
	}
	if len(d.lines) > 0 {
		d.lines = append(d.lines, "//")
	}
	d.lines = append(d.lines, lines...)
	return d
}

// textf adds a paragraph of generated text; "\n" breaks its lines.
func (d *doc) textf(format string, args ...any) *doc {
	var lines []string
	for _, l := range strings.Split(fmt.Sprintf(format, args...), "\n") {
		lines = append(lines, strings.TrimRight("// "+l, " "))
	}
	return d.paragraph(lines)
}

// proto adds the comments written above a service or rpc in the .proto file.
func (d *doc) proto(c protogen.Comments) *doc {
	return d.paragraph(commentLines(string(c)))
}

// deprecated adds the paragraph that marks an identifier deprecated for go
// doc, gopls and staticcheck.
func (d *doc) deprecated(yes bool) *doc {
	if !yes {
		return d
	}
	return d.textf("Deprecated: do not use.")
}

// code is the comment ready to sit above a declaration: jen.Null when empty.
func (d *doc) code() *jen.Statement {
	if len(d.lines) == 0 {
		return jen.Null()
	}
	return jen.Comment(strings.Join(d.lines, "\n")).Line()
}

// commentLines turns a comment of a .proto file, as the descriptor stores it
// (each line without its "//", usually starting with a space), into Go
// comment lines.
func commentLines(c string) []string {
	c = strings.TrimSuffix(c, "\n")
	if strings.TrimSpace(c) == "" {
		return nil
	}
	var lines []string
	for _, l := range strings.Split(c, "\n") {
		lines = append(lines, strings.TrimRight("//"+l, " \t"))
	}
	return lines
}
