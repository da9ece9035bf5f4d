package scan

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// benchRepo generates a repository of commits commits with git
// fast-import: files of about 100 source-like lines, three of them changed
// a few lines at a time by each commit (so blobs are many and similar, as
// in real history), and a generated key added every 100 commits. It
// returns the directory and how many commits carry a key. When
// KEYWATCH_BENCH_GIT_DIR is set the repository is made there (and reused
// if it exists), so that other tools can be timed on the same history.
func benchRepo(b *testing.B, commits int) (dir string, keys int) {
	b.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git not installed")
	}
	keys = commits / 100
	dir = os.Getenv("KEYWATCH_BENCH_GIT_DIR")
	if dir == "" {
		dir = b.TempDir()
	} else if _, err := os.Stat(dir + "/HEAD"); err == nil {
		return dir, keys
	}
	if out, err := exec.Command("git", "init", "-q", "--bare", dir).CombinedOutput(); err != nil {
		b.Fatalf("git init: %v\n%s", err, out)
	}
	cmd := exec.Command("git", "-C", dir, "fast-import", "--quiet")
	in, _ := cmd.StdinPipe()
	if out, err := cmd.StdoutPipe(); err == nil {
		go func() { bufio.NewReader(out).WriteTo(os.Stderr) }()
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(in, 1<<20)
	rng := rand.New(rand.NewPCG(1, 1))
	const nfiles = 300
	files := make([][]string, nfiles)
	for i := range files {
		for range 100 {
			files[i] = append(files[i], expand(fillerLines[rng.IntN(len(fillerLines))], rng))
		}
	}
	when := int64(1_600_000_000)
	for c := range commits {
		when += 3600
		fmt.Fprintf(w, "commit refs/heads/main\nmark :%d\n", c+1)
		fmt.Fprintf(w, "author Dev%d <dev%d@example.com> %d +0000\ncommitter Dev <dev@example.com> %d +0000\n", c%7, c%7, when, when)
		msg := fmt.Sprintf("change %d", c)
		fmt.Fprintf(w, "data %d\n%s\n", len(msg), msg)
		for k := range 3 {
			f := rng.IntN(nfiles)
			lines := files[f]
			at := rng.IntN(len(lines))
			for j := at; j < min(at+3, len(lines)); j++ {
				lines[j] = expand(fillerLines[rng.IntN(len(fillerLines))], rng)
			}
			if k == 0 && c%100 == 50 {
				line, _ := keyLine(uint64(c))
				lines[at] = strings.TrimSuffix(line, "\n")
			}
			body := strings.Join(lines, "\n") + "\n"
			fmt.Fprintf(w, "M 100644 inline src/pkg%d/file%d.go\ndata %d\n%s\n", f%17, f, len(body), body)
		}
	}
	w.Flush()
	in.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatalf("git fast-import: %v", err)
	}
	return dir, keys
}

// BenchmarkScanGit scans a generated history of 2000 commits and reports
// blob bytes per second (MB/s) and commits per second.
func BenchmarkScanGit(b *testing.B) {
	const commits = 2000
	dir, keys := benchRepo(b, commits)
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	var st SourceStats
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		st, err = s.ScanGit(context.Background(), dir, SourceOptions{}, func(Finding) { n++ })
		if err != nil {
			b.Fatal(err)
		}
		if n < keys {
			b.Fatalf("%d findings, want at least %d", n, keys)
		}
	}
	b.SetBytes(st.Bytes)
	b.ReportMetric(float64(commits)*float64(b.N)/b.Elapsed().Seconds(), "commits/s")
	b.ReportMetric(float64(st.Blobs), "blobs")
}
