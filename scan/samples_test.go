package scan

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// expand is ExpandTemplate, short for the tests.
func expand(tmpl string, rng *rand.Rand) string { return ExpandTemplate(tmpl, rng) }

// sample expands a rule's TP or FP line, returning the line and the key
// substituted for $KEY (empty when the line has none).
func sample(r *Rule, line string, rng *rand.Rand) (text, key string) {
	if strings.Contains(line, "$KEY") {
		key = expand(r.Example, rng)
		line = strings.ReplaceAll(line, "$KEY", key)
	}
	return expand(line, rng), key
}

func scanAll(t testing.TB, s *Scanner, text string) []Finding {
	t.Helper()
	var out []Finding
	s.ScanBytes("test", []byte(text), func(f Finding) { out = append(out, f) })
	return out
}

// TestRuleSamples checks every rule's own samples: each TP line yields
// exactly one finding, of that rule (and of the generated key when the line
// has $KEY); each FP line yields nothing from any rule.
func TestRuleSamples(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Rules() {
		t.Run(r.ID, func(t *testing.T) {
			if len(r.TP) == 0 || len(r.FP) == 0 {
				t.Errorf("rule has %d TP and %d FP samples; want some of each", len(r.TP), len(r.FP))
			}
			for i, line := range r.TP {
				rng := rand.New(rand.NewPCG(uint64(i), 1))
				text, key := sample(r, line, rng)
				got := scanAll(t, s, text)
				if len(got) != 1 || got[0].Rule != r.ID {
					t.Errorf("TP %d %q: got %v, want one %s", i, line, got, r.ID)
					continue
				}
				if key != "" && string(got[0].secret) != key {
					t.Errorf("TP %d %q: secret %q, want %q", i, line, got[0].secret, key)
				}
			}
			for i, line := range r.FP {
				rng := rand.New(rand.NewPCG(uint64(i), 2))
				text, _ := sample(r, line, rng)
				if got := scanAll(t, s, text); len(got) != 0 {
					t.Errorf("FP %d %q: got %v", i, text, got)
				}
			}
		})
	}
}

func TestRuleMetadata(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.ID] {
			t.Errorf("duplicate rule id %s", r.ID)
		}
		seen[r.ID] = true
		if r.Provider == "" || r.Description == "" || r.Format == "" || len(r.Keywords) == 0 || r.Example == "" {
			t.Errorf("rule %s: missing metadata", r.ID)
		}
		if (r.token == nil) == (len(r.segs) == 0) {
			t.Errorf("rule %s: want exactly one of segs and token", r.ID)
		}
	}
}
