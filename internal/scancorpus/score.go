package scancorpus

import (
	"fmt"
	"sort"
	"strings"
)

// Found is one finding of a scanner under test, in the terms of a
// Manifest. Rule is the scanner's own rule id (it need not be a scan rule
// id); Secret may be empty or a part of the key (gitleaks reports only the
// match of a rule without a capture group).
type Found struct {
	Path   string `json:"path"`
	Line   int    `json:"line"`
	Rule   string `json:"rule"`
	Secret string `json:"secret,omitempty"`
	Commit string `json:"commit,omitempty"`
}

// Score is how a scanner did on a corpus.
type Score struct {
	// Planted counts the planted keys: every planted entry for a directory,
	// distinct secrets for a git repository. Found counts those reported.
	Planted, Found int
	// Missed are the planted keys not reported (one entry per secret for a
	// git repository).
	Missed []Planted
	// FalsePositives are the findings that match no planted key, one per
	// distinct place; OnLookalike counts those that sit on a planted
	// lookalike's line, by lookalike kind.
	FalsePositives []Found
	OnLookalike    map[string]int
	// Findings counts all findings given.
	Findings int
}

// Recall is Found/Planted, in percent.
func (s Score) Recall() float64 {
	if s.Planted == 0 {
		return 100
	}
	return 100 * float64(s.Found) / float64(s.Planted)
}

type place struct {
	path, commit string
	line         int
}

// Evaluate scores found against m. A finding matches a planted key when it
// is reported at the key's path and line (and commit, for a git
// repository), or, in a git repository where the same key appears at
// several places, when its secret is the key. Several findings of the same
// key (a scanner reporting a key both plain and decoded, say) count once
// and are not false positives.
func Evaluate(m Manifest, found []Found, git bool) Score {
	s := Score{Findings: len(found), OnLookalike: map[string]int{}}
	at := map[place][]int{}
	bySecret := map[string][]int{}
	for i, k := range m.Keys {
		p := place{k.Path, k.Commit, k.Line}
		at[p] = append(at[p], i)
		bySecret[k.Secret] = append(bySecret[k.Secret], i)
	}
	alike := map[place]string{}
	for _, a := range m.Lookalikes {
		alike[place{a.Path, a.Commit, a.Line}] = a.Kind
	}
	hit := make([]bool, len(m.Keys))
	seenFP := map[string]bool{}
	for _, f := range found {
		var idx []int
		if git && f.Secret != "" {
			idx = bySecret[f.Secret]
		}
		if len(idx) == 0 {
			idx = at[place{f.Path, f.Commit, f.Line}]
		}
		if len(idx) > 0 {
			for _, i := range idx {
				hit[i] = true
			}
			continue
		}
		id := fmt.Sprint(f.Path, "\x00", f.Commit, "\x00", f.Line, "\x00", f.Rule)
		if seenFP[id] {
			continue
		}
		seenFP[id] = true
		s.FalsePositives = append(s.FalsePositives, f)
		if kind, ok := alike[place{f.Path, f.Commit, f.Line}]; ok {
			s.OnLookalike[kind]++
		}
	}
	if !git {
		s.Planted = len(m.Keys)
		for i, k := range m.Keys {
			if hit[i] {
				s.Found++
			} else {
				s.Missed = append(s.Missed, k)
			}
		}
		return s
	}
	secrets := make([]string, 0, len(bySecret))
	for sec := range bySecret {
		secrets = append(secrets, sec)
	}
	sort.Strings(secrets)
	for _, sec := range secrets {
		s.Planted++
		ok := false
		for _, i := range bySecret[sec] {
			ok = ok || hit[i]
		}
		if ok {
			s.Found++
		} else {
			s.Missed = append(s.Missed, m.Keys[bySecret[sec][0]])
		}
	}
	return s
}

// Summary describes s in a few lines: recall, false positives, and the
// missed keys and false positives counted by rule (and, for missed keys,
// encoding), without any secret.
func (s Score) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "recall %.2f%% (%d/%d), false positives %d, findings %d\n", s.Recall(), s.Found, s.Planted, len(s.FalsePositives), s.Findings)
	missed := map[string]int{}
	for _, k := range s.Missed {
		enc := k.Encoding
		if enc == "" {
			enc = "plain"
		}
		missed[k.Rule+" ("+enc+")"]++
	}
	writeCounts(&b, "missed", missed)
	fps := map[string]int{}
	for _, f := range s.FalsePositives {
		fps[f.Rule]++
	}
	writeCounts(&b, "false positives", fps)
	writeCounts(&b, "false positives on lookalikes", s.OnLookalike)
	return b.String()
}

func writeCounts(b *strings.Builder, title string, m map[string]int) {
	if len(m) == 0 {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(b, "  %s:", title)
	for _, k := range keys {
		fmt.Fprintf(b, " %s=%d", k, m[k])
	}
	b.WriteByte('\n')
}
