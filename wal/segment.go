package wal

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Record framing.
//
// Every record is stored as an 8-byte header followed by its payload:
//
//	offset 0: uint32 little-endian payload length
//	offset 4: uint32 little-endian CRC-32C (Castagnoli) of the 4 length bytes
//	          followed by the payload
//
// Covering the length with the checksum means a flipped bit in the length is
// detected rather than read as a plausible, shorter record. A run of zero
// bytes never decodes as a valid record because the CRC-32C of four zero
// bytes is not zero.
const (
	headerSize = 8

	// MaxRecord is the largest payload Append accepts.
	MaxRecord = 16 << 20

	segmentExt = ".wal"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameCRC returns the checksum stored in a record header.
func frameCRC(hdrLen []byte, payload []byte) uint32 {
	return crc32.Update(crc32.Update(0, castagnoli, hdrLen), castagnoli, payload)
}

// appendFrame appends the framed form of rec to dst.
func appendFrame(dst, rec []byte) []byte {
	var hdr [headerSize]byte
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(rec)))
	binary.LittleEndian.PutUint32(hdr[4:8], frameCRC(hdr[0:4], rec))
	dst = append(dst, hdr[:]...)
	return append(dst, rec...)
}

// CorruptError reports a record that failed to decode: a torn or truncated
// tail, an impossible length or a checksum mismatch. File and Offset locate
// the start of the bad record.
type CorruptError struct {
	File   string
	Offset int64
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("wal: corrupt record in %s at offset %d: %s", e.File, e.Offset, e.Reason)
}

// decodeFrame decodes the record at the start of b. It returns the payload
// and the framed size, or a reason the bytes are not a complete, valid
// record. It never reads beyond b.
func decodeFrame(b []byte) (payload []byte, n int, reason string) {
	if len(b) < headerSize {
		return nil, 0, fmt.Sprintf("short header: %d of %d bytes", len(b), headerSize)
	}
	size := binary.LittleEndian.Uint32(b[0:4])
	if size > MaxRecord {
		return nil, 0, fmt.Sprintf("length %d exceeds maximum %d", size, MaxRecord)
	}
	if int64(len(b)-headerSize) < int64(size) {
		return nil, 0, fmt.Sprintf("short payload: %d of %d bytes", len(b)-headerSize, size)
	}
	payload = b[headerSize : headerSize+int(size)]
	if got, want := frameCRC(b[0:4], payload), binary.LittleEndian.Uint32(b[4:8]); got != want {
		return nil, 0, fmt.Sprintf("checksum mismatch: stored %08x, computed %08x", want, got)
	}
	return payload, headerSize + int(size), ""
}

// segmentName returns the file name of segment seq.
func segmentName(seq uint64) string {
	return fmt.Sprintf("%020d%s", seq, segmentExt)
}

// parseSegmentName reports the sequence number of a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	seq, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || seq == 0 {
		return 0, false
	}
	return seq, true
}

// listSegments returns the sequence numbers of the segment files in dir in
// ascending order. Other files are ignored. A gap in the sequence is an
// error: a missing middle segment means acknowledged records were lost.
func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: list segments in %s: %w", dir, err)
	}
	var seqs []uint64
	for _, e := range entries {
		if seq, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			return nil, fmt.Errorf("wal: segment %s missing between %s and %s in %s",
				segmentName(seqs[i-1]+1), segmentName(seqs[i-1]), segmentName(seqs[i]), dir)
		}
	}
	return seqs, nil
}

// scanResult describes one segment as found on disk.
type scanResult struct {
	valid   int64         // bytes of complete, valid records from the start
	size    int64         // file size
	records int64         // number of valid records
	bad     *CorruptError // first bad record at offset valid, if valid < size
	// validAfter reports a valid record just after bad, going by bad's
	// length field.
	validAfter bool
}

// validFrameNext reports whether br, with remain bytes left in the file,
// starts with a valid record.
func validFrameNext(br *bufio.Reader, remain int64) bool {
	hdr, err := br.Peek(int(min(remain, headerSize)))
	if err != nil || len(hdr) < headerSize {
		return false
	}
	size := int64(binary.LittleEndian.Uint32(hdr[0:4]))
	if size > MaxRecord || headerSize+size > remain {
		return false
	}
	buf := make([]byte, headerSize+size)
	if _, err := io.ReadFull(br, buf); err != nil {
		return false
	}
	_, _, reason := decodeFrame(buf)
	return reason == ""
}

// scanSegment reads the segment at path from the start and verifies every
// record. It stops at the first record that is incomplete or fails its
// checksum and reports it in bad; only I/O failures are returned as errors.
func scanSegment(path string) (scanResult, error) {
	var res scanResult
	f, err := os.Open(path)
	if err != nil {
		return res, fmt.Errorf("wal: open segment %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return res, fmt.Errorf("wal: stat segment %s: %w", path, err)
	}
	res.size = st.Size()
	br := bufio.NewReaderSize(f, 1<<20)
	var buf []byte
	for res.valid < res.size {
		remain := res.size - res.valid
		hdr, err := br.Peek(int(min(remain, headerSize)))
		if err != nil {
			return res, fmt.Errorf("wal: read segment %s at offset %d: %w", path, res.valid, err)
		}
		need := int64(headerSize)
		if len(hdr) == headerSize {
			if size := int64(binary.LittleEndian.Uint32(hdr[0:4])); size <= MaxRecord {
				need += size
			}
		}
		need = min(need, remain)
		if int64(cap(buf)) < need {
			buf = make([]byte, need)
		}
		buf = buf[:need]
		if _, err := io.ReadFull(br, buf); err != nil {
			return res, fmt.Errorf("wal: read segment %s at offset %d: %w", path, res.valid, err)
		}
		_, n, reason := decodeFrame(buf)
		if reason != "" {
			res.bad = &CorruptError{File: path, Offset: res.valid, Reason: reason}
			// A valid record right after the bad one means damage in the
			// middle of the segment, not a torn write at its end.
			res.validAfter = validFrameNext(br, remain-need)
			return res, nil
		}
		res.valid += int64(n)
		res.records++
	}
	return res, nil
}

// syncDir fsyncs a directory so that file creations and removals in it are
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("wal: open directory %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("wal: sync directory %s: %w", dir, err)
	}
	return nil
}

// Record is one record returned by Reader.Next.
type Record struct {
	// Pos is where the record starts.
	Pos Pos
	// Next is the position just after the record. A consumer that has
	// durably processed the record checkpoints Next, resumes with
	// Reader(Next) after a restart and passes Next to Release.
	Next Pos
	// Data is the payload. It is owned by the Reader and valid only until
	// the next call to Next.
	Data []byte
}

// A Reader iterates over the durable records of a Log in order. It never
// returns a record before Append has acknowledged it. A Reader is not safe
// for concurrent use; any number of Readers may run alongside the writers.
type Reader struct {
	l    *Log
	pos  Pos
	f    *os.File
	fseq uint64
	buf  []byte
}

// Next returns the record at the Reader's position and advances past it.
// When the Reader has caught up with the durable end of the log, Next blocks
// until a new record is acknowledged, ctx is done (returning ctx.Err()) or
// the Log is closed (returning ErrClosed). If the position lies in a segment
// already deleted by Release, Next returns an error wrapping ErrReleased.
func (r *Reader) Next(ctx context.Context) (Record, error) {
	for {
		limit, wait, err := r.bound()
		if err != nil {
			return Record{}, err
		}
		if wait != nil {
			select {
			case <-wait:
				continue
			case <-r.l.closing:
				return Record{}, ErrClosed
			case <-ctx.Done():
				return Record{}, ctx.Err()
			}
		}
		if r.pos.Offset >= limit {
			// End of a sealed segment: move to the next one.
			r.pos = Pos{Segment: r.pos.Segment + 1}
			continue
		}
		return r.read(limit)
	}
}

// bound returns how far the Reader may read in its current segment, or a
// channel to wait on when it has caught up with the durable end.
func (r *Reader) bound() (limit int64, wait <-chan struct{}, err error) {
	l := r.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, nil, ErrClosed
	}
	first := l.segs[0].seq
	if r.pos == (Pos{}) {
		r.pos = Pos{Segment: first}
	}
	switch {
	case r.pos.Segment < first:
		return 0, nil, fmt.Errorf("wal: read at %v: segment %s: %w", r.pos, segmentName(r.pos.Segment), ErrReleased)
	case r.pos.Compare(l.tail) > 0:
		return 0, nil, fmt.Errorf("wal: read at %v: beyond end of log %v", r.pos, l.tail)
	case r.pos.Segment < l.durable.Segment:
		return l.segs[r.pos.Segment-first].size, nil, nil
	case r.pos.Offset < l.durable.Offset && r.pos.Segment == l.durable.Segment:
		return l.durable.Offset, nil, nil
	}
	return 0, l.notify, nil
}

// read decodes the record at r.pos, which the caller has checked lies
// before limit in a durable part of the segment.
func (r *Reader) read(limit int64) (Record, error) {
	if r.f == nil || r.fseq != r.pos.Segment {
		if err := r.open(); err != nil {
			return Record{}, err
		}
	}
	name := r.f.Name()
	off := r.pos.Offset
	need := int64(headerSize)
	if limit-off < need {
		return Record{}, &CorruptError{File: name, Offset: off, Reason: fmt.Sprintf("short header: %d of %d bytes", limit-off, headerSize)}
	}
	if cap(r.buf) < headerSize {
		r.buf = make([]byte, headerSize, 64<<10)
	}
	if _, err := r.f.ReadAt(r.buf[:headerSize], off); err != nil {
		return Record{}, fmt.Errorf("wal: read %s at offset %d: %w", name, off, err)
	}
	if size := int64(binary.LittleEndian.Uint32(r.buf[0:4])); size <= MaxRecord {
		need += size
	}
	need = min(need, limit-off)
	if int64(cap(r.buf)) < need {
		r.buf = append(r.buf[:headerSize], make([]byte, need-headerSize)...)
	}
	r.buf = r.buf[:need]
	if need > headerSize {
		if _, err := r.f.ReadAt(r.buf[headerSize:], off+headerSize); err != nil {
			return Record{}, fmt.Errorf("wal: read %s at offset %d: %w", name, off+headerSize, err)
		}
	}
	payload, n, reason := decodeFrame(r.buf)
	if reason != "" {
		return Record{}, &CorruptError{File: name, Offset: off, Reason: reason}
	}
	rec := Record{Pos: r.pos, Data: payload}
	r.pos.Offset += int64(n)
	rec.Next = r.pos
	return rec, nil
}

func (r *Reader) open() error {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	path := filepath.Join(r.l.opt.Dir, segmentName(r.pos.Segment))
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("wal: read at %v: segment %s: %w", r.pos, path, ErrReleased)
	}
	if err != nil {
		return fmt.Errorf("wal: open segment %s: %w", path, err)
	}
	r.f, r.fseq = f, r.pos.Segment
	return nil
}

// Pos returns the position of the next record the Reader will return.
func (r *Reader) Pos() Pos { return r.pos }

// Close releases the Reader's open file. It does not affect the Log.
func (r *Reader) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
