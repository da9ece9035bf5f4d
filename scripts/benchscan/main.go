// Command benchscan is the Go half of scripts/bench-scan.sh: it generates
// the corpora (internal/scancorpus), runs scan.ScanPath and scan.ScanGit
// on them in process, writing a JSON report as gitleaks does, and scores
// keywatch's and gitleaks' reports against the manifests in a separate,
// untimed step. It is a benchmark tool, not part of keywatch.
//
//	benchscan gen-dir DIR MB SEED MANIFEST
//	benchscan gen-git DIR COMMITS SEED MANIFEST
//	benchscan scan dir|git PATH REPORT
//	benchscan score dir|git REPORT MANIFEST
//	benchscan score-report dir|git KEYWATCH-JSON MANIFEST PEPPER-FILE
//	benchscan gitleaks dir|git REPORT MANIFEST ROOT
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/keywatch/keywatch/internal/scancorpus"
	"github.com/keywatch/keywatch/scan"
	"github.com/keywatch/keywatch/secret"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchscan:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("usage: see the package comment")
	}
	switch {
	case args[0] == "gen-dir" && len(args) == 5, args[0] == "gen-git" && len(args) == 5:
		n, err1 := strconv.Atoi(args[2])
		seed, err2 := strconv.ParseUint(args[3], 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("bad number in %q", args)
		}
		start := time.Now()
		var m scancorpus.Manifest
		var err error
		if args[0] == "gen-dir" {
			m, err = scancorpus.WriteDir(args[1], n, seed)
		} else {
			m, err = scancorpus.WriteGitRepo(args[1], n, seed)
		}
		if err != nil {
			return err
		}
		fmt.Printf("generated %s: %d files, %.1f MB, %d commits, %d keys, %d lookalikes in %.1fs\n",
			args[1], m.Files, float64(m.Bytes)/1e6, m.Commits, len(m.Keys), len(m.Lookalikes), time.Since(start).Seconds())
		return writeJSON(args[4], m)
	case args[0] == "scan" && len(args) == 4:
		return scanCmd(args[1], args[2], args[3])
	case args[0] == "score" && len(args) == 4:
		return scoreCmd(args[1], args[2], args[3])
	case args[0] == "score-report" && len(args) == 5:
		return scoreReportCmd(args[1], args[2], args[3], args[4])
	case args[0] == "gitleaks" && len(args) == 5:
		return gitleaksCmd(args[1], args[2], args[3], args[4])
	}
	return fmt.Errorf("usage: see the package comment")
}

func scanCmd(mode, root, report string) error {
	s, err := scan.New(scan.Options{})
	if err != nil {
		return err
	}
	var found []scancorpus.Found
	emit := func(f scan.Finding) {
		fd := scancorpus.Found{Path: f.Path, Line: f.Line, Rule: f.Rule, Secret: string(f.Secret())}
		if len(f.Commits) > 0 {
			fd.Commit = f.Commits[0].SHA
		}
		found = append(found, fd)
	}
	start := time.Now()
	var st scan.SourceStats
	if mode == "git" {
		st, err = s.ScanGit(context.Background(), root, scan.SourceOptions{}, emit)
	} else {
		st, err = s.ScanPath(context.Background(), root, scan.SourceOptions{}, emit)
	}
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	if err := writeJSON(report, found); err != nil {
		return err
	}
	fmt.Printf("keywatch %s GOMAXPROCS=%d: scan %.2fs, %.1f MB (%d files, %d blobs), %.1f MB/s; %d findings\n",
		mode, runtime.GOMAXPROCS(0), secs, float64(st.Bytes)/1e6, st.Files, st.Blobs, float64(st.Bytes)/1e6/secs, len(found))
	return nil
}

func scoreCmd(mode, report, manifest string) error {
	m, err := readManifest(manifest)
	if err != nil {
		return err
	}
	var found []scancorpus.Found
	if err := readJSON(report, &found); err != nil {
		return err
	}
	fmt.Print(scancorpus.Evaluate(m, found, mode == "git").Summary())
	return nil
}

// scoreReportCmd scores a keywatch scan JSON report, which holds no
// secret: findings are matched to planted keys by fingerprint under the
// report's pepper, else by place.
func scoreReportCmd(mode, report, manifest, pepperFile string) error {
	m, err := readManifest(manifest)
	if err != nil {
		return err
	}
	pepper, err := os.ReadFile(pepperFile)
	if err != nil {
		return err
	}
	bySum := map[string]string{}
	for _, k := range m.Keys {
		bySum[secret.Fingerprint(pepper, []byte(k.Secret))] = k.Secret
	}
	var rep scan.Report
	if err := readJSON(report, &rep); err != nil {
		return err
	}
	found := make([]scancorpus.Found, 0, len(rep.Findings))
	for _, r := range rep.Findings {
		f := scancorpus.Found{Path: r.Path, Line: r.Line, Rule: r.Rule, Secret: bySum[r.Fingerprint]}
		if len(r.Commits) > 0 {
			f.Commit = r.Commits[0].SHA
		}
		found = append(found, f)
	}
	fmt.Print(scancorpus.Evaluate(m, found, mode == "git").Summary())
	return nil
}

// gitleaksFinding is the part of a gitleaks JSON report entry used here.
type gitleaksFinding struct {
	RuleID    string
	File      string
	StartLine int
	Secret    string
	Commit    string
}

func gitleaksCmd(mode, report, manifest, root string) error {
	m, err := readManifest(manifest)
	if err != nil {
		return err
	}
	var gl []gitleaksFinding
	if err := readJSON(report, &gl); err != nil {
		return err
	}
	found := make([]scancorpus.Found, 0, len(gl))
	for _, f := range gl {
		p := filepath.ToSlash(f.File)
		if rel, err := filepath.Rel(root, f.File); err == nil && !strings.HasPrefix(rel, "..") {
			p = filepath.ToSlash(rel)
		}
		found = append(found, scancorpus.Found{Path: p, Line: f.StartLine, Rule: f.RuleID, Secret: f.Secret, Commit: f.Commit})
	}
	fmt.Print(scancorpus.Evaluate(m, found, mode == "git").Summary())
	return nil
}

func readManifest(name string) (scancorpus.Manifest, error) {
	var m scancorpus.Manifest
	return m, readJSON(name, &m)
}

// readJSON decodes the JSON file name into v.
func readJSON(name string, v any) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func writeJSON(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(name, b, 0o600)
}
