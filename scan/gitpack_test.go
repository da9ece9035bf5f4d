package scan

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// SetGitPackWalkForTest turns reading packs directly on or off and returns
// a function restoring the previous setting (for the scan_test package).
func SetGitPackWalkForTest(on bool) (restore func()) {
	old := gitPackWalk
	gitPackWalk = on
	return func() { gitPackWalk = old }
}

// editHistory commits n rounds of edits around keys (every encoding, CRLF
// and missing final newlines, a binary file) to r's files.
type editHistory struct {
	r     *testRepo
	rng   *rand.Rand
	lines []string
	files map[string][]string
	c     int
}

func newEditHistory(r *testRepo, seed uint64) *editHistory {
	h := &editHistory{r: r, rng: rand.New(rand.NewPCG(seed, 6)), files: map[string][]string{}}
	h.lines = memoLines(h.rng)
	for i := range 6 {
		h.files[fmt.Sprintf("dir/f%d.txt", i)] = splitLines(memoBlob(h.rng, h.lines, 30+h.rng.IntN(150)))
	}
	return h
}

// splitLines turns pieces of material, some of several lines, into lines,
// so that edits fall between a provider word and the key it qualifies.
func splitLines(pieces []string) []string {
	var out []string
	for _, p := range pieces {
		out = append(out, strings.Split(p, "\n")...)
	}
	return out
}

func (h *editHistory) commits(n int) {
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	names := make([]string, 0, len(h.files))
	for name := range h.files {
		names = append(names, name)
	}
	slices.Sort(names)
	for range n {
		c := h.c
		h.c++
		for _, name := range names {
			lines := h.files[name]
			if h.rng.IntN(2) == 0 {
				continue
			}
			switch h.rng.IntN(8) {
			case 0: // a large move: the file's halves swap
				lines = append(slices.Clone(lines[len(lines)/2:]), lines[:len(lines)/2]...)
			case 1, 2: // lines go, one here, one there
				for range 1 + h.rng.IntN(3) {
					if len(lines) > 2 {
						i := h.rng.IntN(len(lines))
						lines = slices.Delete(lines, i, i+1)
					}
				}
			case 3: // a line changes in place
				i := h.rng.IntN(len(lines))
				lines = slices.Clone(lines)
				lines[i] = splitLines([]string{h.lines[h.rng.IntN(len(h.lines))]})[0]
			default: // material goes in between any two lines
				for range 1 + h.rng.IntN(3) {
					i := h.rng.IntN(len(lines) + 1)
					lines = slices.Insert(lines, i, splitLines([]string{h.lines[h.rng.IntN(len(h.lines))]})...)
				}
			}
			if h.rng.IntN(5) == 0 && len(lines) > 1 { // the last line goes
				lines = lines[:len(lines)-1]
			}
			h.files[name] = lines
			h.r.write(name, string(render(lines, strings.HasSuffix(name, "1.txt"), strings.HasSuffix(name, "2.txt") && c%2 == 0)))
		}
		if c%10 == 0 {
			h.r.write("bin.dat", fmt.Sprintf("\x00\x00%s\n%s%d\n", keyLineText(uint64(9+c)), strings.Repeat("x\n", 400), c))
		}
		h.r.commit(fmt.Sprintf("c%d", c), date.Add(time.Duration(c)*time.Hour).Format(time.RFC3339))
	}
}

// scanGitWith scans dir with the pack reader and memoisation on or off.
func scanGitWith(t *testing.T, dir string, packs, memo bool) []string {
	t.Helper()
	defer SetGitPackWalkForTest(packs)()
	return scanGitKeys(t, dir, memo)
}

// packLayout reads dir's object store as scanPacks sees it: packs,
// deltas among their blobs (OFS and REF) and loose objects.
func packLayout(t *testing.T, dir string) (packs, ofs, ref, loose int) {
	t.Helper()
	st, err := openObjectStore(filepath.Join(dir, ".git", "objects"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	for _, p := range st.packs {
		for _, o := range p.objs {
			if o.kind != objBlob {
				continue
			}
			switch o.raw {
			case objOfsDelta:
				ofs++
			case objRefDelta:
				ref++
			}
		}
	}
	return len(st.packs), ofs, ref, len(st.loose)
}

// TestScanGitPacks compares ScanGit reading packs (deltas scanned around
// their edits) with every blob read through git cat-file and scanned
// whole, over the layouts a repository goes through.
func TestScanGitPacks(t *testing.T) {
	r := newTestRepo(t)
	h := newEditHistory(r, 5)
	h.commits(40)
	want := scanGitWith(t, r.dir, false, false)
	if len(want) < 20 {
		t.Fatalf("only %d findings", len(want))
	}
	check := func(step string, wantPacks int, deltas bool) {
		t.Helper()
		p, ofs, ref, loose := packLayout(t, r.dir)
		t.Logf("%s: %d packs, %d OFS and %d REF blob deltas, %d loose objects", step, p, ofs, ref, loose)
		if p != wantPacks || deltas != (ofs+ref > 0) {
			t.Fatalf("%s: %d packs and %d deltas: not the layout to test", step, p, ofs+ref)
		}
		for _, memo := range []bool{false, true} {
			if got := scanGitWith(t, r.dir, true, memo); !slices.Equal(got, want) {
				t.Fatalf("%s (memo %v): %d findings, want %d\n%s", step, memo, len(got), len(want), firstDiff(got, want))
			}
		}
	}
	check("loose objects only", 0, false)
	r.git("repack", "-adfq", "--window=50", "--depth=50")
	check("one pack, OFS deltas", 1, true)
	r.git("-c", "repack.useDeltaBaseOffset=false", "repack", "-adfq", "--window=50", "--depth=250")
	check("one pack, REF deltas, deep chains", 1, true)

	h.commits(25)
	want = scanGitWith(t, r.dir, false, false)
	check("one pack and loose objects", 1, true)
	r.git("repack", "-dq") // a second pack, of the loose objects
	h.commits(5)
	want = scanGitWith(t, r.dir, false, false)
	check("two packs and loose objects", 2, true)

	// The same objects in two packs are reported once.
	r.git("repack", "-adq")
	r.git("repack", "-aFq", "--window=0") // a second copy of everything, undeltified
	check("every object in two packs", 2, true)
}

// TestScanGitPacksSmallMaxFileSize leaves blobs built from deltas that
// exceed MaxFileSize, and what is built on them, to git cat-file, which
// streams them.
func TestScanGitPacksSmallMaxFileSize(t *testing.T) {
	r := newTestRepo(t)
	h := newEditHistory(r, 7)
	h.commits(20)
	r.git("repack", "-adfq", "--window=50", "--depth=50")
	opt := SourceOptions{MaxFileSize: 2 << 10}
	run := func(packs bool) []string {
		defer SetGitPackWalkForTest(packs)()
		got, _ := scanGit(t, r.dir, opt)
		out := make([]string, len(got))
		for i, f := range got {
			out[i] = FindingKeyForTest(f)
		}
		slices.Sort(out)
		return out
	}
	want, got := run(false), run(true)
	if len(want) < 10 {
		t.Fatalf("only %d findings", len(want))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%d findings, want %d\n%s", len(got), len(want), firstDiff(got, want))
	}
}

// TestScanPacksLeavesNothing checks that a packed repository is read
// whole by the pack reader, with nothing left to git cat-file.
func TestScanPacksLeavesNothing(t *testing.T) {
	r := newTestRepo(t)
	newEditHistory(r, 3).commits(10)
	r.git("repack", "-adq")
	st, err := openObjectStore(filepath.Join(r.dir, ".git", "objects"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	s, _ := New(Options{})
	var n atomic.Int64
	rest, err := s.scanPacks(context.Background(), st, SourceOptions{}.withDefaults(), newCollector(nil, nil), nil,
		func(_ string, hs []blobHit) { n.Add(int64(len(hs))) })
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 0 || n.Load() == 0 {
		t.Fatalf("left %d objects to cat-file, found %d keys", len(rest), n.Load())
	}
}

// TestApplyDelta builds a target from hand-written instructions.
func TestApplyDelta(t *testing.T) {
	base := []byte("0123456789abcdef")
	// base size 16, target size 9: copy 4 bytes from 10, insert "XY",
	// copy 3 bytes from 0.
	delta := []byte{16, 9, 0x80 | 0x01 | 0x10, 10, 4, 2, 'X', 'Y', 0x80 | 0x10, 3}
	bs, ts, hdr, err := deltaSizes(delta)
	if err != nil || bs != 16 || ts != 9 {
		t.Fatalf("sizes %d %d %v", bs, ts, err)
	}
	out := make([]byte, ts)
	ops, err := applyDelta(base, delta, out, hdr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "abcdXY012" {
		t.Fatalf("got %q", out)
	}
	want := []deltaOp{{dst: 0, src: 10, n: 4}, {dst: 4, n: 2, insert: true}, {dst: 6, src: 0, n: 3}}
	if !slices.Equal(ops, want) {
		t.Fatalf("ops %+v", ops)
	}
	for _, bad := range [][]byte{
		{16, 9, 0x80 | 0x01 | 0x10, 14, 4},    // copy past the base
		{16, 9, 5, 'a'},                       // insert past the delta
		{16, 9, 0},                            // reserved instruction
		{16, 9, 0x80 | 0x10, 3},               // builds 3 of 9 bytes
		{16, 2, 0x80 | 0x10, 3},               // builds past the target
		{16, 9, 0x80 | 0x01 | 0x02 | 0x10, 1}, // truncated
	} {
		_, ts, hdr, _ := deltaSizes(bad)
		if _, err := applyDelta(base, bad, make([]byte, ts), hdr, nil); err == nil {
			t.Errorf("applyDelta(% x): no error", bad)
		}
	}
}

// FuzzApplyDelta: any delta over any base either builds a target of the
// declared size or fails; it never panics.
func FuzzApplyDelta(f *testing.F) {
	f.Add([]byte("0123456789abcdef"), []byte{16, 9, 0x80 | 0x01 | 0x10, 10, 4, 2, 'X', 'Y', 0x80 | 0x10, 3})
	f.Add([]byte(""), []byte{0, 1, 1, 'a'})
	f.Add([]byte("abc"), []byte{3, 0x80, 0x80, 0x04, 0x80})
	f.Fuzz(func(t *testing.T, base, delta []byte) {
		_, ts, hdr, err := deltaSizes(delta)
		if err != nil || ts > 1<<20 {
			return
		}
		out := make([]byte, ts)
		ops, err := applyDelta(base, delta, out, hdr, nil)
		if err != nil {
			return
		}
		// The instructions rebuild the same target.
		re := make([]byte, 0, ts)
		for _, op := range ops {
			if op.insert {
				re = append(re, out[op.dst:op.dst+op.n]...)
			} else {
				re = append(re, base[op.src:op.src+op.n]...)
			}
		}
		if !bytes.Equal(re, out) {
			t.Fatalf("ops rebuild %q, target %q", re, out)
		}
	})
}

// FuzzPackIndex: a corrupt index or pack is an error, never a panic or an
// object out of bounds.
func FuzzPackIndex(f *testing.F) {
	r := newTestRepo(f)
	r.write("a.txt", "hello\n")
	r.commit("a", "2024-01-01T00:00:00Z")
	r.write("a.txt", "hello\nworld\n")
	r.commit("b", "2024-01-02T00:00:00Z")
	r.git("repack", "-adq")
	st, err := openObjectStore(filepath.Join(r.dir, ".git", "objects"))
	if err != nil || len(st.packs) != 1 {
		f.Fatalf("%v, %d packs", err, len(st.packs))
	}
	idx, data := slices.Clone(st.packs[0].idx), slices.Clone(st.packs[0].data)
	st.close()
	f.Add(idx, data, 0, byte(0))
	f.Add(idx, data, len(idx)-50, byte(0xff))
	f.Add(idx, data, 8+1024+5, byte(1))
	f.Fuzz(func(t *testing.T, idx, data []byte, at int, v byte) {
		idx, data = slices.Clone(idx), slices.Clone(data)
		if at >= 0 && at < len(idx)+len(data) {
			if at < len(idx) {
				idx[at] = v
			} else {
				data[at-len(idx)] = v
			}
		}
		p := &packFile{path: "fuzz.pack", idx: idx, data: data}
		if p.readIndex() != nil {
			return
		}
		var zr zlibReader
		for i := range p.objs {
			o := &p.objs[i]
			if o.data > o.end || o.end > int64(len(data)) {
				t.Fatalf("object %d: data %d..%d outside %d bytes", i, o.data, o.end, len(data))
			}
			if o.size < 1<<20 {
				p.inflate(&zr, int32(i), nil)
			}
		}
	})
}

// TestDeltaScanMatchesWhole builds targets from random copy and insert
// instructions over random bases, with copies cut anywhere (mid-line,
// between a provider word and its key, at the edges), and wants delta2's
// findings to be exactly a whole-blob scan's.
func TestDeltaScanMatchesWhole(t *testing.T) {
	cases := 2000
	if testing.Short() {
		cases = 300
	}
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for c := range cases {
		checkDeltaScan(t, s, uint64(c))
	}
}

// FuzzDeltaScan is TestDeltaScanMatchesWhole with the fuzzer choosing the
// random stream.
func FuzzDeltaScan(f *testing.F) {
	s, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint64(0), uint64(1))
	f.Add(uint64(121), uint64(7))
	f.Fuzz(func(t *testing.T, a, b uint64) { checkDeltaScanRNG(t, s, rand.New(rand.NewPCG(a, b))) })
}

func checkDeltaScan(t *testing.T, s *Scanner, c uint64) {
	checkDeltaScanRNG(t, s, rand.New(rand.NewPCG(11, 12+c)))
}

// checkDeltaScanRNG builds one random base and delta from rng and compares
// delta2's findings with a whole-blob scan of the target.
func checkDeltaScanRNG(t *testing.T, s *Scanner, rng *rand.Rand) {
	t.Helper()
	pw := &packWorker{w: &packWalk{s: s}, st: s.newState()}
	material := deltaMaterial()
	blob := func(n int) []byte {
		return render(splitLines(memoBlob(rng, material, n)), rng.IntN(4) == 0, rng.IntN(4) == 0)
	}
	keys := func(hs []blobHit) []string {
		out := make([]string, len(hs))
		for i, h := range hs {
			out[i] = FindingKeyForTest(h.finding("x"))
		}
		return out
	}
	base := blob(5 + rng.IntN(40))
	if len(base) == 0 {
		return
	}
	fb := pw.whole("x", base)
	var t2 []byte
	var ops []deltaOp
	for range 1 + rng.IntN(6) {
		if rng.IntN(3) == 0 {
			ins := blob(1 + rng.IntN(3))
			if len(ins) == 0 {
				continue
			}
			if rng.IntN(2) == 0 { // part of a line
				ins = ins[:rng.IntN(len(ins))+1]
			}
			ops = append(ops, deltaOp{dst: len(t2), n: len(ins), insert: true})
			t2 = append(t2, ins...)
			continue
		}
		a := rng.IntN(len(base))
		z := a + 1 + rng.IntN(len(base)-a)
		switch rng.IntN(4) {
		case 0:
			a = 0 // from the base's start
		case 1:
			z = len(base) // to its end
		}
		ops = append(ops, deltaOp{dst: len(t2), src: a, n: z - a})
		t2 = append(t2, base[a:z]...)
	}
	if len(t2) == 0 {
		return
	}
	got := keys(pw.delta2("x", t2, len(base), ops, fb))
	want := keys(pw.whole("x", t2))
	if !slices.Equal(got, want) {
		t.Fatalf("delta scan differs from the whole scan (%d vs %d findings)\n%s\nops %+v", len(got), len(want), firstDiff(got, want), ops)
	}
}

// deltaMaterial is memoLines' material, made once.
var deltaMaterial = sync.OnceValue(func() []string { return memoLines(rand.New(rand.NewPCG(11, 12))) })

// TestScanGitCollapseHistory compares ScanGit with CollapseHistory against
// collapsing its per-blob findings by hand: per path, rule and secret, the
// first finding (blobs come oldest first) with every blob's commits.
func TestScanGitCollapseHistory(t *testing.T) {
	r := newTestRepo(t)
	h := newEditHistory(r, 9)
	h.commits(60) // more than MaxCommits versions of some keys
	r.git("repack", "-adq")
	perBlob, _ := scanGit(t, r.dir, SourceOptions{})
	type leak struct{ path, rule, secret string }
	var want []Finding
	idx := map[leak]int{}
	blobOf := map[leak]string{}
	for _, f := range perBlob {
		if len(f.Commits) == 0 {
			want = append(want, f)
			continue
		}
		k := leak{f.Path, f.Rule, string(f.secret)}
		i, ok := idx[k]
		if !ok {
			idx[k], blobOf[k] = len(want), f.Blob
			f.Commits = slices.Clone(f.Commits)
			want = append(want, f)
			continue
		}
		if blobOf[k] == f.Blob {
			continue // the key twice in one blob: its commits are in already
		}
		blobOf[k] = f.Blob
		w := &want[i]
		w.CommitCount += f.CommitCount
		w.Commits = append(w.Commits, f.Commits...)
		slices.SortStableFunc(w.Commits, func(a, b Commit) int {
			return cmp.Or(a.AuthorDate.Compare(b.AuthorDate), strings.Compare(a.SHA, b.SHA), strings.Compare(a.Path, b.Path))
		})
		w.Commits = w.Commits[:min(len(w.Commits), MaxCommits)]
	}
	got, _ := scanGit(t, r.dir, SourceOptions{CollapseHistory: true})
	keys := func(fs []Finding) []string {
		out := make([]string, len(fs))
		for i, f := range fs {
			out[i] = FindingKeyForTest(f)
		}
		slices.Sort(out)
		return out
	}
	cut := 0
	for _, f := range got {
		if f.CommitCount > MaxCommits {
			cut++
		}
	}
	if len(got) >= len(perBlob) || cut == 0 {
		t.Fatalf("%d collapsed findings of %d, %d with more than %d commits: not the case to test", len(got), len(perBlob), cut, MaxCommits)
	}
	if g, w := keys(got), keys(want); !slices.Equal(g, w) {
		t.Fatalf("%d findings, want %d\n%s", len(g), len(w), firstDiff(g, w))
	}
}

// TestScanPacksDeepChainMemory: a file rewritten 300 times and packed in
// one chain of deltas up to 250 deep is scanned holding a few versions at
// a time, not the whole chain.
func TestScanPacksDeepChainMemory(t *testing.T) {
	r := newTestRepo(t)
	var lines []string
	for i := range 2000 {
		lines = append(lines, fmt.Sprintf("line %d of a long configuration file with some words in it", i))
	}
	lines[1000] = keyLineText(77)
	for c := range 300 {
		lines[(c*7919)%len(lines)] += " edited"
		r.write("big.conf", strings.Join(lines, "\n")+"\n")
		r.commit(fmt.Sprintf("c%d", c), time.Date(2024, 1, 1, c, 0, 0, 0, time.UTC).Format(time.RFC3339))
	}
	r.git("repack", "-adfq", "--window=250", "--depth=250")
	size := len(strings.Join(lines, "\n"))
	var peak int
	packPeakHook = func(p int) { peak = p }
	defer func() { packPeakHook = nil }()
	got, _ := scanGit(t, r.dir, SourceOptions{Workers: 1})
	if len(got) != 300 {
		t.Fatalf("%d findings, want one a version (300)", len(got))
	}
	if peak == 0 || peak > 4*size {
		t.Fatalf("held %d bytes of blobs at once, versions are %d bytes: want at most 4 versions", peak, size)
	}
	t.Logf("peak %d bytes, %.1f versions", peak, float64(peak)/float64(size))
}
