package scan_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/keywatch/keywatch/internal/scancorpus"
	"github.com/keywatch/keywatch/scan"
)

// TestScanGitMemoCorpus compares ScanGit as it runs (packs read directly,
// deltas scanned around their edits, whole blobs memoised) with every blob
// read through git cat-file and scanned whole, on the generated corpus
// repository as written and after a repack with deltas.
func TestScanGitMemoCorpus(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("these tests need git on PATH (apt-get install git)")
	}
	if testing.Short() {
		t.Skip("short")
	}
	dir := filepath.Join(t.TempDir(), "repo")
	if _, err := scancorpus.WriteGitRepo(dir, 300, 1); err != nil {
		t.Fatal(err)
	}
	s, err := scan.New(scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	run := func(memo bool) []string {
		defer scan.SetGitMemoForTest(memo)()
		defer scan.SetGitPackWalkForTest(memo)()
		var out []string
		_, err := s.ScanGit(context.Background(), dir, scan.SourceOptions{}, func(f scan.Finding) {
			out = append(out, scan.FindingKeyForTest(f))
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	want, got := run(false), run(true)
	if len(want) < 50 {
		t.Fatalf("only %d findings", len(want))
	}
	if !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("memoised ScanGit differs at %d of %d/%d:\n got %s\nwant %s", i, len(got), len(want), got[i], want[i])
			}
		}
		t.Fatalf("memoised ScanGit: %d findings, want %d", len(got), len(want))
	}
	repack := exec.Command("git", "-C", dir, "repack", "-adfq", "--window=50", "--depth=50")
	if out, err := repack.CombinedOutput(); err != nil {
		t.Fatalf("git repack: %v\n%s", err, out)
	}
	if got := run(true); !slices.Equal(got, want) {
		t.Fatalf("after repack: %d findings, want %d", len(got), len(want))
	}
}
