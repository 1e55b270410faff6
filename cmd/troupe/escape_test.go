package main

import (
	"bytes"
	"strings"
	"testing"
)

// Names with control characters print escaped: they cannot clear the
// screen, color the terminal or forge a row or a column.
func TestTablesEscapeControlCharacters(t *testing.T) {
	var out bytes.Buffer
	rows := [][]string{
		{"a1", "\x1b[2Jclear", "two\nlines"},
		{"a2", "tab\there", "bad\xffbyte \u202eflip ✓"},
	}
	if err := table(&out, []string{"ID", "NAME", "NAMESPACE"}, rows); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, raw := range []string{"\x1b", "\xff", "\u202e", "two\n", "tab\t"} {
		if strings.Contains(got, raw) {
			t.Errorf("the table holds %q raw:\n%s", raw, got)
		}
	}
	for _, esc := range []string{`\x1b[2Jclear`, `two\x0alines`, `tab\x09here`, `bad\xffbyte \u202eflip ✓`} {
		if !strings.Contains(got, esc) {
			t.Errorf("the table lacks %s:\n%s", esc, got)
		}
	}
	if lines := strings.Count(got, "\n"); lines != 3 {
		t.Errorf("%d lines, want 3 (a header and two rows):\n%s", lines, got)
	}
}
