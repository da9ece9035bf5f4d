package scan

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"slices"
	"sync"
)

// Memoised scanning of git history.
//
// Successive versions of a file share most of their lines, so ScanGit
// splits every blob into content-defined chunks of whole lines and scans
// each distinct chunk once. A chunk ends after a line whose hash (of the
// line alone) is 0 modulo memoAvgLines once it holds memoMinChunk bytes,
// or at the first line end past memoMaxChunk bytes, so an edit
// changes only the chunk it falls in (and, through the context lines, its
// neighbours); the chunks elsewhere in the file come out the same in every
// version.
//
// Why scanning a chunk gives what scanning the whole blob gives for the
// findings that start in it: no secret, token or decoded region spans a
// newline (every charset of rule.go and decode.go excludes '\n', and no
// keyword holds one), context windows reach no further than the line
// before and the line after (window), AllowMarker is looked for on the
// finding's own line, and the per-scan state that carries from line to
// line (level.scannedTo, level.decodedTo) never reaches past the end of
// the line after the one that set it, and only skips work whose outcome
// is already recorded. So a chunk is scanned with one line of context
// either side, and the findings that start within the chunk's own lines
// are exactly those of the whole blob there. The cache key is the chunk
// and its context (two independent 64-bit hashes and both lengths); the
// findings are kept relative to the chunk and translated for every blob
// holding it.

const (
	// memoAvgLines is the average number of lines in a chunk.
	memoAvgLines = 8
	// memoMinChunk is the least size of a chunk ended by a line's hash.
	memoMinChunk = 128
	// memoMaxChunk ends a chunk at the first line end past this size.
	memoMaxChunk = 8 << 10
	// memoMinBlob: smaller blobs are scanned whole.
	memoMinBlob = 512
	// memoShards and memoMaxEntries bound the cache: a shard that grows
	// past its share of memoMaxEntries is emptied.
	memoShards     = 16
	memoMaxEntries = 1 << 18
)

// gitMemo turns memoised scanning of git blobs on; tests turn it off to
// compare with scanning every blob whole.
var gitMemo = true

// memoKey identifies a chunk with its context lines.
type memoKey struct {
	h1, h2     uint64
	pre, chunk uint32 // lengths of the line before and of the chunk
}

// memoHit is a finding relative to its chunk: offsets from the chunk's
// first byte, line from its first line.
type memoHit struct {
	off, end  int64
	line, col int
	provider  string
	rule      string
	enc       string
	redacted  string
	secret    []byte
}

// memoCache holds the findings of chunks, shared by ScanGit's workers.
type memoCache struct {
	seed1, seed2 maphash.Seed
	shards       [memoShards]memoShard
}

type memoShard struct {
	mu    sync.Mutex
	clean map[memoKey]struct{}  // chunks without findings
	dirty map[memoKey][]memoHit // chunks with findings
}

func newMemoCache() *memoCache {
	c := &memoCache{seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].clean = map[memoKey]struct{}{}
		c.shards[i].dirty = map[memoKey][]memoHit{}
	}
	return c
}

// get returns the findings of the chunk k and whether it is known.
func (c *memoCache) get(k memoKey) ([]memoHit, bool) {
	sh := &c.shards[k.h1%memoShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.clean[k]; ok {
		return nil, true
	}
	hs, ok := sh.dirty[k]
	return hs, ok
}

func (c *memoCache) put(k memoKey, hs []memoHit) {
	sh := &c.shards[k.h1%memoShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(sh.clean)+len(sh.dirty) >= memoMaxEntries/memoShards {
		clear(sh.clean)
		clear(sh.dirty)
	}
	if len(hs) == 0 {
		sh.clean[k] = struct{}{}
	} else {
		sh.dirty[k] = hs
	}
}

// blobMemo is one worker's memoised scanner.
type blobMemo struct {
	s     *Scanner
	c     *memoCache
	st    *state
	found []Finding // scratch

	hits, misses int // chunks found in the cache and scanned
}

func (s *Scanner) newBlobMemo(c *memoCache) *blobMemo {
	return &blobMemo{s: s, c: c, st: s.newState()}
}

// scan emits what s.ScanBytes(name, b, emit) emits, in the same order.
func (m *blobMemo) scan(name string, b []byte, emit func(Finding)) {
	if len(b) < memoMinBlob || isBinary(b) {
		m.s.ScanBytes(name, b, emit)
		return
	}
	line := 1  // line number of b[start]
	pre := 0   // start of the line before b[start]
	start := 0 // start of the chunk
	for start < len(b) {
		end, last, n := start, start, 0
		for end < len(b) {
			i := bytes.IndexByte(b[end:], '\n')
			last = end
			if i < 0 {
				end = len(b)
				break
			}
			e := end + i + 1
			h := lineHash(b[end:e])
			end = e
			n++
			if h%memoAvgLines == 0 && end-start >= memoMinChunk || end-start >= memoMaxChunk {
				break
			}
		}
		next := len(b)
		if i := bytes.IndexByte(b[end:], '\n'); i >= 0 {
			next = end + i + 1
		}
		m.chunk(name, b[pre:next], start-pre, end-pre, int64(start), line, emit)
		pre, start, line = last, end, line+n
	}
}

// chunk emits the findings that start in ctx[from:to], the chunk, where
// ctx is the chunk with the line before and the line after it, ctx[from]
// is at offset base of the blob and on line line.
func (m *blobMemo) chunk(name string, ctx []byte, from, to int, base int64, line int, emit func(Finding)) {
	k := memoKey{
		h1:    maphash.Bytes(m.c.seed1, ctx),
		h2:    maphash.Bytes(m.c.seed2, ctx),
		pre:   uint32(from),
		chunk: uint32(to - from),
	}
	hs, ok := m.c.get(k)
	if ok {
		m.hits++
	} else {
		m.misses++
		m.found = m.found[:0]
		lc := lineCounter{line: 1}
		m.st.emitChunk(name, ctx, 0, int64(from), int64(to), &lc, func(f Finding) { m.found = append(m.found, f) })
		first := 1
		if from > 0 {
			first = 2
		}
		hs = nil
		if len(m.found) > 0 {
			hs = make([]memoHit, len(m.found))
			for i, f := range m.found {
				hs[i] = memoHit{
					off: f.Offset - int64(from), end: f.End - int64(from),
					line: f.Line - first, col: f.Column,
					provider: f.Provider, rule: f.Rule, enc: f.Encoding,
					redacted: f.Redacted, secret: f.secret,
				}
			}
			clear(m.found)
		}
		m.c.put(k, hs)
	}
	for _, h := range hs {
		emit(Finding{
			Source:   name,
			Provider: h.provider,
			Rule:     h.rule,
			Offset:   base + h.off,
			End:      base + h.end,
			Line:     line + h.line,
			Column:   h.col,
			Encoding: h.enc,
			Redacted: h.redacted,
			secret:   slices.Clone(h.secret),
		})
	}
}

// lineHash is a fixed hash of a line's length and its first and last 8
// bytes: cheap, and the same in every run, so that chunk boundaries (and
// the cache's hit rate) do not vary from run to run.
func lineHash(b []byte) uint64 {
	var head, tail uint64
	if len(b) >= 8 {
		head = binary.LittleEndian.Uint64(b)
		tail = binary.LittleEndian.Uint64(b[len(b)-8:])
	} else {
		for i, c := range b {
			head |= uint64(c) << (8 * i)
		}
	}
	h := (head ^ uint64(len(b))*0x9e3779b97f4a7c15) * 0xff51afd7ed558ccd
	h ^= h >> 29
	h = (h ^ tail) * 0xc4ceb9fe1a85ec53
	return h >> 32
}
