package scan

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"sync"
)

// Scanning deltas.
//
// A blob stored as a delta is its base with some ranges copied and some
// bytes inserted. A finding that starts on line L depends on lines L-1 to
// L+1 and nothing else (see memo.go for why). Mark as dirty every inserted
// byte and the first and last byte of every copied range (but the first
// byte of a copy from the base's start to the target's start, and the
// last of one from the base's end to the target's end: that edge is the
// same in both), and call a line dirty when it holds a dirty byte. If none
// of lines L-1 to L+1 is dirty, they were copied in one piece from the
// base, and so was the newline before line L-1 (the byte before a clean
// byte that is not the first of a copy is in the same copy), or the copy
// starts both blobs; so lines L-1 to L+1 are lines of the base, byte for
// byte, and the base's findings there are the target's at the copied
// position (same column, and the line number counted in the target).
// Every line next to or on a dirty line is scanned again, with a line of
// context either side, exactly as memo.go scans a chunk.
// So a blob costs the lines its delta touches, not its size, and its
// findings are those of scanning it whole (tested against whole-blob
// scans, including repositories repacked with REF deltas and deep chains).

// span is a byte range [start, end) of a blob.
type span struct{ start, end int }

// packJob is one delta tree of a pack: a whole blob and the deltas
// built on it, transitively.
type packJob struct {
	p    *packFile
	root int32
}

// packPeakHook, when set (by tests), is told the most blob bytes one
// worker held at once during a pack walk.
var packPeakHook func(peak int)

// packWalk is the state shared by the workers walking a repository's
// packs.
type packWalk struct {
	s     *Scanner
	ctx   context.Context
	opt   SourceOptions
	c     *collector
	memo  *memoCache
	found func(id string, hs []blobHit)

	// children of each pack object, as offsets into kids (CSR).
	start map[*packFile][]int32
	kids  map[*packFile][]int32

	mu   sync.Mutex
	rest []string // ids left to git cat-file
	peak int      // the most blob bytes one worker held at once
}

// scanPacks scans every blob of st's packs that the pack reader can
// rebuild and returns the ids of the objects left to git cat-file: loose
// objects, deltas whose base is outside their pack, and blobs larger than
// opt.MaxFileSize built from deltas (with the deltas built on them).
func (s *Scanner) scanPacks(ctx context.Context, st *objectStore, opt SourceOptions, c *collector, memo *memoCache, found func(id string, hs []blobHit)) ([]string, error) {
	w := &packWalk{s: s, ctx: ctx, opt: opt, c: c, memo: memo, found: found,
		start: map[*packFile][]int32{}, kids: map[*packFile][]int32{}}
	var jobs []packJob
	for k, p := range st.packs {
		// An object also in an earlier pack is rebuilt (others may build
		// on it) but reported once.
		for i := range p.objs {
			o := &p.objs[i]
			if o.kind != objBlob && o.kind != 0 {
				continue
			}
			id := p.rawID(int32(i))
			for _, q := range st.packs[:k] {
				if _, ok := q.find(id[:]); ok {
					o.dup = true
					break
				}
			}
			if o.kind == 0 && !o.dup {
				w.rest = append(w.rest, p.id(int32(i)))
			}
		}
		start := make([]int32, len(p.objs)+1)
		for i := range p.objs {
			if b := p.objs[i].base; b >= 0 && p.objs[i].kind == objBlob {
				start[b+1]++
			}
		}
		for i := range p.objs {
			start[i+1] += start[i]
		}
		kids := make([]int32, start[len(p.objs)])
		fill := slices.Clone(start[:len(p.objs)])
		for i := range p.objs {
			if b := p.objs[i].base; b >= 0 && p.objs[i].kind == objBlob {
				kids[fill[b]] = int32(i)
				fill[b]++
			}
		}
		w.start[p], w.kids[p] = start, kids
		for i := range p.objs {
			if p.objs[i].raw == objBlob {
				jobs = append(jobs, packJob{p: p, root: int32(i)})
			}
		}
	}
	for _, id := range st.loose {
		raw, err := hexID(id)
		if err != nil {
			continue
		}
		packed := false
		for _, p := range st.packs {
			if _, ok := p.find(raw[:]); ok {
				packed = true
				break
			}
		}
		if !packed {
			w.rest = append(w.rest, id)
		}
	}

	ch := make(chan packJob)
	errc := make(chan error, opt.Workers)
	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw := &packWorker{w: w, st: s.newState()}
			if memo != nil {
				pw.memo = s.newBlobMemo(memo)
			}
			defer func() {
				w.mu.Lock()
				w.peak = max(w.peak, pw.peak)
				w.mu.Unlock()
			}()
			for j := range ch {
				if err := pw.tree(j); err != nil {
					errc <- err
					for range ch { // drain
					}
					return
				}
				c.deliver(nil) // progress
			}
		}()
	}
	var err error
feed:
	for _, j := range jobs {
		select {
		case ch <- j:
		case err = <-errc:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(ch)
	wg.Wait()
	if packPeakHook != nil {
		packPeakHook(w.peak)
	}
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	return w.rest, err
}

func hexID(s string) ([20]byte, error) {
	var b [20]byte
	if len(s) != 40 {
		return b, fmt.Errorf("bad object id %q", s)
	}
	_, err := hex.Decode(b[:], []byte(s))
	return b, err
}

// packWorker rebuilds and scans delta trees.
type packWorker struct {
	w          *packWalk
	st         *state
	memo       *blobMemo
	zr         zlibReader
	delta      []byte
	wins       []span
	found      []Finding // scratch
	ops        []deltaOp
	merged     []deltaOp
	spare      [][]byte // released blob buffers
	spareBytes int
	held, peak int // bytes of blob buffers in use, and their most
}

// node is a rebuilt blob on the path from a tree's root.
type node struct {
	content  []byte
	findings []blobHit // sorted by offset: those of a whole-blob scan
	binary   bool      // a NUL in the first 8 KiB (isBinary)
	nulFree  bool      // no NUL anywhere: known not binary, nor its copies
}

// tree scans the blob at j.root and every delta built on it.
func (pw *packWorker) tree(j packJob) error {
	if err := pw.w.ctx.Err(); err != nil {
		return err
	}
	p, w := j.p, pw.w
	o := &p.objs[j.root]
	id := p.id(j.root)
	w.c.blobs.Add(1)
	w.c.bytes.Add(o.size)
	if o.size > w.opt.MaxFileSize {
		// Streamed, never held: what is built on it goes to cat-file.
		if err := pw.zr.reset(p.data[o.data:o.end]); err != nil {
			return fmt.Errorf("%s at offset %d: %w", p.path, o.off, err)
		}
		var out []blobHit
		if err := w.s.ScanReader(id, pw.zr.r, func(f Finding) { out = append(out, hitOf(&f)) }); err != nil {
			return fmt.Errorf("read git blob %s: %w", id, err)
		}
		pw.report(o, id, out)
		pw.leave(p, j.root, false)
		return nil
	}
	content, err := p.inflate(&pw.zr, j.root, pw.buffer(int(o.size)))
	if err != nil {
		return err
	}
	n := node{content: content, findings: pw.whole(id, content), nulFree: bytes.IndexByte(content, 0) < 0}
	n.binary = !n.nulFree && isBinary(content)
	pw.report(o, id, n.findings)
	err = pw.children(p, j.root, &n)
	if n.content != nil {
		pw.release(n.content)
	}
	return err
}

// children rebuilds and scans the deltas built on object i, depth first.
func (pw *packWorker) children(p *packFile, i int32, base *node) error {
	w := pw.w
	kids := w.kids[p][w.start[p][i]:w.start[p][i+1]]
	for j, k := range kids {
		o := &p.objs[k]
		id := p.id(k)
		d, err := p.inflate(&pw.zr, k, pw.delta)
		if err != nil {
			return err
		}
		pw.delta = d
		bsize, tsize, hdr, err := deltaSizes(d)
		if err == nil && bsize != len(base.content) {
			err = fmt.Errorf("delta base is %d bytes, the base object %d", bsize, len(base.content))
		}
		if err != nil {
			return fmt.Errorf("%s at offset %d: %w", p.path, o.off, err)
		}
		if int64(tsize) > w.opt.MaxFileSize {
			pw.leave(p, k, true)
			continue
		}
		t := pw.buffer(tsize)
		ops, err := applyDelta(base.content, d, t, hdr, pw.ops[:0])
		pw.ops = ops
		if err != nil {
			return fmt.Errorf("%s at offset %d: %w", p.path, o.off, err)
		}
		w.c.blobs.Add(1)
		w.c.bytes.Add(int64(tsize))
		// A delta of a NUL-free base inserting no NUL is NUL-free: no need
		// to look through the first 8 KiB of every version for one.
		n := node{content: t, nulFree: base.nulFree && !insertsNUL(t, ops)}
		n.binary = !n.nulFree && isBinary(t)
		if base.binary || n.binary || len(ops) == 0 {
			n.findings = pw.whole(id, t)
		} else {
			n.findings = pw.delta2(id, t, len(base.content), ops, base.findings)
		}
		pw.report(o, id, n.findings)
		if j == len(kids)-1 {
			// Nothing else is built on base: let its bytes go, so that a
			// chain of deltas holds one version at a time, not all.
			pw.release(base.content)
			base.content = nil
		}
		err = pw.children(p, k, &n)
		if n.content != nil {
			pw.release(n.content)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// buffer returns a byte slice of length n, reusing the smallest released
// one that holds it.
func (pw *packWorker) buffer(n int) []byte {
	pw.held += n
	pw.peak = max(pw.peak, pw.held)
	best := -1
	for i, b := range pw.spare {
		if cap(b) >= n && (best < 0 || cap(b) < cap(pw.spare[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]byte, n)
	}
	b := pw.spare[best]
	pw.spare = slices.Delete(pw.spare, best, best+1)
	pw.spareBytes -= cap(b)
	return b[:n]
}

// release keeps b for reuse, up to 32 MiB of buffers a worker; no
// finding refers to a blob's bytes.
func (pw *packWorker) release(b []byte) {
	pw.held -= len(b)
	if len(pw.spare) < 64 && pw.spareBytes+cap(b) <= 32<<20 {
		pw.spare = append(pw.spare, b)
		pw.spareBytes += cap(b)
	}
}

// insertsNUL reports whether a delta's inserted bytes hold a NUL.
func insertsNUL(t []byte, ops []deltaOp) bool {
	for _, op := range ops {
		if op.insert && bytes.IndexByte(t[op.dst:op.dst+op.n], 0) >= 0 {
			return true
		}
	}
	return false
}

// leave hands object i (when self) and everything built on it to git
// cat-file.
func (pw *packWorker) leave(p *packFile, i int32, self bool) {
	w := pw.w
	var ids []string
	var walk func(i int32)
	walk = func(i int32) {
		for _, k := range w.kids[p][w.start[p][i]:w.start[p][i+1]] {
			if !p.objs[k].dup {
				ids = append(ids, p.id(k))
			}
			walk(k)
		}
	}
	if self && !p.objs[i].dup {
		ids = append(ids, p.id(i))
	}
	walk(i)
	w.mu.Lock()
	w.rest = append(w.rest, ids...)
	w.mu.Unlock()
}

// report passes a blob's findings on, once per object id; they stay the
// node's too, unchanged.
func (pw *packWorker) report(o *packObj, id string, hs []blobHit) {
	if len(hs) > 0 && !o.dup {
		pw.w.found(id, hs)
	}
}

// whole scans a blob whole and returns its findings sorted by offset.
func (pw *packWorker) whole(id string, b []byte) []blobHit {
	var out []blobHit
	emit := func(f Finding) { out = append(out, hitOf(&f)) }
	if pw.memo != nil {
		pw.memo.scan(id, b, emit)
	} else {
		pw.w.s.ScanBytes(id, b, emit)
	}
	slices.SortStableFunc(out, func(a, b blobHit) int { return cmp.Compare(a.off, b.off) })
	return out
}

// delta2 returns the findings of t, built by ops from a base of baseLen
// bytes whose findings are fb, scanning only the lines around what
// changed.
func (pw *packWorker) delta2(id string, t []byte, baseLen int, ops []deltaOp, fb []blobHit) []blobHit {
	wins := pw.wins[:0]
	dirty := func(a, z int) {
		ls := lineStart(t, a)
		if ls > 0 {
			ls = lineStart(t, ls-1)
		}
		le := lineEnd(t, z-1)
		if le < len(t) {
			le = lineEnd(t, le)
		}
		if n := len(wins); n > 0 && ls <= wins[n-1].end {
			wins[n-1].end = max(wins[n-1].end, le)
			return
		}
		wins = append(wins, span{ls, le})
	}
	// Copies of adjacent base ranges are one copy (git splits copies at
	// 64 KiB, and its encoder at its block boundaries).
	merged := ops[:0:0]
	if cap(pw.merged) > 0 {
		merged = pw.merged[:0]
	}
	for _, op := range ops {
		if n := len(merged); n > 0 && !op.insert && !merged[n-1].insert && merged[n-1].src+merged[n-1].n == op.src {
			merged[n-1].n += op.n
			continue
		}
		merged = append(merged, op)
	}
	pw.merged = merged
	ops = merged
	for _, op := range ops {
		if op.insert {
			dirty(op.dst, op.dst+op.n)
			continue
		}
		// A copy of the base's first (last) bytes to the target's first
		// (last) bytes has the same edge on that side: nothing.
		if op.dst != 0 || op.src != 0 {
			dirty(op.dst, op.dst+1)
		}
		if op.n > 1 && (op.dst+op.n != len(t) || op.src+op.n != baseLen) {
			dirty(op.dst+op.n-1, op.dst+op.n)
		}
	}
	pw.wins = wins
	fs := pw.found[:0]
	emit := func(f Finding) { fs = append(fs, f) }
	var cur lineCursor
	for _, wn := range wins {
		cs, ce := wn.start, wn.end
		if cs > 0 {
			cs = lineStart(t, cs-1)
		}
		if ce < len(t) {
			ce = lineEnd(t, ce)
		}
		lc := lineCounter{line: cur.line(t, cs), at: int64(cs), start: int64(cs)}
		pw.st.emitChunk(id, t[cs:ce], int64(cs), int64(wn.start), int64(wn.end), &lc, emit)
	}
	pw.found = fs[:0]
	out := make([]blobHit, len(fs), len(fs)+len(fb))
	for i := range fs {
		out[i] = hitOf(&fs[i])
	}
	clear(fs)
	rescanned := len(out)
	inWindow := func(off int) bool {
		k := sort.Search(len(wins), func(k int) bool { return wins[k].end > off })
		return k < len(wins) && wins[k].start <= off
	}
	for _, op := range ops {
		if op.insert {
			continue
		}
		k := sort.Search(len(fb), func(k int) bool { return fb[k].off >= int64(op.src) })
		for ; k < len(fb) && fb[k].off < int64(op.src+op.n); k++ {
			h := fb[k]
			if h.end > int64(op.src+op.n) {
				continue
			}
			to := int64(op.dst) + h.off - int64(op.src)
			if inWindow(int(to)) {
				continue
			}
			h.end = to + h.end - h.off
			h.off, h.line = to, 0
			out = append(out, h)
		}
	}
	if len(out) > rescanned {
		slices.SortStableFunc(out, func(a, b blobHit) int { return cmp.Compare(a.off, b.off) })
		cur = lineCursor{}
		for i := range out {
			if out[i].line == 0 {
				out[i].line = int32(cur.line(t, int(out[i].off)))
			}
		}
	}
	return slices.Clip(out)
}

// lineCursor counts lines forward through a blob.
type lineCursor struct{ at, n int }

// line returns the line number of offset off, which is at or after the
// previous call's.
func (c *lineCursor) line(t []byte, off int) int {
	c.n += bytes.Count(t[c.at:off], []byte{'\n'})
	c.at = off
	return c.n + 1
}

// lineStart returns the offset of the start of the line holding t[i].
func lineStart(t []byte, i int) int { return bytes.LastIndexByte(t[:i], '\n') + 1 }

// lineEnd returns the offset just past the newline ending the line that
// holds t[i], or len(t).
func lineEnd(t []byte, i int) int {
	if j := bytes.IndexByte(t[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(t)
}
