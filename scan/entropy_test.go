package scan

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestEntropyMatchesDefinition checks the table-driven entropy against the
// textbook formula.
func TestEntropyMatchesDefinition(t *testing.T) {
	ref := func(b []byte) float64 {
		var counts [256]int
		for _, c := range b {
			counts[c]++
		}
		h := 0.0
		for _, c := range counts {
			if c > 0 {
				p := float64(c) / float64(len(b))
				h -= p * math.Log2(p)
			}
		}
		return h
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 7, 40, 164, 1500, 5000} {
		for alpha := 1; alpha <= 64; alpha *= 4 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte('A' + r.IntN(alpha))
			}
			if got, want := entropy(b), ref(b); math.Abs(got-want) > 1e-9 {
				t.Errorf("entropy(n=%d, alphabet=%d) = %v, want %v", n, alpha, got, want)
			}
		}
	}
	if entropy(nil) != 0 {
		t.Error("entropy of nothing is not 0")
	}
}
