package scan_test

import (
	"context"
	"os/exec"
	"testing"

	"github.com/keywatch/keywatch/internal/scancorpus"
	"github.com/keywatch/keywatch/scan"
)

// The large-corpus tests plant generated keys of every format among
// lookalikes (internal/scancorpus) and want every key back and nothing
// else, from ScanPath on a directory tree and from ScanGit on a history of
// commits that add, remove, move and copy keys. The sizes are small so
// that they run in CI in seconds; scripts/bench-scan.sh runs the same
// generator at a few hundred megabytes against gitleaks.

func findings(t *testing.T, scanFn func(emit func(scan.Finding)) (scan.SourceStats, error), git bool) []scancorpus.Found {
	t.Helper()
	var out []scancorpus.Found
	if _, err := scanFn(func(f scan.Finding) {
		fd := scancorpus.Found{Path: f.Path, Line: f.Line, Rule: f.Rule, Secret: string(f.Secret())}
		if git && len(f.Commits) > 0 {
			fd.Commit = f.Commits[0].SHA
		}
		out = append(out, fd)
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func checkScore(t *testing.T, m scancorpus.Manifest, found []scancorpus.Found, git bool) {
	t.Helper()
	s := scancorpus.Evaluate(m, found, git)
	t.Logf("%d files, %d bytes, %d keys, %d lookalikes: %s", m.Files, m.Bytes, len(m.Keys), len(m.Lookalikes), s.Summary())
	if s.Found != s.Planted || len(s.FalsePositives) > 0 {
		for i, k := range s.Missed {
			if i == 10 {
				break
			}
			t.Errorf("missed %s at %s:%d (%s)", k.Rule, k.Path, k.Line, k.Encoding)
		}
		for i, f := range s.FalsePositives {
			if i == 10 {
				break
			}
			t.Errorf("false positive %s at %s:%d", f.Rule, f.Path, f.Line)
		}
		t.Fatalf("recall %.2f%%, %d false positives; want 100%% and 0", s.Recall(), len(s.FalsePositives))
	}
	// Every rule must be planted, so that a new rule without a placement
	// fails here rather than going unmeasured.
	planted := map[string]bool{}
	for _, k := range m.Keys {
		planted[k.Rule] = true
	}
	for _, r := range scan.Rules() {
		if !planted[r.ID] {
			t.Errorf("no key of rule %s planted", r.ID)
		}
	}
}

func TestLargeCorpusDir(t *testing.T) {
	dir := t.TempDir()
	m, err := scancorpus.WriteDir(dir, 5, 3)
	checkCorpus(t, m, err, false, func(s *scan.Scanner, emit func(scan.Finding)) (scan.SourceStats, error) {
		return s.ScanPath(context.Background(), dir, scan.SourceOptions{}, emit)
	})
}

func TestLargeCorpusGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	m, err := scancorpus.WriteGitRepo(dir, 300, 1)
	checkCorpus(t, m, err, true, func(s *scan.Scanner, emit func(scan.Finding)) (scan.SourceStats, error) {
		return s.ScanGit(context.Background(), dir, scan.SourceOptions{}, emit)
	})
}

// checkCorpus scans a generated corpus (m, or the error writing it) with
// run and scores the findings against its manifest.
func checkCorpus(t *testing.T, m scancorpus.Manifest, err error, git bool, run func(*scan.Scanner, func(scan.Finding)) (scan.SourceStats, error)) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	s, err := scan.New(scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := findings(t, func(emit func(scan.Finding)) (scan.SourceStats, error) { return run(s, emit) }, git)
	checkScore(t, m, found, git)
}
