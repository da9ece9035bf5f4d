package scan

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
)

// Archives are recognised by their first bytes, not their names: a jar,
// a wheel or an .apk is a zip, a .tgz a gzip stream holding a tar, and CI
// artifacts are often renamed. Members are scanned as files of their own,
// named "archive!member", and may be archives in turn, down to
// SourceOptions.MaxDepth levels. Everything is streamed except zip
// archives, which need random access: on disk they are read in place, and
// nested in another archive they are read into memory when no larger than
// MaxFileSize. Declared sizes are not trusted to bound memory: archive/zip
// and archive/tar stop a member at its declared size, and a gzip stream of
// unknown size is only ever read whole up to MaxFileSize.

// archiveKind is a container format recognised by its magic bytes.
type archiveKind uint8

const (
	notArchive archiveKind = iota
	zipArchive
	gzipArchive
	tarArchive
)

// sniffLen is how many bytes sniff needs: a tar header's magic sits at 257.
const sniffLen = 512

// sniff recognises a container format from the first bytes of its content.
func sniff(head []byte) archiveKind {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return zipArchive
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b, 0x08}):
		return gzipArchive
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return tarArchive
	}
	return notArchive
}

// content scans it, opening it when it is an archive that is not too deep.
func (w *worker) content(it item) error {
	head := make([]byte, sniffLen)
	var n int
	var err error
	if it.ra != nil {
		n, err = it.ra.ReadAt(head, 0)
		if err == io.EOF {
			err = nil
		}
	} else {
		n, err = io.ReadFull(it.r, head)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = nil
		}
		it.r = io.MultiReader(bytes.NewReader(head[:n]), it.r)
	}
	if err != nil {
		w.c.skipped.Add(1)
		return fmt.Errorf("read %s: %w", it.name, err)
	}
	kind := sniff(head[:n])
	if kind == notArchive {
		return w.plain(it)
	}
	level := it.depth
	if kind == gzipArchive && it.gunzipd {
		level++ // gzip in gzip counts as a level
	}
	if w.opt.MaxDepth < 0 || level >= w.opt.MaxDepth {
		w.c.skipped.Add(1)
		return w.plain(it)
	}
	switch kind {
	case zipArchive:
		return w.zip(it)
	case gzipArchive:
		return w.gzip(it)
	default:
		return w.tar(it)
	}
}

// member returns the item for an archive member.
func (w *worker) member(it item, name string, r io.Reader, size int64) item {
	return item{name: it.name + "!" + name, r: r, size: size, depth: it.depth + 1}
}

// zip scans the members of a zip archive, or it as plain bytes when it is
// not a well-formed one or too large to hold in memory.
func (w *worker) zip(it item) error {
	ra, size := it.ra, it.size
	if ra == nil {
		if it.size > w.opt.MaxFileSize {
			w.c.skipped.Add(1)
			return w.plain(it)
		}
		b, rest, err := w.readWhole(it, w.opt.MaxFileSize)
		if err != nil {
			w.c.skipped.Add(1)
			return fmt.Errorf("read %s: %w", it.name, err)
		}
		if rest != nil {
			w.c.skipped.Add(1)
			it.r, it.size = rest, -1
			return w.plain(it)
		}
		ra, size = bytes.NewReader(b), int64(len(b))
		it.r = bytes.NewReader(b) // for the fallback below
		it.size = size
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		// Not a zip after all (or a damaged one): scan its bytes.
		return w.plain(it)
	}
	w.c.archives.Add(1)
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		msize := int64(-1)
		if f.UncompressedSize64 <= math.MaxInt64 {
			msize = int64(f.UncompressedSize64)
		}
		rc, err := f.Open()
		if err != nil {
			w.c.skipped.Add(1)
			w.c.fail(fmt.Errorf("open %s!%s: %w", it.name, f.Name, err))
			continue
		}
		err = w.content(w.member(it, f.Name, rc, msize))
		rc.Close()
		if err != nil {
			w.c.fail(err)
		}
	}
	return nil
}

// gzip scans the decompressed content of a gzip stream: a tar's members
// under the stream's name, anything else as the stream's own content.
func (w *worker) gzip(it item) error {
	zr, err := gzip.NewReader(it.r)
	if err != nil {
		if it.ra != nil {
			it.r = io.NewSectionReader(it.ra, 0, it.size)
			return w.plain(it)
		}
		w.c.skipped.Add(1)
		return fmt.Errorf("read gzip %s: %w", it.name, err)
	}
	defer zr.Close()
	w.c.archives.Add(1)
	depth := it.depth
	if it.gunzipd {
		depth++
	}
	return w.content(item{name: it.name, r: zr, size: -1, depth: depth, gunzipd: true})
}

// tar scans the regular files of a tar archive.
func (w *worker) tar(it item) error {
	if !it.gunzipd {
		w.c.archives.Add(1) // a .tar.gz is counted once, as its gzip layer
	}
	tr := tar.NewReader(it.r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar %s: %w", it.name, err)
		}
		if hdr.Typeflag != tar.TypeReg { // Next reports the old TypeRegA as TypeReg
			continue
		}
		if err := w.content(w.member(it, hdr.Name, tr, hdr.Size)); err != nil {
			w.c.fail(err)
		}
	}
}
