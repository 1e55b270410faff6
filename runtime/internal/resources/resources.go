// Package resources is the arithmetic of logical resources: what a node has,
// what an actor asks for, whether one fits in the other and why not.
//
// Amounts are held in fixed point, 1/10000 of a unit, so that fractional GPUs
// (0.5 + 0.25 + 0.25) add and subtract without floating-point drift.
package resources

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// The names of the predefined resources.
const (
	CPU    = "CPU"
	GPU    = "GPU"
	Memory = "memory"
)

// unit is the fixed-point scale: 1.0 is held as 10000.
const unit = 10000

// Set maps resource names to amounts in fixed point. The zero value is empty.
type Set map[string]int64

// FromFloat converts amounts in units to a Set. Negative, NaN or infinite
// amounts are an error; zero amounts are dropped.
func FromFloat(m map[string]float64) (Set, error) {
	s := make(Set, len(m))
	for k, v := range m {
		if k == "" {
			return nil, fmt.Errorf("resource name is empty")
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, fmt.Errorf("resource %q: amount %v must be a finite number ≥ 0", k, v)
		}
		if v > math.MaxInt64/unit {
			return nil, fmt.Errorf("resource %q: amount %v is too large", k, v)
		}
		if q := int64(math.Round(v * unit)); q > 0 {
			s[k] = q
		}
	}
	return s, nil
}

// Float returns the amounts in units.
func (s Set) Float() map[string]float64 {
	if len(s) == 0 {
		return nil
	}
	m := make(map[string]float64, len(s))
	for k, v := range s {
		m[k] = float64(v) / unit
	}
	return m
}

// Get returns the amount of name in units.
func (s Set) Get(name string) float64 { return float64(s[name]) / unit }

// Clone returns a copy of s.
func (s Set) Clone() Set {
	c := make(Set, len(s))
	for k, v := range s {
		c[k] = v
	}
	return c
}

// Fits reports whether need fits in s.
func (s Set) Fits(need Set) bool {
	for k, v := range need {
		if s[k] < v {
			return false
		}
	}
	return true
}

// Shortfall describes, in a stable order, what of need does not fit in s,
// as "GPU ≥ 1 (has 0.5)". It is empty when need fits.
func (s Set) Shortfall(need Set) string {
	var parts []string
	for _, k := range sortedKeys(need) {
		if have := s[k]; have < need[k] {
			parts = append(parts, fmt.Sprintf("%s ≥ %s (has %s)", k, format(need[k]), format(have)))
		}
	}
	return strings.Join(parts, ", ")
}

// Sub takes need out of s. It must fit.
func (s Set) Sub(need Set) {
	for k, v := range need {
		s[k] -= v
	}
}

// Add gives need back to s.
func (s Set) Add(need Set) {
	for k, v := range need {
		s[k] += v
	}
}

// String formats s as {CPU: 2, GPU: 0.5} in a stable order.
func (s Set) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range sortedKeys(s) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(format(s[k]))
	}
	b.WriteByte('}')
	return b.String()
}

func format(v int64) string {
	return fmt.Sprintf("%g", float64(v)/unit)
}

func sortedKeys(s Set) []string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
