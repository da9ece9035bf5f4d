package scancorpus

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/keywatch/keywatch/scan"
)

// fileWriter writes one file's lines, counting lines and bytes, and keeps
// every planted key or lookalike apart from the next by at least one
// neutral line: a provider word on an adjacent line is context by design
// (see scan.ContextWindow), so a lookalike next to a planted key's
// variable would be a key.
type fileWriter struct {
	w           *bufio.Writer
	k           *kind
	rng         *rand.Rand
	rel         string
	line        int // lines written so far
	bytes       int64
	lastSpecial bool
	m           *Manifest
	commit      string
}

func (fw *fileWriter) writeLine(s string) {
	fw.w.WriteString(s)
	fw.w.WriteByte('\n')
	fw.line += strings.Count(s, "\n") + 1
	fw.bytes += int64(len(s)) + 1
}

func (fw *fileWriter) filler() {
	fw.writeLine(Expand(fw.k.filler[fw.rng.IntN(len(fw.k.filler))], fw.rng))
	fw.lastSpecial = false
}

// special writes s and records it in the manifest.
func (fw *fileWriter) special(s special) {
	if fw.lastSpecial || fw.line == 0 {
		fw.neutral()
	}
	at := fw.line + 1 + s.line
	if s.key != nil {
		p := *s.key
		p.Path, p.Line, p.Commit = fw.rel, at, fw.commit
		fw.m.Keys = append(fw.m.Keys, p)
	}
	if s.alike != nil {
		a := *s.alike
		a.Path, a.Line, a.Commit = fw.rel, at, fw.commit
		fw.m.Lookalikes = append(fw.m.Lookalikes, a)
	}
	fw.writeLine(s.text)
	fw.lastSpecial = true
}

// neutral writes a line with no word any rule looks at.
func (fw *fileWriter) neutral() {
	fw.writeLine("")
	fw.lastSpecial = false
}

// writeFile writes target bytes of filler of kind k to w with specials
// spread through it, and records them in m under rel.
func writeFile(w io.Writer, k *kind, rel string, target int64, specials []special, rng *rand.Rand, m *Manifest, commit string) (lines int, n int64, err error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	fw := &fileWriter{w: bw, k: k, rng: rng, rel: rel, m: m, commit: commit}
	// About 40 bytes a filler line: spread the specials evenly, at random.
	gap := int(target/40) / (len(specials) + 1)
	for _, s := range specials {
		for range rng.IntN(2*gap + 1) {
			fw.filler()
		}
		fw.special(s)
	}
	for fw.bytes < target || fw.lastSpecial {
		fw.filler()
	}
	return fw.line, fw.bytes, bw.Flush()
}

// plan is what WriteDir puts in one file.
type plan struct {
	rel      string
	k        *kind
	target   int64
	specials []special
}

// KeysPerRule is how many keys of each rule WriteDir plants for a corpus
// of sizeMB megabytes: two per megabyte, and at least 6.
func KeysPerRule(sizeMB int) int { return max(6, 2*sizeMB) }

// WriteDir writes a tree of source-like files (Go, Python, JavaScript,
// YAML, .env, JSON, CI logs, Markdown) totalling about sizeMB MiB under
// dir, which must not exist or be empty, and returns its Manifest.
//
// KeysPerRule(sizeMB) keys of every rule of the scan package are planted,
// in assignments, configuration, URLs and logs, some of them (in CI logs
// and JSON) base64-, percent- or JSON-escaped. Lookalikes are planted next
// to them: each rule's keys one character short and one too long, each
// rule's own false-positive samples, model names, UUIDs, digests,
// placeholders and provider words next to random non-keys. The same seed
// gives the same tree.
func WriteDir(dir string, sizeMB int, seed uint64) (Manifest, error) {
	rng := rand.New(rand.NewPCG(seed, 0x5ca4))
	var m Manifest
	total := int64(sizeMB) << 20
	nfiles := max(8, int(total/(200<<10)))
	plans := make([]plan, nfiles)
	for i := range plans {
		k := &kinds[rng.IntN(len(kinds))]
		name := fmt.Sprintf("svc%02d/%s/file%04d%s", i%37, []string{"src", "config", "ci", "docs", "lib"}[rng.IntN(5)], i, k.ext)
		if k.ext == ".env" {
			name = fmt.Sprintf("svc%02d/deploy%04d/.env", i%37, i)
		}
		plans[i] = plan{rel: name, k: k, target: total / int64(nfiles)}
	}
	perRule := KeysPerRule(sizeMB)
	for _, r := range scan.Rules() {
		for n := range perRule {
			p := &plans[rng.IntN(nfiles)]
			p.specials = append(p.specials, plantKey(p.k, r, Key(r, rng), rng))
			if n%2 == 0 {
				for _, s := range lookalikesFor(r, rng) {
					q := &plans[rng.IntN(nfiles)]
					q.specials = append(q.specials, s)
				}
			}
			q := &plans[rng.IntN(nfiles)]
			q.specials = append(q.specials, genericLookalike(rng))
		}
	}
	for i := range plans {
		p := &plans[i]
		rng.Shuffle(len(p.specials), func(a, b int) { p.specials[a], p.specials[b] = p.specials[b], p.specials[a] })
		full := filepath.Join(dir, filepath.FromSlash(p.rel))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return m, err
		}
		f, err := os.Create(full)
		if err != nil {
			return m, err
		}
		_, n, err := writeFile(f, p.k, path.Clean(p.rel), p.target, p.specials, rng, &m, "")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return m, err
		}
		m.Files++
		m.Bytes += n
	}
	return m, nil
}
