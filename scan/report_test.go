package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/secret"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// reportPepper is a fixed pepper, so that golden fingerprints are stable.
var reportPepper = bytes.Repeat([]byte("p"), secret.PepperSize)

// reportKey generates a key for rule id from its Example, seeded by seed.
func reportKey(t testing.TB, id string, seed uint64) string {
	t.Helper()
	r := RuleByID(id)
	if r == nil {
		t.Fatalf("no rule %s", id)
	}
	return expand(r.Example, rand.New(rand.NewPCG(seed, 7)))
}

// findOne scans text and returns its only finding.
func findOne(t testing.TB, name, text string) Finding {
	t.Helper()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs := scanAll(t, s, text)
	if len(fs) != 1 {
		t.Fatalf("%d findings in %q, want 1", len(fs), name)
	}
	fs[0].Source = name
	return fs[0]
}

// goldenReport is a fixed report: a plain finding, an encoded one, and a
// history finding matched to the inventory.
func goldenReport(t *testing.T) (*Report, []string) {
	t.Helper()
	k1, k2, k3 := reportKey(t, "openai-project-key", 1), reportKey(t, "anthropic-api-key", 2), reportKey(t, "groq-api-key", 3)
	f1 := findOne(t, "app/.env", "# config\nOPENAI_API_KEY="+k1+"\n")
	f2 := findOne(t, "deploy/values.yaml", "token: \""+k2+"\"\n")
	f3 := findOne(t, "ci.log", "x\ny\nexport GROQ_API_KEY="+k3+"\n")
	f3.Path = "scripts/ci.sh"
	f3.Commits = []Commit{{SHA: "0123456789abcdef0123456789abcdef01234567", Path: "scripts/ci.sh",
		Author: "Dana <dana@example.com>", AuthorDate: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}}
	f3.CommitCount = 3
	rs := []Result{NewResult(&f3, f3.Fingerprint(reportPepper)), NewResult(&f1, f1.Fingerprint(reportPepper)), NewResult(&f2, f2.Fingerprint(reportPepper))}
	rs[0].Matches = []Match{{KeyID: "ci-groq", Kind: MatchCurrent, Provider: "groq", Owner: "dana@example.com", Service: "ci", Status: keywatch.KeyActive}}
	rs[2].Matches = []Match{{KeyID: "a1", Kind: MatchProbable, Provider: "anthropic"}, {KeyID: "a2", Kind: MatchProbable, Provider: "anthropic"}}
	Sort(rs)
	return &Report{Version: ReportVersion, Tool: "keywatch", Findings: rs, Suppressed: 1}, []string{k1, k2, k3}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, d)
	}
}

func noSecrets(t *testing.T, what string, out []byte, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(out, []byte(s)) || bytes.Contains(out, []byte(s[:16])) {
			t.Errorf("%s holds a secret", what)
		}
	}
}

func TestReportGolden(t *testing.T) {
	rep, secrets := goldenReport(t)
	var js, sarif, table bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteSARIF(&sarif, "v1.2.3"); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "report.json", js.Bytes())
	checkGolden(t, "report.sarif", sarif.Bytes())
	checkGolden(t, "report.txt", table.Bytes())
	for name, b := range map[string][]byte{"json": js.Bytes(), "sarif": sarif.Bytes(), "table": table.Bytes()} {
		noSecrets(t, name, b, secrets)
	}
	for _, want := range []string{"scripts/ci.sh:3:", "01234567 2026-03-04 +2", "ci-groq (current, dana@example.com, active)", "probable: a1, a2 (ambiguous)"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}

// TestSARIFStructure checks the SARIF log against the properties the SARIF
// 2.1.0 schema requires (sarifLog: version, runs; run: tool; tool: driver;
// toolComponent: name; reportingDescriptor: id; result: message;
// message: text; multiformatMessageString: text) and those GitHub code
// scanning reads.
func TestSARIFStructure(t *testing.T) {
	rep, _ := goldenReport(t)
	var b bytes.Buffer
	if err := rep.WriteSARIF(&b, ""); err != nil {
		t.Fatal(err)
	}
	var log map[string]any
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	must := func(m map[string]any, at string, keys ...string) {
		t.Helper()
		for _, k := range keys {
			if v, ok := m[k]; !ok || v == nil || v == "" {
				t.Errorf("%s: no %s", at, k)
			}
		}
	}
	obj := func(v any) map[string]any { m, _ := v.(map[string]any); return m }
	arr := func(v any) []any { a, _ := v.([]any); return a }
	must(log, "sarifLog", "$schema", "version", "runs")
	if log["version"] != "2.1.0" {
		t.Errorf("version %v", log["version"])
	}
	runs := arr(log["runs"])
	if len(runs) != 1 {
		t.Fatalf("%d runs", len(runs))
	}
	run := obj(runs[0])
	must(run, "run", "tool", "results")
	driver := obj(obj(run["tool"])["driver"])
	must(driver, "driver", "name", "informationUri", "semanticVersion", "rules")
	if driver["semanticVersion"] != "0.0.0-dev" {
		t.Errorf("semanticVersion %v", driver["semanticVersion"])
	}
	ids := map[string]int{}
	for i, r := range arr(driver["rules"]) {
		rule := obj(r)
		must(rule, "rule", "id", "name", "shortDescription", "fullDescription", "help", "properties")
		for _, k := range []string{"shortDescription", "fullDescription", "help"} {
			must(obj(rule[k]), "rule "+k, "text")
		}
		props := obj(rule["properties"])
		must(props, "rule properties", "tags", "security-severity")
		seen := map[any]bool{}
		for _, tag := range arr(props["tags"]) {
			if seen[tag] {
				t.Errorf("rule %v: duplicate tag %v (tags must be unique)", rule["id"], tag)
			}
			seen[tag] = true
		}
		ids[rule["id"].(string)] = i
	}
	results := arr(run["results"])
	if len(results) != 3 {
		t.Fatalf("%d results", len(results))
	}
	for _, r := range results {
		res := obj(r)
		must(res, "result", "ruleId", "ruleIndex", "level", "message", "locations", "partialFingerprints")
		must(obj(res["message"]), "message", "text")
		if i, ok := ids[res["ruleId"].(string)]; !ok || float64(i) != res["ruleIndex"] {
			t.Errorf("result rule %v index %v: rule list has %d", res["ruleId"], res["ruleIndex"], i)
		}
		loc := obj(obj(arr(res["locations"])[0])["physicalLocation"])
		must(obj(loc["artifactLocation"]), "artifactLocation", "uri", "uriBaseId")
		region := obj(loc["region"])
		must(region, "region", "startLine", "startColumn", "endColumn", "snippet")
		if !strings.Contains(obj(region["snippet"])["text"].(string), "…") {
			t.Errorf("snippet %v is not redacted", region["snippet"])
		}
		if fp := obj(res["partialFingerprints"])[SARIFFingerprint]; len(fp.(string)) != 64 {
			t.Errorf("partial fingerprint %v", fp)
		}
	}
}

func TestSARIFURI(t *testing.T) {
	for in, want := range map[string]string{
		"app/.env":             "app/.env",
		`dir\win file.txt`:     "dir/win%20file.txt",
		"a.zip!inner/k#1.json": "a.zip!inner/k%231.json",
	} {
		if got := sarifURI(in); got != want {
			t.Errorf("sarifURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBaselineRoundTrip(t *testing.T) {
	rep, secrets := goldenReport(t)
	b := NewBaseline(append(rep.Findings, rep.Findings[0])) // a duplicate
	if len(b.Findings) != 3 {
		t.Fatalf("baseline has %d entries, want 3", len(b.Findings))
	}
	var buf bytes.Buffer
	if err := b.Write(&buf); err != nil {
		t.Fatal(err)
	}
	noSecrets(t, "baseline", buf.Bytes(), secrets)
	got, err := ReadBaseline(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Findings {
		if !got.Contains(r) {
			t.Errorf("baseline lost %s", r.Path)
		}
		moved := r
		moved.Path = "elsewhere"
		if got.Contains(moved) {
			t.Errorf("baseline matches %s at another path", r.Rule)
		}
	}
	var none *Baseline
	if none.Contains(rep.Findings[0]) {
		t.Error("nil baseline contains a finding")
	}
	for name, in := range map[string]string{
		"unknown field":  `{"version":1,"findings":[],"extra":1}`,
		"version":        `{"version":2,"findings":[]}`,
		"no fingerprint": `{"version":1,"findings":[{"path":"a","rule":"b"}]}`,
		"not json":       `findings:`,
	} {
		if _, err := ReadBaseline(strings.NewReader(in)); keywatch.ErrorCode(err) != keywatch.EINVALID {
			t.Errorf("%s: err %v, want EINVALID", name, err)
		}
	}
}

// fakeInventory is an in-memory Inventory that counts Keys calls.
type fakeInventory struct {
	keys      []keywatch.StoredKey
	keysCalls int
}

func (f *fakeInventory) Keys(context.Context, keywatch.KeyFilter) ([]keywatch.StoredKey, error) {
	f.keysCalls++
	return f.keys, nil
}

func (f *fakeInventory) KeyByFingerprint(_ context.Context, fp string) (*keywatch.StoredKey, bool, error) {
	for i := range f.keys {
		k := &f.keys[i]
		if k.Fingerprint == fp {
			return k, true, nil
		}
		for _, old := range k.OldFingerprints {
			if old == fp {
				return k, false, nil
			}
		}
	}
	return nil, false, keywatch.Errorf(keywatch.ENOTFOUND, "not found")
}

func TestMatcher(t *testing.T) {
	cur, old, proj, leg, other := reportKey(t, "openai-project-key", 11), reportKey(t, "openai-project-key", 12),
		reportKey(t, "openai-project-key", 13), reportKey(t, "openai-legacy-key", 14), reportKey(t, "groq-api-key", 15)
	fp := func(s string) string { return secret.Fingerprint(reportPepper, []byte(s)) }
	red := func(s string, pre int) string { return s[:pre] + "..." + s[len(s)-4:] }
	inv := &fakeInventory{keys: []keywatch.StoredKey{
		{Key: keywatch.Key{ID: "current", Provider: "openai", Owner: "o@example.com"}, Fingerprint: fp(cur), OldFingerprints: []string{"x"}},
		{Key: keywatch.Key{ID: "rotated", Provider: "openai"}, Fingerprint: fp("new"), OldFingerprints: []string{fp(old)}},
		// imported from an admin API: redacted forms only
		{Key: keywatch.Key{ID: "proj-admin", Provider: "openai"}, ProviderKeyID: "key_1", Redacted: red(proj, 11)},
		{Key: keywatch.Key{ID: "leg-b", Provider: "openai"}, Redacted: red(leg, 3)},
		{Key: keywatch.Key{ID: "leg-a", Provider: "openai"}, Last4: leg[len(leg)-4:]},
		{Key: keywatch.Key{ID: "wrong-provider", Provider: "anthropic"}, Last4: leg[len(leg)-4:]},
		{Key: keywatch.Key{ID: "wrong-prefix", Provider: "openai"}, Redacted: "sk-admin-..." + proj[len(proj)-4:]},
		{Key: keywatch.Key{ID: "too-short", Provider: "groq"}, Redacted: "gsk_..." + other[len(other)-2:]},
	}}
	m, err := NewMatcher(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, key string
		want      []string // key ids
		kind      MatchKind
	}{
		{"current", cur, []string{"current"}, MatchCurrent},
		{"rotated", old, []string{"rotated"}, MatchRotated},
		{"probable", proj, []string{"proj-admin"}, MatchProbable},
		{"ambiguous", leg, []string{"leg-a", "leg-b"}, MatchProbable},
		{"none", other, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := findOne(t, tt.name, "k = "+tt.key+"\n")
			for range 2 { // the second time from the cache
				ms, err := m.Match(context.Background(), &f, fp(tt.key))
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, x := range ms {
					ids = append(ids, x.KeyID)
					if x.Kind != tt.kind {
						t.Errorf("%s: kind %s, want %s", x.KeyID, x.Kind, tt.kind)
					}
				}
				if d := cmp.Diff(tt.want, ids); d != "" {
					t.Errorf("matches (-want +got):\n%s", d)
				}
			}
		})
	}
	if inv.keysCalls != 1 {
		t.Errorf("inventory loaded %d times, want once", inv.keysCalls)
	}
}

func TestParseRedacted(t *testing.T) {
	for in, want := range map[string][2]string{
		"sk-...abcd":            {"sk-", "abcd"},
		"sk-proj-abc…wxyz":      {"sk-proj-abc", "wxyz"},
		"sk-ant-api03-****wxyz": {"sk-ant-api03-", "wxyz"},
		"sk-.....wxyz":          {"sk-", "wxyz"},
	} {
		p, s, ok := ParseRedacted(in)
		if !ok || p != want[0] || s != want[1] {
			t.Errorf("ParseRedacted(%q) = %q, %q, %v; want %q", in, p, s, ok, want)
		}
	}
	if _, _, ok := ParseRedacted("abcd"); ok {
		t.Error("ParseRedacted without elision reports ok")
	}
}

// TestResultJSON: Result's hand-written encoding is byte for byte what
// encoding/json writes (without HTML escaping), for results with every
// field and strings that need escaping.
func TestResultJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	strs := []string{"", "plain", "a/b.env", "Ada <ada@example.com>", "we\"ird\\path\n\t\x01", "Zoë 山田", "bad \xff utf-8", "\u2028", "<&>"}
	str := func() string { return strs[rng.IntN(len(strs))] }
	zones := []*time.Location{time.UTC, time.FixedZone("", 3600), time.FixedZone("", -5*3600-1800)}
	for i := range 500 {
		r := Result{Rule: str(), Provider: str(), Path: str(), Line: rng.IntN(1000), Column: rng.IntN(100) - 1,
			EndColumn: rng.IntN(200), Encoding: str(), Redacted: str(), Fingerprint: str(), CommitCount: rng.IntN(3) * 25}
		for range rng.IntN(4) {
			c := CommitRef{SHA: str(), Path: str(), Author: str()}
			if rng.IntN(3) > 0 {
				c.AuthorDate = time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)*int64(rng.IntN(2))).In(zones[rng.IntN(len(zones))])
			}
			r.Commits = append(r.Commits, c)
		}
		if rng.IntN(4) == 0 {
			r.Matches = []Match{{KeyID: str(), Kind: MatchCurrent, Owner: str()}}
		}
		if rng.IntN(4) == 0 {
			r.Verification = &Verification{Result: Live, HTTPStatus: 200, Detail: str()}
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
		got, err := r.appendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if w := bytes.TrimSuffix(want.Bytes(), []byte{'\n'}); !bytes.Equal(got, w) {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, w)
		}
	}
}
