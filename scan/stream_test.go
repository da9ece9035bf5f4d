package scan

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/keywatch/keywatch/secret"
)

func genKey(id string, seed uint64) string {
	return expand(RuleByID(id).Example, rand.New(rand.NewPCG(seed, 9)))
}

// TestChunkBoundaries scans the same corpus in one chunk and in many small
// ones, through a reader that returns short reads, and wants identical
// findings, offsets, lines and columns.
func TestChunkBoundaries(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	text, want := corpus(rng, 2000, 5)
	one, _ := New(Options{})
	var ref []Finding
	one.ScanBytes("c", []byte(text), func(f Finding) { ref = append(ref, f) })
	if len(ref) != len(want) {
		t.Fatalf("one chunk: %d findings, want %d", len(ref), len(want))
	}
	for _, chunk := range []int{1, 7, 100, 4096, 65536} {
		s, _ := New(Options{ChunkSize: chunk})
		var got []Finding
		err := s.ScanReader("c", iotest.HalfReader(strings.NewReader(text)), func(f Finding) { got = append(got, f) })
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(ref, got, cmp.AllowUnexported(Finding{})); d != "" {
			t.Errorf("chunk %d: findings differ (-one +chunked):\n%s", chunk, d)
		}
	}
	// Every finding's offset, line and column point at its secret.
	lines := strings.Split(text, "\n")
	for _, f := range ref {
		if got := text[f.Offset:f.End]; got != string(f.secret) {
			t.Errorf("%v: text at offset is %q", f, redact([]byte(got)))
		}
		if l := lines[f.Line-1]; !strings.HasPrefix(l[f.Column-1:], string(f.secret)) {
			t.Errorf("%v: line/column do not point at the secret", f)
		}
	}
}

// TestKeyAtEveryBoundary slides a key across a chunk boundary.
func TestKeyAtEveryBoundary(t *testing.T) {
	key := genKey("anthropic-api-key", 1)
	s, _ := New(Options{ChunkSize: 64})
	probe, _ := New(Options{})
	for pad := 0; pad < 3*probe.overlap/2; pad += 37 {
		text := strings.Repeat("x\n", pad/2) + strings.Repeat(" ", pad%2) + key + "\n"
		var got []Finding
		s.ScanBytes("b", []byte(text), func(f Finding) { got = append(got, f) })
		if len(got) != 1 || got[0].Offset != int64(strings.Index(text, key)) || got[0].Line != pad/2+1 {
			t.Fatalf("pad %d: got %v", pad, got)
		}
	}
}

func TestAllowMarker(t *testing.T) {
	s, _ := New(Options{})
	key := genKey("groq-api-key", 3)
	text := "a = \"" + key + "\" // keywatch:allow\nb = \"" + key + "\"\n"
	got := scanAll(t, s, text)
	if len(got) != 1 || got[0].Line != 2 {
		t.Errorf("got %v, want one finding on line 2", got)
	}
}

func TestBinary(t *testing.T) {
	key := genKey("openai-project-key", 4)
	bin := append([]byte("\x7fELF\x00\x01\x02"), []byte("\x00\x00"+key+"\x00\xff")...)
	scan, _ := New(Options{})
	if got := scanAll(t, scan, string(bin)); len(got) != 1 {
		t.Errorf("binary scanned: got %v, want 1", got)
	}
	skip, _ := New(Options{SkipBinary: true})
	if got := scanAll(t, skip, string(bin)); len(got) != 0 {
		t.Errorf("binary skipped: got %v, want none", got)
	}
}

func TestFindingRedaction(t *testing.T) {
	s, _ := New(Options{})
	key := genKey("openai-project-key", 5)
	got := scanAll(t, s, "k="+key)
	if len(got) != 1 {
		t.Fatalf("got %v", got)
	}
	f := got[0]
	for _, out := range []string{f.String(), fmt.Sprintf("%v %+v %#v", f, f, f)} {
		if strings.Contains(out, key[8:len(key)-4]) {
			t.Errorf("output shows the secret: %s", out)
		}
	}
	if b, _ := json.Marshal(f); bytes.Contains(b, []byte(key[8:len(key)-4])) {
		t.Errorf("JSON shows the secret: %s", b)
	}
	if f.Redacted != key[:8]+"…"+key[len(key)-4:] {
		t.Errorf("Redacted = %q", f.Redacted)
	}
	pepper := bytes.Repeat([]byte{7}, 32)
	if f.Fingerprint(pepper) != secret.Fingerprint(pepper, []byte(key)) || f.Last4() != key[len(key)-4:] {
		t.Errorf("fingerprint or last 4 differ from package secret")
	}
}

func TestDecoded(t *testing.T) {
	s, _ := New(Options{})
	ant := genKey("anthropic-api-key", 6)
	proj := genKey("openai-project-key", 7)
	urlEsc := strings.ReplaceAll(proj, "-", "%2D")
	jsonEsc := strings.ReplaceAll(ant, "-", `\u002d`)
	tests := []struct {
		name, text, enc, secret string
	}{
		{"base64 std", "secret: " + base64.StdEncoding.EncodeToString([]byte("ANTHROPIC_API_KEY="+ant)), "base64", ant},
		{"base64 offset 1", "x: " + base64.StdEncoding.EncodeToString([]byte("\n"+ant)), "base64", ant},
		{"base64 offset 2", "x: " + base64.StdEncoding.EncodeToString([]byte("k="+ant)), "base64", ant},
		{"base64 url", "x: " + base64.RawURLEncoding.EncodeToString([]byte(`{"k":"`+proj+`"}`)), "base64", proj},
		{"url", "GET /cb?token=" + urlEsc + "&x=1", "url", proj},
		{"url query escape", "GET /cb?token=" + url.QueryEscape("\""+ant+"\""), "url", ant},
		{"json unicode", `{"log":"key=` + jsonEsc + `"}`, "json", ant},
		{"base64 of url", "x " + base64.StdEncoding.EncodeToString([]byte("t="+urlEsc)), "base64/url", proj},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanAll(t, s, tt.text)
			if len(got) != 1 || got[0].Encoding != tt.enc || string(got[0].secret) != tt.secret {
				t.Fatalf("got %v, want one %s finding", got, tt.enc)
			}
			if got[0].Offset < 0 || got[0].End > int64(len(tt.text)) || got[0].Offset >= got[0].End {
				t.Errorf("offsets %d..%d out of %d", got[0].Offset, got[0].End, len(tt.text))
			}
		})
	}
	// A plain key inside a region that is also decoded is reported once, plain.
	got := scanAll(t, s, `{"a":"\u002d","k":"`+ant+`"}`)
	if len(got) != 1 || got[0].Encoding != "" {
		t.Errorf("plain inside escaped region: got %v", got)
	}
	// With decoding off, encoded keys are not found.
	off, _ := New(Options{MaxDepth: -1})
	if got := scanAll(t, off, tests[0].text); len(got) != 0 {
		t.Errorf("MaxDepth -1: got %v", got)
	}
}

func TestUnknownRule(t *testing.T) {
	if _, err := New(Options{Rules: []string{"nope"}}); err == nil {
		t.Error("New with an unknown rule: no error")
	}
	s, err := New(Options{Rules: []string{"groq-api-key"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := scanAll(t, s, genKey("openai-project-key", 1)+" "+genKey("groq-api-key", 1)); len(got) != 1 {
		t.Errorf("restricted scanner: got %v", got)
	}
}

// TestConcurrent shares one Scanner between goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	s, _ := New(Options{})
	text := "k=" + genKey("xai-api-key", 1) + "\n" + base64.StdEncoding.EncodeToString([]byte("k="+genKey("anthropic-api-key", 2)))
	done := make(chan int)
	for range 8 {
		go func() {
			n := 0
			s.ScanBytes("c", []byte(text), func(Finding) { n++ })
			done <- n
		}()
	}
	for range 8 {
		if n := <-done; n != 2 {
			t.Errorf("got %d findings, want 2", n)
		}
	}
}

// TestBase64FourByteKeywords: keys whose only keyword is four bytes long
// ("xai-", "AIza") are found in base64 at each of the three byte
// alignments, in both alphabets.
func TestBase64FourByteKeywords(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"xai-api-key", "google-api-key"} {
		key := genKey(id, 5)
		for align := range 3 {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
				payload := strings.Repeat("k", align) + "=" + key + "\n"
				text := "secret: " + enc.EncodeToString([]byte(payload)) + "\n"
				var got []Finding
				s.ScanBytes("x", []byte(text), func(f Finding) { got = append(got, f) })
				if len(got) != 1 || string(got[0].secret) != key || got[0].Encoding != "base64" {
					t.Errorf("%s, alignment %d, %v: %v", id, align, enc == base64.StdEncoding, got)
				}
			}
		}
	}
}

// TestEscapedKeyContextAbove: a key whose rule needs a provider word is
// found JSON- or URL-escaped when the word sits next to the escaped key,
// outside its decoded bytes, and not found without the word.
func TestEscapedKeyContextAbove(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		rule, word string
	}{{"deepseek-api-key", "deepseek"}, {"braintrust-api-key", "braintrust"}} {
		key := genKey(c.rule, 9)
		esc := strings.Replace(key, "-", `\u002d`, 1)
		for _, tc := range []struct {
			text string
			want int
		}{
			{`{"` + c.word + `_api_key": "` + esc + `"}`, 1},
			{`{"log": "using ` + c.word + ` with key ` + esc + `"}`, 1},
			{`{"other_api_key": "` + esc + `"}`, 0},
		} {
			var got []Finding
			s.ScanBytes("x", []byte(tc.text+"\n"), func(f Finding) { got = append(got, f) })
			if len(got) != tc.want || tc.want == 1 && (got[0].Rule != c.rule || string(got[0].secret) != key || got[0].Encoding != "json") {
				t.Errorf("%s in %s: %v, want %d", c.rule, tc.text, got, tc.want)
			}
		}
	}
}
