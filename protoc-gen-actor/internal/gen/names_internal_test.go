package gen

import "testing"

func TestUnexport(t *testing.T) {
	for in, want := range map[string]string{
		"Counter":    "counter",
		"HTTPServer": "httpServer",
		"ID":         "id",
		"A":          "a",
		"XBar":       "xBar", // Go name of the rpc _bar
		"HTTP2Node":  "http2Node",
		"Select":     "select", // a keyword alone, never used alone
		"ABC":        "abc",
		"Abc":        "abc",
	} {
		if got := unexport(in); got != want {
			t.Errorf("unexport(%q) = %q, want %q", in, got, want)
		}
	}
}
