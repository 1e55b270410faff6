package resources

import (
	"math"
	"testing"
)

func TestFractionsAddUpExactly(t *testing.T) {
	node, err := FromFloat(map[string]float64{GPU: 1})
	if err != nil {
		t.Fatal(err)
	}
	quarter, _ := FromFloat(map[string]float64{GPU: 0.25})
	half, _ := FromFloat(map[string]float64{GPU: 0.5})
	for _, need := range []Set{half, quarter, quarter} {
		if !node.Fits(need) {
			t.Fatalf("%v does not fit in %v", need, node)
		}
		node.Sub(need)
	}
	if node[GPU] != 0 || node.Fits(quarter) {
		t.Fatalf("after 0.5+0.25+0.25 of 1 GPU: %v", node)
	}
	node.Add(half)
	if got := node.Get(GPU); got != 0.5 {
		t.Fatalf("given back: %v, want 0.5", got)
	}
}

func TestFromFloatRefusesBadAmounts(t *testing.T) {
	for _, v := range []float64{-1, math.NaN(), math.Inf(1), 1e300} {
		if _, err := FromFloat(map[string]float64{CPU: v}); err == nil {
			t.Errorf("FromFloat(%v) accepted", v)
		}
	}
	if _, err := FromFloat(map[string]float64{"": 1}); err == nil {
		t.Error("empty name accepted")
	}
	s, err := FromFloat(map[string]float64{CPU: 0})
	if err != nil || len(s) != 0 {
		t.Errorf("zero amounts are dropped: %v, %v", s, err)
	}
}

func TestShortfallSaysWhatIsMissing(t *testing.T) {
	have, _ := FromFloat(map[string]float64{CPU: 4, GPU: 0.5})
	need, _ := FromFloat(map[string]float64{CPU: 2, GPU: 1, "writer_node": 1})
	got := have.Shortfall(need)
	want := "GPU ≥ 1 (has 0.5), writer_node ≥ 1 (has 0)"
	if got != want {
		t.Fatalf("Shortfall = %q, want %q", got, want)
	}
	if s := have.Shortfall(have); s != "" {
		t.Fatalf("Shortfall of a fitting set = %q", s)
	}
	if s := need.String(); s != "{CPU: 2, GPU: 1, writer_node: 1}" {
		t.Fatalf("String = %q", s)
	}
}
