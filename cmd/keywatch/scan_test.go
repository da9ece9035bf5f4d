package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/scan"
	"github.com/keywatch/keywatch/store"
)

// genKey returns a generated key of the shape of rule "openai-project-key"
// (kind "openai") or "groq-api-key" (kind "groq"). Keys are generated so
// that no key-shaped literal sits in the repository.
func genKey(kind string, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 99))
	run := func(set string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = set[rng.IntN(len(set))]
		}
		return string(b)
	}
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	if kind == "groq" {
		return "gsk_" + run(alnum, 52)
	}
	return "sk-proj-" + run(alnum+"_-", 74) + "T3BlbkFJ" + run(alnum+"_-", 74)
}

// scanEnv sets a pepper for the test and returns a temporary directory.
func scanEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("KEYWATCH_PEPPER_FILE", filepath.Join(dir, "pepper"))
	t.Setenv("KEYWATCH_STORE", "")
	return dir
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func decodeReport(t *testing.T, out string) scan.Report {
	t.Helper()
	var rep scan.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("decode report: %v\n%s", err, out)
	}
	return rep
}

func assertNoSecret(t *testing.T, what string, b []byte, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) || bytes.Contains(b, []byte(s[9:30])) {
			t.Errorf("%s holds a secret", what)
		}
	}
}

func TestScanDirectory(t *testing.T) {
	dir := scanEnv(t)
	k1, k2 := genKey("openai", 1), genKey("groq", 2)
	src := filepath.Join(dir, "src")
	writeFile(t, filepath.Join(src, "app", ".env"), "OPENAI_API_KEY="+k1+"\n")
	writeFile(t, filepath.Join(src, "test", "fixture.txt"), "GROQ_API_KEY="+k2+" # keywatch:allow\n")
	writeFile(t, filepath.Join(dir, "clean", "main.go"), "package main\n")

	code, out, errOut := runCmd(t, "scan", "--format", "json", src)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	rep := decodeReport(t, out)
	if len(rep.Findings) != 1 || rep.Findings[0].Path != "app/.env" || rep.Findings[0].Line != 1 ||
		rep.Findings[0].Rule != "openai-project-key" || len(rep.Findings[0].Fingerprint) != 64 {
		t.Errorf("findings (keywatch:allow line must be skipped): %+v", rep.Findings)
	}
	assertNoSecret(t, "json", []byte(out+errOut), k1, k2)

	// flags after the path; table and SARIF
	code, out, _ = runCmd(t, "scan", src, "--format", "table")
	if code != 1 || !strings.Contains(out, "app/.env:1:16") || !strings.Contains(out, "1 leaked keys found") {
		t.Errorf("table exit %d:\n%s", code, out)
	}
	sarifPath := filepath.Join(dir, "out.sarif")
	code, _, _ = runCmd(t, "scan", "--format", "sarif", "--output", sarifPath, src)
	b, _ := os.ReadFile(sarifPath)
	if code != 1 || !bytes.Contains(b, []byte(`"keywatch/v1": "`+rep.Findings[0].Fingerprint)) {
		t.Errorf("sarif exit %d:\n%s", code, b)
	}
	assertNoSecret(t, "table and sarif", []byte(out+string(b)), k1, k2)

	if code, out, _ := runCmd(t, "scan", filepath.Join(dir, "clean")); code != 0 || !strings.Contains(out, "no leaked keys") {
		t.Errorf("clean tree: exit %d: %s", code, out)
	}
	for name, args := range map[string][]string{
		"missing path": {"scan", filepath.Join(dir, "nope")},
		"bad format":   {"scan", "--format", "xml", src},
		"alert":        {"scan", "--alert", src},
		"verify base":  {"scan", "--verify-base", "nosuch=http://x", src},
		"git not repo": {"scan", "--git", src},
		"bad flag":     {"scan", "--nope"},
	} {
		if code, _, _ := runCmd(t, args...); code != 2 {
			t.Errorf("%s: exit %d, want 2", name, code)
		}
	}
	if code, _, errOut := runCmd(t, "scan", "--help"); code != 0 || !strings.Contains(errOut, "Example:") {
		t.Errorf("--help: exit %d: %s", code, errOut)
	}
}

func TestScanStdin(t *testing.T) {
	scanEnv(t)
	k := genKey("groq", 3)
	code, out, _ := runIn(t, "log line\nGROQ_API_KEY="+k+"\n", "scan", "--json", "-")
	rep := decodeReport(t, out)
	if code != 1 || len(rep.Findings) != 1 || rep.Findings[0].Path != "stdin" || rep.Findings[0].Line != 2 {
		t.Errorf("exit %d: %+v", code, rep.Findings)
	}
	assertNoSecret(t, "stdin report", []byte(out), k)
}

func TestScanBaseline(t *testing.T) {
	dir := scanEnv(t)
	k1, k2 := genKey("openai", 4), genKey("groq", 5)
	src := filepath.Join(dir, "src")
	writeFile(t, filepath.Join(src, "a.env"), "K="+k1+"\n")
	bl := filepath.Join(dir, "baseline.json")
	if code, _, errOut := runCmd(t, "scan", "--write-baseline", bl, src); code != 0 {
		t.Fatalf("write baseline: exit %d: %s", code, errOut)
	}
	b, _ := os.ReadFile(bl)
	assertNoSecret(t, "baseline", b, k1)
	code, out, _ := runCmd(t, "scan", "--json", "--baseline", bl, src)
	if rep := decodeReport(t, out); code != 0 || len(rep.Findings) != 0 || rep.Suppressed != 1 {
		t.Errorf("known finding: exit %d, %+v", code, rep)
	}
	writeFile(t, filepath.Join(src, "b.env"), "K="+k2+"\n")
	code, out, _ = runCmd(t, "scan", "--json", "--baseline", bl, src)
	if rep := decodeReport(t, out); code != 1 || len(rep.Findings) != 1 || rep.Findings[0].Path != "b.env" {
		t.Errorf("new finding: exit %d, %+v", code, rep)
	}
	writeFile(t, filepath.Join(dir, "bad.json"), `{"version": 9}`)
	if code, _, _ := runCmd(t, "scan", "--baseline", filepath.Join(dir, "bad.json"), src); code != 2 {
		t.Errorf("bad baseline: exit %d, want 2", code)
	}
}

// TestScanMatchAlertContain drives inventory matching (current, rotated,
// probable, ambiguous), alerts and containment with a real SQLite store,
// then searches every output and the database files for the secrets.
func TestScanMatchAlertContain(t *testing.T) {
	dir := scanEnv(t)
	db := filepath.Join(dir, "kw.db")
	st := "sqlite://" + db
	cur, old, newer, probable, amb := genKey("openai", 10), genKey("openai", 11), genKey("openai", 12), genKey("openai", 13), genKey("groq", 14)
	secrets := []string{cur, old, newer, probable, amb}
	var outputs strings.Builder
	step := func(want int, stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runIn(t, stdin, args...)
		outputs.WriteString(out + errOut)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s%s", args, code, want, out, errOut)
		}
		return out
	}
	step(0, cur, "keys", "add", "--store", st, "--id", "cur", "--provider", "openai", "--owner", "dana@example.com", "--service", "search", "--env", "prod", "--secret-file", "-")
	step(0, old, "keys", "add", "--store", st, "--id", "rot", "--provider", "openai", "--secret-file", "-")
	step(0, newer, "keys", "rotate", "rot", "--store", st, "--secret-file", "-")
	ctx := context.Background()
	s, err := store.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	err = s.PutKeys(ctx, []keywatch.StoredKey{
		{Key: keywatch.Key{ID: "admin-imported", Provider: "openai"}, ProviderKeyID: "key_abc", Redacted: probable[:11] + "..." + probable[len(probable)-4:]},
		{Key: keywatch.Key{ID: "groq-a", Provider: "groq"}, Last4: amb[len(amb)-4:]},
		{Key: keywatch.Key{ID: "groq-b", Provider: "groq"}, Redacted: "gsk_..." + amb[len(amb)-4:]},
	}, keywatch.Change{Actor: "test"})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}

	src := filepath.Join(dir, "src")
	writeFile(t, filepath.Join(src, "cur.env"), "K="+cur+"\n")
	writeFile(t, filepath.Join(src, "old.env"), "K="+old+"\n")
	writeFile(t, filepath.Join(src, "probable.env"), "K="+probable+"\n")
	writeFile(t, filepath.Join(src, "amb.env"), "K="+amb+"\n")
	writeFile(t, filepath.Join(src, "copy.env"), "# again\nK="+cur+"\n")

	out := step(1, "", "scan", "--json", "--store", st, "--contain", src)
	rep := decodeReport(t, out)
	got := map[string]string{}
	for _, f := range rep.Findings {
		var ids []string
		for _, m := range f.Matches {
			ids = append(ids, m.KeyID+":"+string(m.Kind))
		}
		got[f.Path] = strings.Join(ids, ",")
	}
	want := map[string]string{
		"cur.env": "cur:current", "copy.env": "cur:current", "old.env": "rot:rotated",
		"probable.env": "admin-imported:probable", "amb.env": "groq-a:probable,groq-b:probable",
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s matched %q, want %q", p, got[p], w)
		}
	}

	s, err = store.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	alerts, err := s.Alerts(ctx, keywatch.AlertFilter{Rule: "leaked-key"})
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]*keywatch.Alert{}
	for _, a := range alerts {
		byKey[a.KeyID] = a
	}
	if len(alerts) != 3 || byKey["cur"] == nil || byKey["rot"] == nil || byKey["admin-imported"] == nil {
		t.Fatalf("alerts %d: %v (want cur, rot, admin-imported; none for the ambiguous key)", len(alerts), byKey)
	}
	a := byKey["cur"]
	if a.Severity != keywatch.SeverityCritical || a.Owner != "dana@example.com" || a.Evidence["fingerprint_match"] != "current" ||
		a.Evidence["locations"] != float64(2) || !strings.Contains(strings.Join(a.Tags, " "), "atlas:AML.T0055") {
		t.Errorf("alert on cur: %+v", a)
	}
	if byKey["rot"].Severity != keywatch.SeverityHigh {
		t.Errorf("rotated alert severity %s", byKey["rot"].Severity)
	}
	if k, _ := s.Key(ctx, "cur"); k.Status != keywatch.KeyDisabled {
		t.Errorf("leaked current key not disabled: %s", k.Status)
	}
	if k, _ := s.Key(ctx, "rot"); k.Status == keywatch.KeyDisabled {
		t.Error("key with a rotated-away leak disabled")
	}
	// scanning again records nothing new
	step(1, "", "scan", "--store", st, "--alert", src)
	if again, _ := s.Alerts(ctx, keywatch.AlertFilter{Rule: "leaked-key"}); len(again) != 3 {
		t.Errorf("%d alerts after a second scan, want 3", len(again))
	}

	ab, _ := json.Marshal(alerts)
	assertNoSecret(t, "alerts", ab, secrets...)
	assertNoSecret(t, "outputs", []byte(outputs.String()), secrets...)
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		if b, err := os.ReadFile(f); err == nil {
			assertNoSecret(t, filepath.Base(f), b, secrets...)
		}
	}
}

func TestScanVerify(t *testing.T) {
	dir := scanEnv(t)
	k := genKey("groq", 20)
	writeFile(t, filepath.Join(dir, "src", "a.env"), "K="+k+"\n")
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.URL.Path != "/v1/models" || r.Header.Get("Authorization") != "Bearer "+k {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"object":"list","data":[]}`))
	}))
	defer srv.Close()
	code, out, errOut := runCmd(t, "scan", "--json", "--verify", "--verify-base", "groq="+srv.URL, filepath.Join(dir, "src"))
	rep := decodeReport(t, out)
	if code != 1 || len(rep.Findings) != 1 || rep.Findings[0].Verification == nil || rep.Findings[0].Verification.Result != scan.Live || calls != 1 {
		t.Fatalf("exit %d, calls %d: %s %s", code, calls, out, errOut)
	}
	assertNoSecret(t, "verify output", []byte(out+errOut), k)
	if _, _, _ = runCmd(t, "scan", "--json", filepath.Join(dir, "src")); calls != 1 {
		t.Error("verification ran without --verify")
	}
}

// git runs git in dir with a fixed identity.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Dana", "GIT_AUTHOR_EMAIL=dana@example.com",
		"GIT_COMMITTER_NAME=Dana", "GIT_COMMITTER_EMAIL=dana@example.com",
		"GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z", "GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// scanRepo is scanEnv with an empty directory for a repository in it
// (the caller runs git init, with its own options). It fails, never
// skips, without git.
func scanRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("these tests need git on PATH (apt-get install git)")
	}
	repo := filepath.Join(scanEnv(t), "repo")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	return repo
}

func TestScanGitAndStaged(t *testing.T) {
	repo := scanRepo(t)
	k1, k2, k3 := genKey("openai", 30), genKey("groq", 31), genKey("groq", 32)
	git(t, repo, "init", "-q")
	writeFile(t, filepath.Join(repo, "config.env"), "K="+k1+"\n")
	writeFile(t, filepath.Join(repo, "live.env"), "K="+k2+"\n")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "add config")
	git(t, repo, "rm", "-q", "config.env")
	git(t, repo, "commit", "-q", "-m", "remove key")

	code, out, errOut := runCmd(t, "scan", "--json", repo)
	rep := decodeReport(t, out)
	paths := map[string]scan.Result{}
	for _, f := range rep.Findings {
		paths[f.Path] = f
	}
	if code != 1 || len(rep.Findings) != 2 || len(paths["config.env"].Commits) == 0 || len(paths["live.env"].Commits) == 0 {
		t.Fatalf("history scan, exit %d: %+v %s", code, rep.Findings, errOut)
	}
	if c := paths["config.env"].Commits[0]; !strings.Contains(c.Author, "dana@example.com") || c.AuthorDate.Year() != 2026 {
		t.Errorf("commit %+v", c)
	}
	code, out, _ = runCmd(t, "scan", "--json", "--no-history", repo)
	if rep := decodeReport(t, out); code != 1 || len(rep.Findings) != 1 || rep.Findings[0].Path != "live.env" {
		t.Errorf("--no-history: exit %d, %+v", code, rep.Findings)
	}

	// pre-commit: only what is staged
	if code, out, _ := runCmd(t, "scan", "--staged", repo); code != 0 {
		t.Errorf("nothing staged: exit %d: %s", code, out)
	}
	writeFile(t, filepath.Join(repo, "new.env"), "K="+k3+"\n")
	git(t, repo, "add", "new.env")
	code, out, _ = runCmd(t, "scan", "--staged", "--json", repo)
	if rep := decodeReport(t, out); code != 1 || len(rep.Findings) != 1 || rep.Findings[0].Path != "new.env" {
		t.Errorf("staged: exit %d, %+v", code, rep.Findings)
	}
	assertNoSecret(t, "git outputs", []byte(out+errOut), k1, k2, k3)
}

// TestScanHistoryOneResultPerLeak: a key at one path through many versions
// of history is one result with the commits of every version, at its line
// in the working tree when it is still there, else in its oldest version.
func TestScanHistoryOneResultPerLeak(t *testing.T) {
	repo := scanRepo(t)
	gone, kept := genKey("openai", 40), genKey("groq", 41)
	git(t, repo, "init", "-q")
	oldLines, liveLines := "K="+gone+"\n", "K="+kept+"\n"
	for i := range 5 {
		oldLines = "# edit " + string(rune('a'+i)) + "\n" + oldLines
		liveLines = "# edit " + string(rune('a'+i)) + "\n" + liveLines
		writeFile(t, filepath.Join(repo, "old.env"), oldLines)
		writeFile(t, filepath.Join(repo, "live.env"), liveLines)
		git(t, repo, "add", ".")
		git(t, repo, "commit", "-q", "-m", "edit", "--date", fmt.Sprintf("2026-02-0%dT10:00:00Z", i+1))
	}
	// The live key also sits twice in one file of the working tree.
	writeFile(t, filepath.Join(repo, "live.env"), liveLines+"again="+kept+"\n")
	git(t, repo, "rm", "-q", "old.env")
	git(t, repo, "commit", "-q", "-a", "-m", "remove the old key")

	code, out, errOut := runCmd(t, "scan", "--json", repo)
	rep := decodeReport(t, out)
	if code != 1 || len(rep.Findings) != 3 {
		t.Fatalf("exit %d, %d findings, want 3: %+v %s", code, len(rep.Findings), rep.Findings, errOut)
	}
	commits := func(r scan.Result) int { return max(r.CommitCount, len(r.Commits)) }
	var old, live []scan.Result
	for _, r := range rep.Findings {
		switch r.Path {
		case "old.env":
			old = append(old, r)
		case "live.env":
			live = append(live, r)
		}
	}
	if len(old) != 1 || old[0].Line != 2 || commits(old[0]) != 5 {
		t.Errorf("old.env: want one result, line 2 (its oldest version), 5 commits: %+v", old)
	}
	if len(live) != 2 || live[0].Line != 6 || commits(live[0]) != 6 || live[1].Line != 7 {
		t.Errorf("live.env: want line 6 with 6 commits and line 7: %+v", live)
	}
	for i := 1; i < len(old[0].Commits); i++ {
		if old[0].Commits[i].AuthorDate.Before(old[0].Commits[i-1].AuthorDate) {
			t.Errorf("commits not oldest first: %+v", old[0].Commits)
		}
	}
}

// TestScanGatewayKey finds a leaked keywatch gateway key and maps it to its
// inventory record by fingerprint, as provider keys are.
func TestScanGatewayKey(t *testing.T) {
	dir := scanEnv(t)
	st := "sqlite://" + filepath.Join(dir, "kw.db")
	code, out, errOut := runIn(t, "", "gateway", "issue", "--store", st, "--id", "gw-search", "--service", "search", "--env", "prod")
	if code != 0 {
		t.Fatalf("issue: exit %d: %s", code, errOut)
	}
	sec := strings.TrimSpace(out)
	src := filepath.Join(dir, "src")
	writeFile(t, filepath.Join(src, "app.env"), "KEYWATCH_GATEWAY_KEY="+sec+"\n")
	code, out, errOut = runIn(t, "", "scan", "--json", "--store", st, src)
	if code != 1 {
		t.Fatalf("scan: exit %d, want 1 (a finding)\n%s", code, errOut)
	}
	rep := decodeReport(t, out)
	if len(rep.Findings) != 1 {
		t.Fatalf("%d findings, want 1: %s", len(rep.Findings), out)
	}
	f := rep.Findings[0]
	if f.Rule != "keywatch-gateway-key" || len(f.Matches) != 1 || f.Matches[0].KeyID != "gw-search" || f.Matches[0].Kind != "current" {
		t.Errorf("finding %+v", f)
	}
	assertNoSecret(t, "report", []byte(out+errOut), sec)
}
