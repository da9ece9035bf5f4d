package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/contain"
	"github.com/keywatch/keywatch/scan"
	"github.com/keywatch/keywatch/secret"
)

func init() {
	register(&command{name: "scan", summary: "find leaked LLM keys in files, archives and git history; match them to the inventory", run: runScan})
}

const scanUsage = `
Usage: keywatch scan [flags] [PATH|REPO|-]...

Finds leaked LLM provider keys (OpenAI, Anthropic, Google, Hugging Face,
Groq, xAI, ...) in files, directories and archives; in a git repository's
working tree and history; in staged changes (--staged, for a pre-commit
hook); or in standard input (-). PATH defaults to the current directory.
A directory holding .git is scanned as a repository: its working tree and
its whole history (--no-history for the working tree only).

Every finding carries a redacted preview and a fingerprint: the HMAC of the
secret under the local pepper (--pepper-file, KEYWATCH_PEPPER_FILE or
~/.config/keywatch/pepper), the same the inventory keeps, so --store maps
a leaked secret to its key: exactly (its current secret, or one rotated
away) or probably (keys imported without their secret, by provider and the
redacted form the provider shows). The secret itself is never printed.

A line with the comment keywatch:allow is never reported. Known findings go
in a baseline (--write-baseline FILE, then --baseline FILE). --alert records
a critical leaked-key alert for each key found; --contain also disables it
in keywatch's own inventory, which the gateway reads on every request
(provider actuators, such as OpenAI and Anthropic admin APIs, are
configured in keywatch serve). --verify asks each provider whether the key
still works, with a free identity or model-list request; it is off by
default because it sends the secret to the provider.

Exit status: 1 when keys were found (after suppression), 2 on usage or
input errors, 0 otherwise.

Example:
  keywatch scan .
  keywatch scan --staged
  keywatch scan --format sarif --output keywatch.sarif .
  keywatch scan --store sqlite://keywatch.db --alert --contain ~/src/payments
  kubectl logs deploy/api | keywatch scan -
`

// scanLeakPolicy is the containment policy of keywatch scan --contain: a
// leaked current secret (critical) is disabled at the gateway at once; a
// rotated-away or probable match (high) is only notified.
const scanLeakPolicy = `version: 1
rules:
  - name: leaked-current-key
    match: {rules: [leaked-key], severity_at_least: critical}
    actions:
      - {kind: disable, mode: auto, target: gateway}
  - name: leaked-key-notify
    actions:
      - {kind: notify}
`

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// scanConfig is keywatch scan's flags.
type scanConfig struct {
	format, output, storeURL, pepperFile string
	baseline, writeBaseline              string
	git, noHistory, staged               bool
	alert, contain, verify               bool
	jsonOut                              bool
	exclude, verifyBases                 multiFlag
	maxFileSize                          int64
	workers                              int
}

func runScan(ctx context.Context, e *env, args []string) error {
	// A scan is a short batch job with a small heap: collecting garbage
	// half as often saves a tenth of its time (measured on a 3,000-commit
	// history) for a few MB. GOGC, when set, decides.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	var c scanConfig
	fs := newFlags(e, "scan", scanUsage)
	fs.StringVar(&c.format, "format", "table", "output `format`: table, json or sarif")
	fs.BoolVar(&c.jsonOut, "json", false, "same as --format json")
	fs.StringVar(&c.output, "output", "", "write the report to `FILE` instead of standard output")
	fs.BoolVar(&c.git, "git", false, "scan PATH as a git repository: working tree and history (automatic when PATH holds .git)")
	fs.BoolVar(&c.noHistory, "no-history", false, "do not scan git history, only the working tree")
	fs.BoolVar(&c.staged, "staged", false, "scan only the changes staged in the index (pre-commit hook)")
	fs.Var(&c.exclude, "exclude", "skip paths matching `GLOB` (repeatable; node_modules, *.min.js, docs/*)")
	fs.Int64Var(&c.maxFileSize, "max-file-size", 0, "largest content held in memory at once, in `bytes`; larger files are streamed (0: 256 MiB)")
	fs.IntVar(&c.workers, "workers", 0, "files scanned at once (0: one per CPU)")
	fs.StringVar(&c.storeURL, "store", os.Getenv("KEYWATCH_STORE"), "match findings to the inventory in this store `URL` (env KEYWATCH_STORE)")
	fs.StringVar(&c.pepperFile, "pepper-file", "", "pepper `file` for fingerprints (default $KEYWATCH_PEPPER_FILE or ~/.config/keywatch/pepper)")
	fs.StringVar(&c.baseline, "baseline", "", "do not report the known findings listed in `FILE`")
	fs.StringVar(&c.writeBaseline, "write-baseline", "", "write the findings to `FILE` as the new baseline, and exit 0")
	fs.BoolVar(&c.alert, "alert", false, "record a leaked-key alert in the store for each inventory key found (needs --store)")
	fs.BoolVar(&c.contain, "contain", false, "also contain each leaked key: disable it in the inventory, which the gateway enforces (implies --alert)")
	fs.BoolVar(&c.verify, "verify", false, "ask each provider whether the key still works (sends the secret to the provider's API)")
	fs.Var(&c.verifyBases, "verify-base", "use `PROVIDER=URL` as a provider's API base for --verify (repeatable)")
	targets, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	if len(targets) == 0 {
		targets = []string{"."}
	}
	pepper, err := secret.LoadPepper(c.pepperFile)
	if err != nil {
		return keywatch.Errorf(keywatch.EINVALID, "load pepper: %v", err)
	}
	var base *scan.Baseline
	if c.baseline != "" {
		if base, err = readBaseline(c.baseline); err != nil {
			return err
		}
	}
	bases, err := parseBases(c.verifyBases)
	if err != nil {
		return err
	}
	var st keywatch.Store
	if c.storeURL != "" {
		if st, err = openStore(ctx, c.storeURL); err != nil {
			return err
		}
		defer st.Close()
	}

	col := newCollection(pepper)
	if err := scanTargets(ctx, e, &c, targets, col); err != nil {
		return err
	}
	results := col.results()
	if st != nil {
		if err := col.match(ctx, st, results); err != nil {
			return err
		}
	}
	if c.verify {
		col.verify(ctx, &scan.Verifier{Bases: bases}, results)
	}

	rep := &scan.Report{Version: scan.ReportVersion, Tool: "keywatch"}
	for _, r := range results {
		if base.Contains(r) {
			rep.Suppressed++
			continue
		}
		rep.Findings = append(rep.Findings, r)
	}
	if c.alert {
		if err := raiseAlerts(ctx, e, &c, st, rep.Findings, time.Now()); err != nil {
			return err
		}
	}
	if err := writeReport(e, &c, rep); err != nil {
		return err
	}
	if c.writeBaseline != "" {
		if err := writeBaselineFile(c.writeBaseline, scan.NewBaseline(results)); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "wrote baseline %s with %d findings\n", c.writeBaseline, len(results))
		return nil
	}
	if len(rep.Findings) > 0 {
		return errFindings
	}
	return nil
}

func (c *scanConfig) validate() error {
	if c.jsonOut {
		c.format = "json"
	}
	if c.contain {
		c.alert = true
	}
	var errs []string
	switch c.format {
	case "table", "json", "sarif":
	default:
		errs = append(errs, fmt.Sprintf("--format %q: want table, json or sarif", c.format))
	}
	if c.alert && c.storeURL == "" {
		errs = append(errs, "--alert and --contain need --store")
	}
	if c.staged && (c.git || c.noHistory) {
		errs = append(errs, "--staged scans the index only: drop --git and --no-history")
	}
	if c.maxFileSize < 0 || c.workers < 0 {
		errs = append(errs, "--max-file-size and --workers must not be negative")
	}
	if len(errs) > 0 {
		return keywatch.Errorf(keywatch.EINVALID, "%s", strings.Join(errs, "; "))
	}
	return nil
}

// parseInterleaved parses flags that may come before, between or after
// positional arguments, which it returns.
func parseInterleaved(fs interface {
	Parse([]string) error
	Args() []string
}, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlagsAny(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// parseBases reads --verify-base PROVIDER=URL values.
func parseBases(vals []string) (map[string]string, error) {
	bases := map[string]string{}
	for _, v := range vals {
		p, u, ok := strings.Cut(v, "=")
		if !ok || p == "" || !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return nil, keywatch.Errorf(keywatch.EINVALID, "--verify-base %q: want PROVIDER=http(s)://HOST", v)
		}
		if _, known := scan.DefaultVerifyBases[p]; !known {
			return nil, keywatch.Errorf(keywatch.EINVALID, "--verify-base %q: no liveness check for provider %q", v, p)
		}
		bases[p] = u
	}
	return bases, nil
}

// scanTargets scans every target into col, showing progress on a
// terminal.
func scanTargets(ctx context.Context, e *env, c *scanConfig, targets []string, col *collection) error {
	var p *progress
	if e.interactive {
		p = newProgress(e.stderr, "scan")
		defer p.done()
	}
	opt := scan.SourceOptions{MaxFileSize: c.maxFileSize, Workers: c.workers, Exclude: c.exclude, CollapseHistory: true,
		Progress: func(s scan.SourceStats) {
			p.update("%s files, %s blobs, %s bytes, %d keys", thousands(s.Files), thousands(s.Blobs), thousands(s.Bytes), col.count())
		}}
	sc, err := scan.New(scan.Options{})
	if err != nil {
		return err
	}
	for _, t := range targets {
		prefix := ""
		if len(targets) > 1 && t != "-" {
			prefix = filepath.ToSlash(filepath.Clean(t))
		}
		emit := col.emitter(prefix)
		if t == "-" {
			if err := sc.ScanReader("stdin", e.stdin, emit); err != nil {
				return keywatch.Errorf(keywatch.EINVALID, "read stdin: %v", err)
			}
			continue
		}
		info, err := os.Stat(t)
		if err != nil {
			return keywatch.Errorf(keywatch.EINVALID, "scan %s: %v", t, errors.Unwrap(err))
		}
		if c.staged {
			if err := sc.ScanStaged(ctx, t, emit); err != nil {
				return keywatch.Errorf(keywatch.EINVALID, "scan staged changes in %s: %v", t, err)
			}
			continue
		}
		_, gitErr := os.Stat(filepath.Join(t, ".git"))
		isRepo := info.IsDir() && gitErr == nil
		if c.git && !isRepo {
			return keywatch.Errorf(keywatch.EINVALID, "scan %s: --git: not the root of a git repository", t)
		}
		if _, err := sc.ScanPath(ctx, t, opt, emit); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Per-file errors: the rest of the tree was scanned.
			fmt.Fprintf(e.stderr, "keywatch scan: warning: %v\n", err)
		}
		if isRepo && !c.noHistory {
			if _, err := sc.ScanGit(ctx, t, opt, emit); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("scan history of %s: %w", t, err)
			}
		}
	}
	return nil
}

func readBaseline(name string) (*scan.Baseline, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, keywatch.Errorf(keywatch.EINVALID, "open baseline: %v", err)
	}
	defer f.Close()
	return scan.ReadBaseline(f)
}

func writeBaselineFile(name string, b *scan.Baseline) error {
	f, err := os.Create(name)
	if err != nil {
		return keywatch.Errorf(keywatch.EINVALID, "write baseline: %v", err)
	}
	if err := b.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("write baseline %s: %w", name, err)
	}
	return f.Close()
}

func writeReport(e *env, c *scanConfig, rep *scan.Report) error {
	var w io.Writer = e.stdout
	var f *os.File
	if c.output != "" {
		var err error
		if f, err = os.Create(c.output); err != nil {
			return keywatch.Errorf(keywatch.EINVALID, "write report: %v", err)
		}
		defer f.Close()
		w = f
	}
	var err error
	switch c.format {
	case "json":
		err = rep.WriteJSON(w)
	case "sarif":
		err = rep.WriteSARIF(w, buildVersion())
	default:
		err = rep.WriteTable(w)
	}
	if err == nil && f != nil {
		err = f.Close()
	}
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// buildVersion is the module version keywatch was built at, "" for a
// development build.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return ""
}

// collection gathers findings from every source. It keeps one Finding per
// distinct fingerprint, the only place a secret is held, for matching and
// verification after the scan. Sources call its emitter from one goroutine
// at a time, one source after another.
type collection struct {
	pepper  []byte
	fps     *scan.Fingerprints
	all     []scan.Result
	index   map[place]int           // a finding's place → index in all
	leaks   map[leak]*leakResult    // a key at a path → the result history merges into
	secrets map[string]scan.Finding // by fingerprint
}

// place is where one finding is; leak is a key at a path, whatever the
// line, in any version.
type place struct {
	path         string
	line, column int
	rule, fp     string
}

type leak struct{ path, rule, fp string }

type leakResult struct {
	i    int    // index in all
	blob string // the last blob whose commits were added
}

func newCollection(pepper []byte) *collection {
	return &collection{pepper: pepper, fps: scan.NewFingerprints(pepper), index: map[place]int{},
		leaks: map[leak]*leakResult{}, secrets: map[string]scan.Finding{}}
}

func (c *collection) count() int { return len(c.all) }

// emitter returns the emit callback of one target, whose paths it
// prefixes with prefix. A key found at one path in many versions of
// history is one result: the working tree's finding when the key is still
// there (the working tree is scanned first), else the first history
// finding (ScanGit emits the oldest first), with the commits of all.
func (c *collection) emitter(prefix string) func(scan.Finding) {
	join := func(p string) string {
		if prefix != "" && prefix != "." {
			return path.Join(prefix, p)
		}
		return p
	}
	return func(f scan.Finding) {
		fp := c.fps.Of(&f)
		if _, ok := c.secrets[fp]; !ok {
			c.secrets[fp] = f
		}
		if len(f.Commits) > 0 {
			if lr := c.leaks[leak{join(f.Path), f.Rule, fp}]; lr != nil {
				if f.Blob != lr.blob { // a blob's findings share its commits
					lr.blob = f.Blob
					c.all[lr.i].AddCommits(f.Commits, f.CommitCount)
				}
				return
			}
		}
		r := scan.NewResult(&f, fp)
		r.Path = join(r.Path)
		k := place{r.Path, r.Line, r.Column, r.Rule, fp}
		if i, ok := c.index[k]; ok {
			if len(c.all[i].Commits) == 0 {
				c.all[i].Commits, c.all[i].CommitCount = r.Commits, r.CommitCount
			}
			return
		}
		c.index[k] = len(c.all)
		if lk := (leak{r.Path, r.Rule, fp}); c.leaks[lk] == nil {
			c.leaks[lk] = &leakResult{i: len(c.all), blob: f.Blob}
		}
		c.all = append(c.all, r)
	}
}

// results returns the findings sorted.
func (c *collection) results() []scan.Result {
	scan.Sort(c.all)
	return c.all
}

// match fills the inventory matches of results.
func (c *collection) match(ctx context.Context, st keywatch.Store, results []scan.Result) error {
	m, err := scan.NewMatcher(ctx, st)
	if err != nil {
		return err
	}
	for i := range results {
		f := c.secrets[results[i].Fingerprint]
		if results[i].Matches, err = m.Match(ctx, &f, results[i].Fingerprint); err != nil {
			return err
		}
	}
	return nil
}

// verify asks providers about each distinct secret once.
func (c *collection) verify(ctx context.Context, v *scan.Verifier, results []scan.Result) {
	done := map[string]*scan.Verification{}
	for i := range results {
		fp := results[i].Fingerprint
		if _, ok := done[fp]; !ok {
			f := c.secrets[fp]
			res := v.Verify(ctx, &f)
			done[fp] = &res
		}
		results[i].Verification = done[fp]
	}
}

// raiseAlerts records a leaked-key alert for each inventory key found, one
// per key and secret, and with --contain hands each to the containment
// engine.
func raiseAlerts(ctx context.Context, e *env, c *scanConfig, st keywatch.Store, results []scan.Result, now time.Time) error {
	alerts := leakAlerts(results, now)
	if len(alerts) == 0 {
		return nil
	}
	if err := st.PutAlerts(ctx, alerts); err != nil {
		return fmt.Errorf("record alerts: %w", err)
	}
	fmt.Fprintf(e.stderr, "recorded %d leaked-key alerts\n", len(alerts))
	if !c.contain {
		return nil
	}
	policy, err := contain.ParsePolicy([]byte(scanLeakPolicy))
	if err != nil {
		return err
	}
	eng := contain.NewEngine(st, contain.Options{
		Policy:    policy,
		Actuators: map[contain.Target]contain.Actuator{contain.TargetGateway: &contain.KeyStatusActuator{Store: st}},
	})
	for _, a := range alerts {
		outs, err := eng.Handle(ctx, a)
		if err != nil {
			return fmt.Errorf("contain %s: %w", a.KeyID, err)
		}
		for _, o := range outs {
			if o.Kind == contain.KindNotify {
				continue
			}
			fmt.Fprintf(e.stderr, "contain %s: %s at %s: %s\n", a.KeyID, o.Kind, o.Target, o.State)
		}
	}
	return nil
}

// leakAlerts builds one leaked-key alert per (key, secret) pair: for exact
// matches, and for probable matches with a single candidate. The id is a
// hash of rule, key and fingerprint, so scanning again records nothing
// new. Severity: critical for a current secret; high for a secret rotated
// away (it must still be revoked at the provider) and for a probable
// match. Tags: MITRE ATLAS AML.T0055 Unsecured Credentials, and OWASP
// LLM02:2025 Sensitive Information Disclosure (the leak itself; LLM10
// Unbounded Consumption is what replay detects when the key is abused).
func leakAlerts(results []scan.Result, now time.Time) []*keywatch.Alert {
	var out []*keywatch.Alert
	seen := map[string]*keywatch.Alert{}
	for _, r := range results {
		if len(r.Matches) == 0 || !r.Matches[0].Exact() && len(r.Matches) > 1 {
			continue
		}
		m := r.Matches[0]
		h := sha256.Sum256([]byte("leaked-key\x00" + m.KeyID + "\x00" + r.Fingerprint))
		id := "leak-" + hex.EncodeToString(h[:8])
		if a := seen[id]; a != nil {
			a.Evidence["locations"] = a.Evidence["locations"].(int) + 1
			continue
		}
		sev := keywatch.SeverityHigh
		if m.Kind == scan.MatchCurrent {
			sev = keywatch.SeverityCritical
		}
		at := now
		ev := map[string]any{
			"path": r.Path, "line": r.Line, "rule": r.Rule, "provider": r.Provider,
			"redacted": r.Redacted, "fingerprint_match": string(m.Kind), "locations": 1,
		}
		if len(r.Commits) > 0 {
			ev["commit"] = r.Commits[0].SHA
			if d := r.Commits[0].AuthorDate; !d.IsZero() {
				at = d
			}
		}
		what := map[scan.MatchKind]string{scan.MatchCurrent: "current secret",
			scan.MatchRotated: "rotated-away secret", scan.MatchProbable: "probably its secret"}[m.Kind]
		a := &keywatch.Alert{
			ID: id, Time: at, DetectedAt: now, FirstSeen: at,
			KeyID: m.KeyID, Service: m.Service, Env: m.Env, Owner: m.Owner,
			Rule: "leaked-key", Severity: sev,
			Title:    fmt.Sprintf("Key %s leaked in %s", m.KeyID, r.Path),
			Summary:  fmt.Sprintf("The %s of key %s (%s) was found at %s:%d; revoke and rotate it.", what, m.KeyID, r.Redacted, r.Path, r.Line),
			Evidence: ev,
			Tags:     []string{"atlas:AML.T0055", "owasp:LLM02"},
			Status:   keywatch.AlertOpen,
			Actions:  []keywatch.Action{},
		}
		seen[id] = a
		out = append(out, a)
	}
	return out
}
