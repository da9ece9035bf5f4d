package scancorpus

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/keywatch/keywatch/scan"
)

// gitFile is one file of the generated repository's current tree.
type gitFile struct {
	k     *kind
	lines []string
}

// gitGen builds the fast-import stream of WriteGitRepo.
type gitGen struct {
	rng   *rand.Rand
	files map[string]*gitFile
	paths []string // sorted keys of files
	m     Manifest
	rules []*scan.Rule
	nrule int
	live  []int             // indexes in m.Keys of keys still in the tree
	moved map[string]string // renamed path → its new path
}

func (g *gitGen) filler(f *gitFile) string {
	return Expand(f.k.filler[g.rng.IntN(len(f.k.filler))], g.rng)
}

func (g *gitGen) newFile(path string, k *kind, n int) {
	f := &gitFile{k: k}
	for range n {
		f.lines = append(f.lines, g.filler(f))
	}
	g.files[path] = f
	g.paths = append(g.paths, path)
	slices.Sort(g.paths)
}

func (g *gitGen) pick() string { return g.paths[g.rng.IntN(len(g.paths))] }

// insert puts s into the file at path between blank lines, at a random
// place, and records it in the manifest under commit (a fast-import mark,
// replaced by the commit id at the end).
func (g *gitGen) insert(path string, s special, commit string) {
	f := g.files[path]
	at := g.rng.IntN(len(f.lines) + 1)
	add := append([]string{""}, strings.Split(s.text, "\n")...)
	add = append(add, "")
	f.lines = slices.Insert(f.lines, at, add...)
	line := at + 2 + s.line
	if s.key != nil {
		p := *s.key
		p.Path, p.Line, p.Commit = path, line, commit
		g.m.Keys = append(g.m.Keys, p)
		g.live = append(g.live, len(g.m.Keys)-1)
	}
	if s.alike != nil {
		a := *s.alike
		a.Path, a.Line, a.Commit = path, line, commit
		g.m.Lookalikes = append(g.m.Lookalikes, a)
	}
}

// removeKey deletes the lines holding a live key from the tree (the key
// stays in history).
func (g *gitGen) removeKey() (string, bool) {
	if len(g.live) == 0 {
		return "", false
	}
	i := g.rng.IntN(len(g.live))
	k := g.m.Keys[g.live[i]]
	g.live = slices.Delete(g.live, i, i+1)
	p := k.Path
	for g.moved[p] != "" {
		p = g.moved[p]
	}
	f, ok := g.files[p]
	if !ok {
		return "", false
	}
	n := len(f.lines)
	f.lines = slices.DeleteFunc(f.lines, func(l string) bool { return strings.Contains(l, k.Secret) })
	return p, n != len(f.lines)
}

// WriteGitRepo creates a git repository at dir (which must not exist or be
// empty) with commits commits on refs/heads/main, built with one "git
// fast-import" run and packed with deltas, and returns
// its Manifest; Files and Bytes describe the
// final tree. Planted.Commit and Lookalike.Commit are commit ids, and
// Line is the line in the file as of that commit.
//
// Commits edit source-like files (as WriteDir's, smaller) and, now and
// then, add a key of the next rule in turn (so every rule is planted when
// commits is about 4 times the number of rules or more), add lookalikes,
// remove a key again (it stays in history), copy a key to another file,
// rename a file with keys in it, or add a file.
func WriteGitRepo(dir string, commits int, seed uint64) (Manifest, error) {
	g := &gitGen{rng: rand.New(rand.NewPCG(seed, 0x617)), files: map[string]*gitFile{}, rules: scan.Rules()}
	for i := range 40 {
		k := &kinds[g.rng.IntN(len(kinds))]
		g.newFile(fmt.Sprintf("pkg%02d/file%03d%s", i%9, i, k.ext), k, 20+g.rng.IntN(100))
	}
	var stream bytes.Buffer
	for c := 1; c <= commits; c++ {
		mark := ":" + strconv.Itoa(c)
		changed := map[string]bool{}
		var deleted []string
		msg := "edit files"
		// Ordinary edits: a few filler lines in one or two files.
		for range 1 + g.rng.IntN(2) {
			p := g.pick()
			f := g.files[p]
			for range 1 + g.rng.IntN(8) {
				f.lines = slices.Insert(f.lines, g.rng.IntN(len(f.lines)+1), g.filler(f))
			}
			changed[p] = true
		}
		switch x := g.rng.IntN(100); {
		case x < 30: // add a key
			r := g.rules[g.nrule%len(g.rules)]
			g.nrule++
			p := g.pick()
			g.insert(p, plantKey(g.files[p].k, r, Key(r, g.rng), g.rng), mark)
			changed[p] = true
			msg = "add " + r.Provider + " config"
		case x < 50: // lookalikes
			p := g.pick()
			if g.rng.IntN(2) == 0 {
				r := g.rules[g.rng.IntN(len(g.rules))]
				ls := lookalikesFor(r, g.rng)
				g.insert(p, ls[g.rng.IntN(len(ls))], mark)
			} else {
				g.insert(p, genericLookalike(g.rng), mark)
			}
			changed[p] = true
		case x < 60: // remove a key again
			if p, ok := g.removeKey(); ok {
				changed[p] = true
				msg = "remove leaked key"
			}
		case x < 64: // copy a live key to another file
			if len(g.live) > 0 {
				k := g.m.Keys[g.live[g.rng.IntN(len(g.live))]]
				p := g.pick()
				r := scan.RuleByID(k.Rule)
				g.insert(p, plantKey(g.files[p].k, r, k.Secret, g.rng), mark)
				changed[p] = true
				msg = "copy settings"
			}
		case x < 68: // rename a file, keys and all
			old := g.pick()
			f := g.files[old]
			nw := fmt.Sprintf("moved/c%05d/%s", c, filepath.Base(old))
			delete(g.files, old)
			g.paths = slices.DeleteFunc(g.paths, func(s string) bool { return s == old })
			g.files[nw] = f
			g.paths = append(g.paths, nw)
			slices.Sort(g.paths)
			g.renameLive(old, nw)
			delete(changed, old)
			deleted = append(deleted, old)
			changed[nw] = true
			msg = "move " + filepath.Base(old)
		case x < 70: // a new file
			k := &kinds[g.rng.IntN(len(kinds))]
			p := fmt.Sprintf("pkg%02d/new%05d%s", c%9, c, k.ext)
			g.newFile(p, k, 10+g.rng.IntN(50))
			changed[p] = true
		}
		ts := 1700000000 + int64(c)*3600
		who := []string{"Ada <ada@example.com>", "Linus <linus@example.com>", "Grace <grace@example.com>"}[c%3]
		fmt.Fprintf(&stream, "commit refs/heads/main\nmark %s\nauthor %s %d +0000\ncommitter %s %d +0000\ndata %d\n%s\n", mark, who, ts, who, ts, len(msg), msg)
		for _, p := range deleted {
			fmt.Fprintf(&stream, "D %s\n", p)
		}
		for _, p := range slices.Sorted(mapKeys(changed)) {
			content := strings.Join(g.files[p].lines, "\n") + "\n"
			fmt.Fprintf(&stream, "M 100644 inline %s\ndata %d\n%s\n", p, len(content), content)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Manifest{}, err
	}
	if out, err := exec.Command("git", "init", "-q", "-b", "main", dir).CombinedOutput(); err != nil {
		return Manifest{}, fmt.Errorf("git init: %v: %s", err, out)
	}
	marks := filepath.Join(dir, ".git", "scancorpus-marks")
	cmd := exec.Command("git", "-C", dir, "fast-import", "--quiet", "--export-marks="+marks)
	cmd.Stdin = &stream
	if out, err := cmd.CombinedOutput(); err != nil {
		return Manifest{}, fmt.Errorf("git fast-import: %v: %s", err, out)
	}
	// fast-import stores most versions whole; a repository that has been
	// cloned or garbage-collected, as the ones scanned usually are, keeps
	// them as deltas. Pack it the way "git gc --aggressive" does (deltas
	// computed afresh, git's default window and depth).
	if out, err := exec.Command("git", "-C", dir, "repack", "-adfq").CombinedOutput(); err != nil {
		return Manifest{}, fmt.Errorf("git repack: %v: %s", err, out)
	}
	shas, err := readMarks(marks)
	os.Remove(marks)
	if err != nil {
		return Manifest{}, err
	}
	for i := range g.m.Keys {
		g.m.Keys[i].Commit = shas[g.m.Keys[i].Commit]
	}
	for i := range g.m.Lookalikes {
		g.m.Lookalikes[i].Commit = shas[g.m.Lookalikes[i].Commit]
	}
	g.m.Commits = commits
	for _, f := range g.files {
		g.m.Files++
		g.m.Bytes += int64(len(strings.Join(f.lines, "\n")) + 1)
	}
	return g.m, nil
}

// renameLive follows live keys from path old to path nw, so that a later
// removal edits the right file. The manifest keeps the path and commit
// where each key was added.
func (g *gitGen) renameLive(old, nw string) {
	if g.moved == nil {
		g.moved = map[string]string{}
	}
	g.moved[old] = nw
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// readMarks reads a fast-import marks file into mark (":N") → commit id.
func readMarks(name string) (map[string]string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if mark, sha, ok := strings.Cut(sc.Text(), " "); ok {
			out[mark] = sha
		}
	}
	return out, sc.Err()
}
