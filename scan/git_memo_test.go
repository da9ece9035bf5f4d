package scan

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// SetGitMemoForTest turns memoised git scanning on or off and returns a
// function restoring the previous setting (for the scan_test package).
func SetGitMemoForTest(on bool) (restore func()) {
	old := gitMemo
	gitMemo = on
	return func() { gitMemo = old }
}

// FindingKeyForTest renders every field of f, the secret included, so that
// two findings compare equal exactly when they are the same.
func FindingKeyForTest(f Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%s|%d-%d|%d:%d|%s|%s|%s|%q|%d|", f.Blob, f.Source, f.Path, f.Rule, f.Offset, f.End,
		f.Line, f.Column, f.Provider, f.Encoding, f.Redacted, f.secret, f.CommitCount)
	for _, c := range f.Commits {
		fmt.Fprintf(&b, "[%s %s %s %s]", c.SHA, c.Path, c.Author, c.AuthorDate.UTC().Format(time.RFC3339Nano))
	}
	return b.String()
}

// memoLines returns the material of the generated blobs: filler lines,
// every rule's TP and FP lines (some span two lines), the TP lines in
// base64, percent-encoded and JSON-escaped forms, and allow-marked keys.
func memoLines(rng *rand.Rand) []string {
	var out []string
	for range 40 {
		out = append(out, expand(fillerLines[rng.IntN(len(fillerLines))], rng))
	}
	for _, r := range Rules() {
		for _, l := range r.TP {
			text, _ := sample(r, l, rng)
			out = append(out, text,
				"data: "+base64.StdEncoding.EncodeToString([]byte(text)),
				"u="+base64.RawURLEncoding.EncodeToString([]byte("\n"+text)),
				"GET /cb?q="+url.QueryEscape(text)+"&x=1",
				`{"log":"`+strings.ReplaceAll(strings.ReplaceAll(text, "-", `\u002d`), "\n", `\n`)+`"}`,
				text+" # "+AllowMarker)
		}
		for _, l := range r.FP {
			text, _ := sample(r, l, rng)
			out = append(out, text)
		}
		if r.contextual {
			// The provider word a line away from the token, either side,
			// and two lines away (no context).
			tok := expand(r.Example, rng)
			w := r.Keywords[0]
			out = append(out, w+":\n  key: "+tok, "  key: "+tok+"\n"+w, w+"\n\n"+tok)
		}
	}
	return out
}

// memoBlob assembles n random pieces of material into a blob.
func memoBlob(rng *rand.Rand, lines []string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = lines[rng.IntN(len(lines))]
	}
	return out
}

func render(pieces []string, crlf, noFinalNewline bool) []byte {
	s := strings.Join(pieces, "\n") + "\n"
	if crlf {
		s = strings.ReplaceAll(s, "\n", "\r\n")
	}
	if noFinalNewline {
		s = strings.TrimRight(s, "\r\n")
	}
	return []byte(s)
}

// TestMemoMatchesScanBytes scans successive versions of generated blobs
// through one memo cache and wants exactly what ScanBytes finds in each.
func TestMemoMatchesScanBytes(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	lines := memoLines(rng)
	m := s.newBlobMemo(newMemoCache())
	versions, withFindings := 0, 0
	for file := range 12 {
		pieces := memoBlob(rng, lines, 20+rng.IntN(400))
		crlf := file%4 == 1
		for v := range 25 {
			// Edit a few pieces: insert, delete or replace.
			for range 1 + rng.IntN(4) {
				i := rng.IntN(len(pieces) + 1)
				switch rng.IntN(3) {
				case 0:
					pieces = slices.Insert(pieces, i, lines[rng.IntN(len(lines))])
				case 1:
					if i < len(pieces) {
						pieces = slices.Delete(pieces, i, i+1)
					}
				case 2:
					if i < len(pieces) {
						pieces[i] = lines[rng.IntN(len(lines))]
					}
				}
			}
			b := render(pieces, crlf, v%3 == 2)
			var want, got []string
			s.ScanBytes("blob", b, func(f Finding) { want = append(want, FindingKeyForTest(f)) })
			m.scan("blob", b, func(f Finding) { got = append(got, FindingKeyForTest(f)) })
			if !slices.Equal(got, want) {
				t.Fatalf("file %d version %d (%d bytes): memoised scan differs\n got %d: %q\nwant %d: %q", file, v, len(b), len(got), got, len(want), want)
			}
			versions++
			if len(want) > 0 {
				withFindings++
			}
		}
	}
	if m.hits < 2*m.misses {
		t.Errorf("memo: %d chunk hits, %d misses", m.hits, m.misses)
	}
	t.Logf("%d versions, %d with findings; %d chunk hits, %d misses", versions, withFindings, m.hits, m.misses)
	if withFindings < versions/2 {
		t.Errorf("only %d of %d versions have findings", withFindings, versions)
	}
}

// TestMemoEdges puts keys at every position around chunk edges: with a
// blob of many short lines, one key line moved through every position.
func TestMemoEdges(t *testing.T) {
	s, _ := New(Options{})
	m := s.newBlobMemo(newMemoCache())
	rng := rand.New(rand.NewPCG(3, 4))
	filler := make([]string, 300)
	for i := range filler {
		filler[i] = fmt.Sprintf("line %d %s", i, expand(fillerLines[rng.IntN(len(fillerLines))], rng))
	}
	mis := expand(RuleByID("mistral-api-key").Example, rng)
	specials := []string{
		keyLineText(1),
		"mistral:\n  api_key: " + mis,
		"  api_key: " + mis + "\nmistral",
		"x: " + base64.StdEncoding.EncodeToString([]byte("k="+genKey("anthropic-api-key", 5))),
	}
	for si, sp := range specials {
		for pos := 0; pos <= len(filler); pos += 1 + pos%3 {
			pieces := slices.Insert(slices.Clone(filler), pos, sp)
			for _, crlf := range []bool{false, true} {
				b := render(pieces, crlf, pos%2 == 0)
				var want, got []string
				s.ScanBytes("blob", b, func(f Finding) { want = append(want, FindingKeyForTest(f)) })
				m.scan("blob", b, func(f Finding) { got = append(got, FindingKeyForTest(f)) })
				if !slices.Equal(got, want) {
					t.Fatalf("special %d at %d (crlf %v): got %q, want %q", si, pos, crlf, got, want)
				}
				if len(want) == 0 {
					t.Fatalf("special %d at %d: nothing found", si, pos)
				}
			}
		}
	}
	// Binary blobs and long lines are scanned whole.
	bin := append([]byte("\x00\x01"+keyLineText(2)+"\n"), render(filler, false, false)...)
	var want, got []string
	s.ScanBytes("blob", bin, func(f Finding) { want = append(want, FindingKeyForTest(f)) })
	m.scan("blob", bin, func(f Finding) { got = append(got, FindingKeyForTest(f)) })
	if !slices.Equal(got, want) || len(want) == 0 {
		t.Fatalf("binary: got %q, want %q", got, want)
	}
	long := []byte(strings.Repeat("a=b ", 10000) + keyLineText(3) + " " + strings.Repeat("c ", 10000))
	want, got = nil, nil
	s.ScanBytes("blob", long, func(f Finding) { want = append(want, FindingKeyForTest(f)) })
	m.scan("blob", long, func(f Finding) { got = append(got, FindingKeyForTest(f)) })
	if !slices.Equal(got, want) || len(want) != 1 {
		t.Fatalf("long line: got %q, want %q", got, want)
	}
}

func keyLineText(seed uint64) string {
	l, _ := keyLine(seed)
	return strings.TrimSuffix(l, "\n")
}

// scanGitKeys scans the repository at dir with memoisation on or off and
// returns every finding rendered by FindingKeyForTest, sorted.
func scanGitKeys(t *testing.T, dir string, memo bool) []string {
	t.Helper()
	defer SetGitMemoForTest(memo)()
	got, _ := scanGit(t, dir, SourceOptions{})
	out := make([]string, len(got))
	for i, f := range got {
		out[i] = FindingKeyForTest(f)
	}
	slices.Sort(out)
	return out
}

// TestScanGitMemo compares memoised ScanGit with scanning every blob whole
// on a history of edits around keys in several encodings and line endings.
func TestScanGitMemo(t *testing.T) {
	r := newTestRepo(t)
	rng := rand.New(rand.NewPCG(5, 6))
	lines := memoLines(rng)
	files := map[string][]string{}
	for i := range 6 {
		files[fmt.Sprintf("dir/f%d.txt", i)] = memoBlob(rng, lines, 30+rng.IntN(150))
	}
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for c := range 30 {
		for name, pieces := range files {
			if rng.IntN(2) == 0 {
				continue
			}
			for range 1 + rng.IntN(3) {
				i := rng.IntN(len(pieces) + 1)
				pieces = slices.Insert(pieces, i, lines[rng.IntN(len(lines))])
			}
			if rng.IntN(4) == 0 {
				pieces = slices.Delete(pieces, 0, 1)
			}
			files[name] = pieces
			r.write(name, string(render(pieces, strings.HasSuffix(name, "1.txt"), strings.HasSuffix(name, "2.txt") && c%2 == 0)))
		}
		if c == 10 {
			r.write("bin.dat", "\x00\x00"+keyLineText(9)+"\n"+strings.Repeat("x\n", 400))
		}
		r.commit(fmt.Sprintf("c%d", c), date.Add(time.Duration(c)*time.Hour).Format(time.RFC3339))
	}
	want := scanGitKeys(t, r.dir, false)
	got := scanGitKeys(t, r.dir, true)
	if len(want) < 20 {
		t.Fatalf("only %d findings", len(want))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("memoised ScanGit differs: %d findings, want %d\n%s", len(got), len(want), firstDiff(got, want))
	}
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
	return "one is a prefix of the other"
}

// TestMemoNoNewlineSpan checks what memoisation relies on (see memo.go):
// no keyword, literal or byte set of a rule or decoder holds a newline, so
// no secret, token or decoded region spans lines.
func TestMemoNoNewlineSpan(t *testing.T) {
	sets := map[string]*[256]bool{"wordSet": wordSet, "b64Run": b64Run, "urlRegion": urlRegion, "jsonRegion": jsonRegion}
	for _, r := range allRules {
		for _, k := range r.Keywords {
			if strings.ContainsAny(k, "\n") {
				t.Errorf("%s: keyword %q holds a newline", r.ID, k)
			}
		}
		for i, sg := range r.segs {
			if strings.Contains(sg.lit, "\n") {
				t.Errorf("%s: literal %q holds a newline", r.ID, sg.lit)
			}
			if sg.set != nil {
				sets[fmt.Sprintf("%s seg %d", r.ID, i)] = sg.set
			}
		}
		if r.token != nil {
			sets[r.ID+" token"] = r.token.set
		}
	}
	for name, set := range sets {
		if set['\n'] {
			t.Errorf("%s holds a newline", name)
		}
	}
	s, _ := New(Options{})
	// The prefilter forgets everything at a newline: every state goes
	// back to the root on '\n'.
	a := s.ac
	for st := 0; st < len(a.delta); st += a.nclass {
		if next := a.delta[st+int(a.class['\n'])] &^ acMatch; next != 0 {
			t.Fatalf("prefilter state %d goes to %d on a newline", st/a.nclass, next)
		}
	}
}
