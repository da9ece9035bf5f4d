// Package scan finds leaked AI-provider API keys in files, CI logs and
// artifacts.
//
// Detection follows gitleaks' shape: every Rule names literal keywords,
// one Aho-Corasick pass over the input finds them all (ignoring ASCII
// case), and only then does a rule check the candidate by hand: exact
// prefix, length and alphabet, word boundaries, entropy and placeholder
// filters. Prefix-less keys (Mistral, Cohere, Azure OpenAI) and generic
// ones (DeepSeek's sk-<32 hex>) need a provider word or host within
// ContextWindow bytes. There is one file per provider, and each rule carries
// its own true- and false-positive samples, checked by go test.
//
// Keys inside base64 blobs, percent-encoded strings and JSON or \x string
// escapes are found by decoding the region around a prefilter hit and
// scanning it again (see decode.go).
//
// A Finding carries the secret only in memory, for fingerprinting and
// verification; its String and GoString methods print a redacted preview,
// and it has no exported field holding the secret.
package scan

import (
	"bytes"
	"fmt"
	"io"
	"slices"

	"github.com/keywatch/keywatch/secret"
)

// Finding is one leaked key.
type Finding struct {
	// Source is the name given to ScanReader (a path, "stdin", a URL).
	Source string
	// Provider is the provider as the inventory names it ("openai").
	Provider string
	// Rule is the rule id, which is also the kind of key
	// ("openai-project-key").
	Rule string
	// Offset is the byte offset of the secret's first byte in the input, or
	// of the encoded form of that byte when Encoding is not empty; End is
	// the offset just past it.
	Offset, End int64
	// Line is the 1-based line of Offset. Column is the 1-based column of
	// Offset on that line, counted in bytes (not runes or UTF-16 units).
	Line, Column int
	// Encoding is the chain of encodings the key was found under, outermost
	// first ("base64", "url/json"); empty for plain text.
	Encoding string
	// Redacted is the first 8 and last 4 characters of the secret with "…"
	// between: enough to recognise a key, not enough to use it.
	Redacted string

	// Path is the file's path relative to the scanned root, with forward
	// slashes, or, inside an archive, "outer.zip!inner/path" (one "!" per
	// level of nesting). For git history it is the path in the tree where
	// the blob first appears. It is empty for ScanReader and ScanBytes.
	Path string
	// Commits lists where a git blob appears: each commit that added the
	// blob at a path (or changed a path to it), oldest author date first,
	// at most MaxCommits of them. CommitCount is how many there are in all.
	// The findings of one blob share the slice: read it, do not modify it.
	// Both are empty for findings outside git history and for blobs that no
	// commit reaches (dangling objects, stashes dropped, rewritten history).
	Commits     []Commit
	CommitCount int
	// Blob is the git blob id (hex) when the finding comes from ScanGit or
	// ScanStaged.
	Blob string

	secret []byte
}

// Secret returns a copy of the secret, for verification against the
// provider. Never log or store it.
func (f *Finding) Secret() []byte { return slices.Clone(f.secret) }

// Fingerprint returns the secret's fingerprint under pepper, the same
// HMAC-SHA256 the store keeps for inventory keys.
func (f *Finding) Fingerprint(pepper []byte) string {
	return secret.Fingerprint(pepper, f.secret)
}

// Fingerprints computes fingerprints under one pepper and remembers them
// by secret: a key that lives on through thousands of versions of a file
// is hashed once. Not safe for concurrent use.
type Fingerprints struct {
	pepper []byte
	m      map[string]string
}

// NewFingerprints returns an empty cache for pepper.
func NewFingerprints(pepper []byte) *Fingerprints {
	return &Fingerprints{pepper: pepper, m: map[string]string{}}
}

// Of returns f's fingerprint, f.Fingerprint(pepper).
func (c *Fingerprints) Of(f *Finding) string {
	if fp, ok := c.m[string(f.secret)]; ok {
		return fp
	}
	fp := f.Fingerprint(c.pepper)
	c.m[string(f.secret)] = fp
	return fp
}

// Last4 returns the secret's last 4 characters, as the store keeps them.
func (f *Finding) Last4() string { return secret.Last4(f.secret) }

// String describes the finding without the secret.
func (f Finding) String() string {
	enc := ""
	if f.Encoding != "" {
		enc = " (" + f.Encoding + ")"
	}
	return fmt.Sprintf("%s:%d:%d: %s %s%s", f.Source, f.Line, f.Column, f.Rule, f.Redacted, enc)
}

// GoString is String, so that %#v does not print the secret either.
func (f Finding) GoString() string { return "scan.Finding{" + f.String() + "}" }

// redact returns the first 8 and the last 4 characters of s with "…"
// between, or only "…" and the last 4 when s is shorter than 16 bytes.
func redact(s []byte) string {
	if len(s) < 16 {
		if len(s) < 8 {
			return "…"
		}
		return "…" + string(s[len(s)-4:])
	}
	return string(s[:8]) + "…" + string(s[len(s)-4:])
}

// Options configure a Scanner. The zero value scans with every rule.
type Options struct {
	// Rules restricts scanning to these rule ids; empty means all rules.
	Rules []string
	// MaxDepth is how many encodings deep keys are looked for; 0 means 2
	// (a JSON-escaped string inside a base64 blob, say), negative turns
	// decoding off.
	MaxDepth int
	// ChunkSize is how many bytes ScanReader reads at a time; 0 means 1 MiB,
	// and sizes under the overlap carried between chunks (about 10 KiB) are
	// raised to it. Memory use is about ChunkSize plus twice the overlap,
	// whatever the input size.
	ChunkSize int
	// SkipBinary makes ScanReader skip inputs with a NUL byte in their first
	// 8 KiB. By default they are scanned like text: every key format is
	// ASCII and bounded by bytes outside its alphabet, so keys in the
	// printable runs of a binary are found as they are in text.
	SkipBinary bool
}

// Scanner finds keys. It is immutable once made and safe for concurrent
// use; each ScanReader call keeps its own state.
type Scanner struct {
	rules     []*Rule
	ac        *automaton
	actions   [][]action // by pattern
	maxDepth  int
	maxSecret int
	overlap   int
	chunk     int
	opts      Options
}

// AllowMarker on a line suppresses findings on that line.
const AllowMarker = "keywatch:allow"

// New returns a Scanner with opts.
func New(opts Options) (*Scanner, error) {
	s := &Scanner{opts: opts, maxDepth: opts.MaxDepth, chunk: opts.ChunkSize}
	if s.maxDepth == 0 {
		s.maxDepth = 2
	}
	if s.maxDepth < 0 {
		s.maxDepth = 0
	}
	if s.chunk <= 0 {
		s.chunk = 1 << 20
	}
	if len(opts.Rules) == 0 {
		s.rules = slices.Clone(allRules)
	} else {
		for _, id := range opts.Rules {
			r := RuleByID(id)
			if r == nil {
				return nil, fmt.Errorf("new scanner: unknown rule %q", id)
			}
			s.rules = append(s.rules, r)
		}
	}
	var pats []string
	index := map[string]int{}
	add := func(p string, a action) {
		key := string(bytes.ToLower([]byte(p)))
		i, ok := index[key]
		if !ok {
			i = len(pats)
			index[key] = i
			pats = append(pats, key)
			s.actions = append(s.actions, nil)
		}
		if !slices.Contains(s.actions[i], a) {
			s.actions[i] = append(s.actions[i], a)
		}
	}
	b64words := map[string]bool{"T3BlbkFJ": true}
	for ri, r := range s.rules {
		kind := actAnchor
		if r.contextual {
			kind = actContext
		}
		for _, k := range r.Keywords {
			add(k, action{kind: kind, rule: ri})
			if len(k) >= 4 {
				b64words[k] = true
				if r.contextual {
					b64words[string(bytes.ToUpper([]byte(k)))] = true
				}
			}
		}
		s.maxSecret = max(s.maxSecret, r.maxLen())
	}
	if s.maxDepth > 0 {
		for _, w := range sortedKeys(b64words) {
			for _, a := range base64Anchors(w) {
				add(a.text, action{kind: actBase64, quad: a.quad})
			}
		}
		for _, p := range []string{"%2d", "%5f", "%2b", "%2f", "%3d", "%22", "%27", "%3a", "%20"} {
			add(p, action{kind: actURL})
		}
		for _, p := range []string{`\u00`, `\/`, `\x2d`, `\x5f`} {
			add(p, action{kind: actJSON})
		}
	}
	s.ac = newAutomaton(pats)
	// The overlap carried between chunks holds the longest encoded key and
	// the context window on either side of it.
	s.overlap = 3*s.maxSecret + 2*ContextWindow + 1024
	s.chunk = max(s.chunk, s.overlap)
	return s, nil
}

func sortedKeys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// ScanBytes scans b as ScanReader would, in one chunk and without copying.
func (s *Scanner) ScanBytes(name string, b []byte, emit func(Finding)) {
	if s.opts.SkipBinary && isBinary(b) {
		return
	}
	st := s.newState()
	var lc lineCounter
	lc.line = 1
	st.emitChunk(name, b, 0, 0, int64(len(b)), &lc, emit)
}

// lineCounter tracks line numbers across chunks: line is the line number at
// offset at, which lies on the line starting at offset start.
type lineCounter struct {
	line      int
	at, start int64
}

// advance moves the counter to offset to; buf holds the input from offset
// base, up to to at least.
func (lc *lineCounter) advance(buf []byte, base, to int64) {
	seg := buf[lc.at-base : to-base]
	if c := bytes.Count(seg, []byte{'\n'}); c > 0 {
		lc.line += c
		lc.start = lc.at + int64(bytes.LastIndexByte(seg, '\n')) + 1
	}
	lc.at = to
}

// emitChunk scans buf, which holds the input from offset base, and emits
// the findings that start in [from, limit).
func (st *state) emitChunk(name string, buf []byte, base, from, limit int64, lc *lineCounter, emit func(Finding)) {
	st.hits = st.hits[:0]
	st.scanLevel(buf, st.levels[0])
	st.hits = dedupe(st.hits)
	for _, h := range st.hits {
		off := base + int64(h.start)
		if off < from || off >= limit {
			continue
		}
		lc.advance(buf, base, off)
		if allowed(buf, h.start) {
			continue
		}
		emit(Finding{
			Source:   name,
			Provider: h.rule.Provider,
			Rule:     h.rule.ID,
			Offset:   off,
			End:      base + int64(h.end),
			Line:     lc.line,
			Column:   int(off-lc.start) + 1,
			Encoding: h.enc,
			Redacted: redact(h.secret),
			secret:   h.secret,
		})
	}
	lc.advance(buf, base, limit)
}

// ScanReader scans r, named name in findings, and calls emit for every key
// found, in order of offset. It reads ChunkSize bytes at a time and carries
// an overlap between chunks, so a key across a chunk boundary is found once
// and memory stays bounded for inputs of any size. Findings on a line that
// holds AllowMarker are dropped (the line as far as the current chunk and
// its overlap show it). It returns the first read error.
func (s *Scanner) ScanReader(name string, r io.Reader, emit func(Finding)) error {
	st := s.newState()
	buf := make([]byte, 0, s.chunk+2*s.overlap)
	var (
		base     int64 // offset of buf[0] in the input
		reported int64 // findings before this offset have been emitted
		lc       = lineCounter{line: 1}
		first    = true
	)
	for {
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			return fmt.Errorf("scan %s: %w", name, err)
		}
		if first {
			first = false
			if s.opts.SkipBinary && isBinary(buf) {
				return nil
			}
		}
		limit := base + int64(len(buf))
		if !eof {
			limit -= int64(s.overlap)
		}
		st.emitChunk(name, buf, base, reported, limit, &lc, emit)
		reported = limit
		if eof {
			return nil
		}
		keep := int(limit-base) - s.overlap
		copy(buf, buf[keep:])
		buf = buf[:len(buf)-keep]
		base += int64(keep)
	}
}

// isBinary reports whether b has a NUL byte in its first 8 KiB.
func isBinary(b []byte) bool {
	return bytes.IndexByte(b[:min(len(b), 8<<10)], 0) >= 0
}

// allowed reports whether the line around buf[i] holds AllowMarker.
func allowed(buf []byte, i int) bool {
	lo := bytes.LastIndexByte(buf[:i], '\n') + 1
	hi := bytes.IndexByte(buf[i:], '\n')
	if hi < 0 {
		hi = len(buf)
	} else {
		hi += i
	}
	return bytes.Contains(buf[lo:hi], []byte(AllowMarker))
}
