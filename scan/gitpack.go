package scan

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Reading git pack files directly.
//
// A cloned or garbage-collected repository keeps nearly every blob as a
// delta against another version of the same file: a few instructions that
// copy ranges of the base and insert new bytes. git cat-file has to
// inflate and rebuild every version in full before a scanner sees it;
// reading the packs ourselves, ScanGit sees the delta instructions, scans
// only the lines around inserted bytes and carries the base's findings
// over the copied ranges (see gitdelta.go). This file is the pack format:
// version 2 index files, pack headers, zlib-deflated object data and the
// delta encoding, as git's Documentation/gitformat-pack.txt describes them.
// Anything it does not read (SHA-256 repositories, alternates, version 1
// indexes, objects whose base lies outside their pack, loose objects) is
// left to git cat-file, which reads everything.

// Object types in pack headers.
const (
	objCommit   = 1
	objTree     = 2
	objBlob     = 3
	objTag      = 4
	objOfsDelta = 6
	objRefDelta = 7
)

// errNoPackWalk says the repository's object store is of a kind the pack
// reader leaves to git cat-file as a whole.
var errNoPackWalk = errors.New("object store not readable as packs")

// packFile is one mapped pack with its index.
type packFile struct {
	path  string
	idx   []byte // the .idx file
	data  []byte // the .pack file
	unmap []func()
	n     int       // objects
	objs  []packObj // by offset
	byPos []int32   // objs index by position in the index's sorted id table
}

// packObj is one object of a pack.
type packObj struct {
	off  int64 // offset of the object's header
	data int64 // offset of its zlib stream
	end  int64 // where the next object begins (bounds the zlib stream)
	size int64 // inflated size of the data (of the delta, for deltas)
	base int32 // objs index of a delta's base; -1: none; -2: outside the pack
	pos  int32 // position in the index's id table
	raw  byte  // type in the header
	kind byte  // resolved type (a delta's is its base's); 0: unknown
	dup  bool  // an earlier pack has the same object
}

// openPack maps path (an .idx) and its .pack and reads the index.
func openPack(idxPath string) (*packFile, error) {
	p := &packFile{path: strings.TrimSuffix(idxPath, ".idx") + ".pack"}
	var err error
	var unmap func()
	if p.idx, unmap, err = mapFile(idxPath); err != nil {
		return nil, err
	}
	p.unmap = append(p.unmap, unmap)
	if p.data, unmap, err = mapFile(p.path); err != nil {
		p.close()
		return nil, err
	}
	p.unmap = append(p.unmap, unmap)
	if err := p.readIndex(); err != nil {
		p.close()
		return nil, fmt.Errorf("read %s: %w", filepath.Base(idxPath), err)
	}
	return p, nil
}

func (p *packFile) close() {
	for _, f := range p.unmap {
		f()
	}
	p.unmap = nil
}

// readIndex parses a version 2 index and the object headers of the pack.
func (p *packFile) readIndex() error {
	idx := p.idx
	if len(idx) < 8+256*4 || !bytes.Equal(idx[:4], []byte{0xff, 't', 'O', 'c'}) || binary.BigEndian.Uint32(idx[4:]) != 2 {
		return fmt.Errorf("%w: not a version 2 pack index", errNoPackWalk)
	}
	n := int(binary.BigEndian.Uint32(idx[8+255*4:]))
	ids := 8 + 256*4
	offs := ids + n*20 + n*4
	large := offs + n*4
	if n < 0 || len(idx) < large+40 {
		return errors.New("index truncated")
	}
	d := p.data
	if len(d) < 32 || string(d[:4]) != "PACK" {
		return errors.New("not a pack file")
	}
	if v := binary.BigEndian.Uint32(d[4:]); v != 2 && v != 3 {
		return fmt.Errorf("%w: pack version %d", errNoPackWalk, v)
	}
	if int(binary.BigEndian.Uint32(d[8:])) != n {
		return fmt.Errorf("pack holds %d objects, its index %d", binary.BigEndian.Uint32(d[8:]), n)
	}
	p.n = n
	p.objs = make([]packObj, n)
	for i := range n {
		off := int64(binary.BigEndian.Uint32(idx[offs+4*i:]))
		if off&0x80000000 != 0 {
			j := large + 8*int(off&0x7fffffff)
			if j+8 > len(idx)-40 {
				return fmt.Errorf("object %d: large offset out of range", i)
			}
			off = int64(binary.BigEndian.Uint64(idx[j:]))
		}
		if off < 12 || off >= int64(len(d))-20 {
			return fmt.Errorf("object %d: offset %d out of range", i, off)
		}
		p.objs[i] = packObj{off: off, pos: int32(i), base: -1}
	}
	slices.SortFunc(p.objs, func(a, b packObj) int { return int(a.off - b.off) })
	p.byPos = make([]int32, n)
	for i := range p.objs {
		o := &p.objs[i]
		p.byPos[o.pos] = int32(i)
		o.end = int64(len(d)) - 20
		if i+1 < n {
			o.end = p.objs[i+1].off
		}
		if err := p.header(i); err != nil {
			return fmt.Errorf("object at offset %d: %w", o.off, err)
		}
	}
	return p.resolve()
}

// header reads object i's header: type, size and a delta's base.
func (p *packFile) header(i int) error {
	o := &p.objs[i]
	d := p.data[o.off:o.end]
	if len(d) == 0 {
		return errors.New("empty object")
	}
	c := d[0]
	o.raw = c >> 4 & 7
	size := int64(c & 15)
	shift, j := 4, 1
	for c&0x80 != 0 {
		if j >= len(d) || shift > 56 {
			return errors.New("bad object header")
		}
		c = d[j]
		size |= int64(c&0x7f) << shift
		shift += 7
		j++
	}
	o.size = size
	switch o.raw {
	case objCommit, objTree, objBlob, objTag:
		o.kind = o.raw
	case objOfsDelta:
		if j >= len(d) {
			return errors.New("bad delta offset")
		}
		c = d[j]
		j++
		rel := int64(c & 0x7f)
		for c&0x80 != 0 {
			if j >= len(d) || rel > 1<<55 {
				return errors.New("bad delta offset")
			}
			c = d[j]
			j++
			rel = (rel+1)<<7 | int64(c&0x7f)
		}
		baseOff := o.off - rel
		k := sort.Search(i, func(k int) bool { return p.objs[k].off >= baseOff })
		if rel <= 0 || k >= i || p.objs[k].off != baseOff {
			return fmt.Errorf("delta base offset %d is not an object", baseOff)
		}
		o.base = int32(k)
	case objRefDelta:
		if j+20 > len(d) {
			return errors.New("bad delta base id")
		}
		o.base = -2
		if pos, ok := p.find(d[j : j+20]); ok {
			o.base = p.byPos[pos]
		}
		j += 20
	default:
		return fmt.Errorf("unknown object type %d", o.raw)
	}
	o.data = o.off + int64(j)
	return nil
}

// find returns the index position of object id.
func (p *packFile) find(id []byte) (int, bool) {
	ids := p.idx[8+256*4:]
	lo := 0
	if id[0] > 0 {
		lo = int(binary.BigEndian.Uint32(p.idx[8+4*(int(id[0])-1):]))
	}
	hi := int(binary.BigEndian.Uint32(p.idx[8+4*int(id[0]):]))
	k := lo + sort.Search(hi-lo, func(k int) bool { return bytes.Compare(ids[(lo+k)*20:(lo+k)*20+20], id) >= 0 })
	return k, k < hi && bytes.Equal(ids[k*20:k*20+20], id)
}

// id returns object i's id in hex.
func (p *packFile) id(i int32) string {
	pos := int(p.objs[i].pos)
	return hex.EncodeToString(p.idx[8+256*4+pos*20 : 8+256*4+pos*20+20])
}

func (p *packFile) rawID(i int32) [20]byte {
	pos := int(p.objs[i].pos)
	return [20]byte(p.idx[8+256*4+pos*20:])
}

// resolve gives every delta its base's type, following chains, and
// refuses cycles.
func (p *packFile) resolve() error {
	var chain []int32
	for i := range p.objs {
		chain = chain[:0]
		k := int32(i)
		for p.objs[k].kind == 0 && p.objs[k].base >= 0 {
			chain = append(chain, k)
			if len(chain) > len(p.objs) {
				return fmt.Errorf("object at offset %d: delta chain loops", p.objs[i].off)
			}
			k = p.objs[k].base
		}
		kind := p.objs[k].kind // 0 when the chain leaves the pack
		for _, c := range chain {
			p.objs[c].kind = kind
		}
	}
	return nil
}

// inflate returns object i's data (a delta's instructions), into buf's
// storage when it fits.
func (p *packFile) inflate(zr *zlibReader, i int32, buf []byte) ([]byte, error) {
	o := &p.objs[i]
	if err := zr.reset(p.data[o.data:o.end]); err != nil {
		return nil, fmt.Errorf("%s at offset %d: %w", filepath.Base(p.path), o.off, err)
	}
	out := slices.Grow(buf[:0], int(o.size))[:o.size]
	if _, err := io.ReadFull(zr.r, out); err != nil {
		return nil, fmt.Errorf("%s at offset %d: inflate: %w", filepath.Base(p.path), o.off, err)
	}
	return out, nil
}

// zlibReader is a reusable zlib reader over byte slices.
type zlibReader struct {
	src bytes.Reader
	r   io.ReadCloser
}

func (z *zlibReader) reset(b []byte) error {
	z.src.Reset(b)
	if z.r == nil {
		r, err := zlib.NewReader(&z.src)
		if err != nil {
			return err
		}
		z.r = r
		return nil
	}
	return z.r.(zlib.Resetter).Reset(&z.src, nil)
}

// deltaOp is one instruction of a delta: copy n bytes of the base from
// src to dst of the target, or (insert) n new bytes at dst.
type deltaOp struct {
	dst, src, n int
	insert      bool
}

// deltaSizes reads the base and target sizes at the start of a delta.
func deltaSizes(d []byte) (base, target, n int, err error) {
	var v [2]int
	for k := range v {
		shift := 0
		for {
			if n >= len(d) || shift > 56 {
				return 0, 0, 0, errors.New("bad delta header")
			}
			c := d[n]
			n++
			v[k] |= int(c&0x7f) << shift
			shift += 7
			if c&0x80 == 0 {
				break
			}
		}
	}
	return v[0], v[1], n, nil
}

// applyDelta builds the target of delta d over base into out (of the
// target's length) and appends its instructions to ops.
func applyDelta(base, d, out []byte, start int, ops []deltaOp) ([]deltaOp, error) {
	dst := 0
	for i := start; i < len(d); {
		c := d[i]
		i++
		switch {
		case c&0x80 != 0:
			var off, n int
			for b := range 4 {
				if c&(1<<b) != 0 {
					if i >= len(d) {
						return ops, errors.New("delta copy truncated")
					}
					off |= int(d[i]) << (8 * b)
					i++
				}
			}
			for b := range 3 {
				if c&(0x10<<b) != 0 {
					if i >= len(d) {
						return ops, errors.New("delta copy truncated")
					}
					n |= int(d[i]) << (8 * b)
					i++
				}
			}
			if n == 0 {
				n = 0x10000
			}
			if off+n > len(base) || dst+n > len(out) {
				return ops, errors.New("delta copy out of range")
			}
			copy(out[dst:], base[off:off+n])
			ops = append(ops, deltaOp{dst: dst, src: off, n: n})
			dst += n
		case c != 0:
			n := int(c)
			if i+n > len(d) || dst+n > len(out) {
				return ops, errors.New("delta insert out of range")
			}
			copy(out[dst:], d[i:i+n])
			ops = append(ops, deltaOp{dst: dst, n: n, insert: true})
			dst += n
			i += n
		default:
			return ops, errors.New("reserved delta instruction")
		}
	}
	if dst != len(out) {
		return ops, fmt.Errorf("delta builds %d bytes, declares %d", dst, len(out))
	}
	return ops, nil
}

// objectStore describes a repository's object directory for the pack
// reader: its packs and loose object ids.
type objectStore struct {
	packs []*packFile
	loose []string
}

// openObjectStore opens the packs under dir (the repository's objects
// directory) and lists its loose objects. It returns errNoPackWalk for
// stores it leaves to git cat-file as a whole.
func openObjectStore(dir string) (*objectStore, error) {
	if fi, err := os.Stat(filepath.Join(dir, "info", "alternates")); err == nil && fi.Size() > 0 {
		return nil, fmt.Errorf("%w: alternates", errNoPackWalk)
	}
	if os.Getenv("GIT_ALTERNATE_OBJECT_DIRECTORIES") != "" {
		return nil, fmt.Errorf("%w: alternates", errNoPackWalk)
	}
	st := &objectStore{}
	idxs, _ := filepath.Glob(filepath.Join(dir, "pack", "*.idx"))
	slices.Sort(idxs)
	for _, ix := range idxs {
		if _, err := os.Stat(strings.TrimSuffix(ix, ".idx") + ".pack"); err != nil {
			continue // an index without its pack: being written or removed
		}
		p, err := openPack(ix)
		if err != nil {
			st.close()
			return nil, err
		}
		st.packs = append(st.packs, p)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		st.close()
		return nil, err
	}
	for _, e := range ents {
		if !e.IsDir() || len(e.Name()) != 2 || !isHex(e.Name()) {
			continue
		}
		sub, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		for _, f := range sub {
			if len(f.Name()) == 38 && isHex(f.Name()) {
				st.loose = append(st.loose, e.Name()+f.Name())
			}
		}
	}
	return st, nil
}

func (st *objectStore) close() {
	for _, p := range st.packs {
		p.close()
	}
}

func isHex(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
