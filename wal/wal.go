// Package wal is keywatch's write-ahead log: the durable queue between the
// HTTP ingest endpoint and detection.
//
// The contract is "accepted means durable". Append returns only after the
// record has been written and fsynced, so an HTTP handler that answers 2xx
// after Append succeeds never loses an acknowledged batch to a crash, kill -9
// or power loss. A Reader never sees a record before it is durable, and a
// consumer that checkpoints Record.Next atomically with its own effects and
// resumes with Reader(checkpoint) processes every record exactly once across
// restarts.
//
// On disk the log is a directory of segment files named by sequence number
// (%020d.wal). Each record is framed with its length and a CRC-32C. Open
// verifies every record and truncates a torn tail of the last segment, which
// is what a crash in the middle of a write leaves behind; a bad record in
// any earlier segment is reported as an error because records after it were
// acknowledged.
//
// Concurrent Appends are group-committed: one goroutine writes and fsyncs
// everything queued since its previous fsync, so many callers share one
// fsync.
package wal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	// ErrFull is returned by Append when the bytes appended but not yet
	// released exceed Options.MaxPending. The caller should shed load, for
	// example with 503 and Retry-After, until the consumer catches up.
	ErrFull = errors.New("wal: log full")
	// ErrClosed is returned by operations on a closed Log.
	ErrClosed = errors.New("wal: log closed")
	// ErrReleased is wrapped by errors about positions in segments that
	// Release has deleted.
	ErrReleased = errors.New("wal: position released")
	// ErrTooLarge is returned by Append for records over MaxRecord bytes.
	ErrTooLarge = errors.New("wal: record too large")
)

// Options configures a Log. The zero value of every field but Dir is
// replaced by its default.
type Options struct {
	// Dir holds the segment files. It is created if missing. Only one Log
	// may have a directory open at a time; Open does not lock it.
	Dir string
	// SegmentSize is the size at which a new segment is started; 64 MiB by
	// default. A record larger than SegmentSize gets a segment of its own.
	SegmentSize int64
	// MaxPending bounds the bytes appended but not yet released, including
	// everything found by Open; 256 MiB by default.
	MaxPending int64
	// SyncDelay is how long the writer waits after the first queued
	// Append before writing, to gather more callers into one fsync. Zero
	// syncs as soon as the writer is free, which already batches every
	// Append that arrives during the previous fsync.
	SyncDelay time.Duration
	// NoSync skips every fsync. The log then survives a process crash but
	// not a power loss. For tests and benchmarks only.
	NoSync bool

	// syncFile replaces (*os.File).Sync; tests use it to count fsyncs.
	syncFile func(*os.File) error
}

const (
	defaultSegmentSize = 64 << 20
	defaultMaxPending  = 256 << 20
	// maxKeptBuf caps the batch buffer kept for reuse after a flush.
	maxKeptBuf = 4 << 20
)

// Pos is the position of a record: the segment's sequence number and the
// byte offset of the record in it. Positions compare in log order with
// Compare; the zero Pos means the oldest record still in the log.
type Pos struct {
	Segment uint64
	Offset  int64
}

// Compare returns -1, 0 or +1 as p is before, equal to or after q.
func (p Pos) Compare(q Pos) int {
	switch {
	case p.Segment < q.Segment:
		return -1
	case p.Segment > q.Segment:
		return 1
	case p.Offset < q.Offset:
		return -1
	case p.Offset > q.Offset:
		return 1
	}
	return 0
}

// String returns "segment:offset".
func (p Pos) String() string {
	return strconv.FormatUint(p.Segment, 10) + ":" + strconv.FormatInt(p.Offset, 10)
}

// MarshalText encodes p as "segment:offset" for storage in a checkpoint.
func (p Pos) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText decodes the form written by MarshalText.
func (p *Pos) UnmarshalText(b []byte) error {
	seg, off, ok := strings.Cut(string(b), ":")
	s, err1 := strconv.ParseUint(seg, 10, 64)
	o, err2 := strconv.ParseInt(off, 10, 64)
	if !ok || err1 != nil || err2 != nil || o < 0 {
		return fmt.Errorf("wal: parse position %q: want segment:offset", b)
	}
	*p = Pos{Segment: s, Offset: o}
	return nil
}

// Recovery describes what Open found on disk.
type Recovery struct {
	// Segments and Records count what was kept; Bytes is their total size.
	Segments int
	Records  int64
	Bytes    int64
	// Dropped is the number of bytes truncated from the end of the last
	// segment, and Cause describes the first of them. Dropped records were
	// never acknowledged: a crash interrupted their write.
	Dropped int64
	Cause   *CorruptError
}

// segment is the in-memory account of one segment file.
type segment struct {
	seq  uint64
	size int64 // bytes assigned to the segment, durable or queued
}

// chunk is the part of a batch bound for one segment.
type chunk struct {
	seq uint64
	buf []byte
}

// batch is a group of Appends written and fsynced together.
type batch struct {
	chunks []chunk
	end    Pos           // the log's tail after this batch
	done   chan struct{} // closed once the batch is durable or failed
	err    error         // set before done is closed
	one    [1]chunk      // backing array for the common single-chunk batch
}

func newBatch() *batch {
	b := &batch{done: make(chan struct{})}
	b.chunks = b.one[:0]
	return b
}

// A Log is a segmented write-ahead log. All methods are safe for concurrent
// use.
type Log struct {
	opt      Options
	recovery Recovery
	kick     chan struct{} // wakes the writer; capacity 1
	closing  chan struct{} // closed by Close
	stopped  chan struct{} // closed when the writer exits
	relMu    sync.Mutex    // serialises Release

	// Owned by the writer goroutine.
	f    *os.File
	fseq uint64

	mu       sync.Mutex
	closed   bool
	err      error         // sticky write or fsync failure
	segs     []segment     // retained segments, ascending and consecutive
	tail     Pos           // end of everything appended, durable or not
	durable  Pos           // end of everything fsynced
	released Pos           // Release point; bytes before it are not pending
	pending  int64         // bytes between released and tail
	fill     *batch        // batch collecting Appends
	notify   chan struct{} // closed and replaced when durable advances
	spare    [][]byte      // buffers for reuse
}

// Open opens or creates the log in opt.Dir and recovers it: every record is
// verified, and a torn or corrupt tail of the last segment is truncated and
// reported by Recovery. A bad record in an earlier segment, or one followed
// by a valid record, is damage to acknowledged data rather than a torn
// write: Open then fails with a *CorruptError naming the file and offset.
func Open(opt Options) (*Log, error) {
	if opt.Dir == "" {
		return nil, errors.New("wal: open: Options.Dir is empty")
	}
	if opt.SegmentSize <= 0 {
		opt.SegmentSize = defaultSegmentSize
	}
	if opt.MaxPending <= 0 {
		opt.MaxPending = defaultMaxPending
	}
	if opt.syncFile == nil {
		opt.syncFile = (*os.File).Sync
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: open %s: %w", opt.Dir, err)
	}
	l := &Log{
		opt:     opt,
		kick:    make(chan struct{}, 1),
		closing: make(chan struct{}),
		stopped: make(chan struct{}),
		fill:    newBatch(),
		notify:  make(chan struct{}),
	}
	if err := l.recover(); err != nil {
		return nil, err
	}
	go l.run()
	return l, nil
}

// recover scans the segments, truncates a torn tail and opens the last
// segment for appending.
func (l *Log) recover() error {
	dir := l.opt.Dir
	seqs, err := listSegments(dir)
	if err != nil {
		return err
	}
	if len(seqs) == 0 {
		seqs = []uint64{1}
		if err := l.createSegment(1); err != nil {
			return err
		}
	}
	for i, seq := range seqs {
		path := filepath.Join(dir, segmentName(seq))
		res, err := scanSegment(path)
		if err != nil {
			return err
		}
		last := i == len(seqs)-1
		if res.bad != nil && (!last || res.validAfter) {
			return res.bad
		}
		if res.bad != nil {
			if err := l.truncate(path, res.valid); err != nil {
				return err
			}
			l.recovery.Dropped = res.size - res.valid
			l.recovery.Cause = res.bad
		}
		l.segs = append(l.segs, segment{seq: seq, size: res.valid})
		l.recovery.Records += res.records
		l.recovery.Bytes += res.valid
		l.pending += res.valid
	}
	l.recovery.Segments = len(l.segs)
	last := l.segs[len(l.segs)-1]
	l.tail = Pos{Segment: last.seq, Offset: last.size}
	l.durable = l.tail
	l.released = Pos{Segment: l.segs[0].seq}
	if l.f == nil {
		path := filepath.Join(dir, segmentName(last.seq))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("wal: open segment %s: %w", path, err)
		}
		l.f, l.fseq = f, last.seq
	}
	return nil
}

// truncate cuts the segment at path to size bytes and syncs it.
func (l *Log) truncate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("wal: open segment %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("wal: truncate segment %s to %d bytes: %w", path, size, err)
	}
	if err := l.sync(f); err != nil {
		return err
	}
	return nil
}

// createSegment creates segment seq, makes it the write target and syncs
// the directory so the new file survives a crash.
func (l *Log) createSegment(seq uint64) error {
	path := filepath.Join(l.opt.Dir, segmentName(seq))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("wal: create segment %s: %w", path, err)
	}
	if !l.opt.NoSync {
		if err := syncDir(l.opt.Dir); err != nil {
			f.Close()
			return err
		}
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f, l.fseq = f, seq
	return nil
}

func (l *Log) sync(f *os.File) error {
	if l.opt.NoSync {
		return nil
	}
	if err := l.opt.syncFile(f); err != nil {
		return fmt.Errorf("wal: sync segment %s: %w", f.Name(), err)
	}
	return nil
}

// Recovery reports what Open found and dropped.
func (l *Log) Recovery() Recovery { return l.recovery }

// Append adds rec to the log and returns its position once it is durable:
// written and fsynced (unless NoSync). Append copies rec, so the caller may
// reuse it as soon as Append returns. Concurrent Appends are written and
// fsynced together, in the order they took their positions.
//
// Append returns ErrFull without queueing rec when the pending bytes would
// exceed MaxPending, and ErrTooLarge for records over MaxRecord. If ctx is
// done before the record is durable Append returns ctx.Err(); the record
// may still become durable, so the caller must treat it as unacknowledged
// and consumers must tolerate a client's retry. After a write or fsync
// failure every Append fails with that error: the log must be reopened.
func (l *Log) Append(ctx context.Context, rec []byte) (Pos, error) {
	if len(rec) > MaxRecord {
		return Pos{}, fmt.Errorf("wal: append %d bytes: %w", len(rec), ErrTooLarge)
	}
	if err := ctx.Err(); err != nil {
		return Pos{}, err
	}
	n := int64(headerSize + len(rec))
	l.mu.Lock()
	switch {
	case l.closed:
		l.mu.Unlock()
		return Pos{}, ErrClosed
	case l.err != nil:
		err := l.err
		l.mu.Unlock()
		return Pos{}, err
	case l.pending+n > l.opt.MaxPending:
		l.mu.Unlock()
		return Pos{}, ErrFull
	}
	if l.tail.Offset > 0 && l.tail.Offset+n > l.opt.SegmentSize {
		l.tail = Pos{Segment: l.tail.Segment + 1}
		l.segs = append(l.segs, segment{seq: l.tail.Segment})
	}
	pos := l.tail
	b := l.fill
	if len(b.chunks) == 0 || b.chunks[len(b.chunks)-1].seq != pos.Segment {
		var buf []byte
		if k := len(l.spare); k > 0 {
			buf, l.spare = l.spare[k-1][:0], l.spare[:k-1]
		}
		b.chunks = append(b.chunks, chunk{seq: pos.Segment, buf: buf})
	}
	c := &b.chunks[len(b.chunks)-1]
	c.buf = appendFrame(c.buf, rec)
	l.tail.Offset += n
	l.segs[len(l.segs)-1].size += n
	l.pending += n
	b.end = l.tail
	l.mu.Unlock()

	select {
	case l.kick <- struct{}{}:
	default:
	}
	select {
	case <-b.done:
		if b.err != nil {
			return Pos{}, b.err
		}
		return pos, nil
	case <-ctx.Done():
		return Pos{}, ctx.Err()
	}
}

// run is the writer goroutine: it takes the batch collected so far, writes
// and fsyncs it, publishes the new durable end and wakes its Appends.
func (l *Log) run() {
	defer close(l.stopped)
	for {
		l.mu.Lock()
		empty, closed := len(l.fill.chunks) == 0, l.closed
		l.mu.Unlock()
		if empty {
			if closed {
				return
			}
			<-l.kick
			continue
		}
		if l.opt.SyncDelay > 0 && !closed {
			t := time.NewTimer(l.opt.SyncDelay)
			select {
			case <-t.C:
			case <-l.closing:
				t.Stop()
			}
		}
		l.mu.Lock()
		b := l.fill
		l.fill = newBatch()
		werr := l.err
		l.mu.Unlock()

		if werr == nil {
			werr = l.write(b)
		}

		l.mu.Lock()
		if werr != nil {
			if l.err == nil {
				l.err = werr
			}
		} else {
			l.durable = b.end
			close(l.notify)
			l.notify = make(chan struct{})
		}
		for _, c := range b.chunks {
			if cap(c.buf) <= maxKeptBuf && len(l.spare) < 4 {
				l.spare = append(l.spare, c.buf[:0])
			}
		}
		l.mu.Unlock()
		b.err = werr
		close(b.done)
	}
}

// write writes a batch, starting new segments where its chunks say so, and
// fsyncs every segment it wrote to.
func (l *Log) write(b *batch) error {
	for i, c := range b.chunks {
		if c.seq != l.fseq {
			if i > 0 {
				if err := l.sync(l.f); err != nil {
					return err
				}
			}
			if err := l.createSegment(c.seq); err != nil {
				return err
			}
		}
		if _, err := l.f.Write(c.buf); err != nil {
			return fmt.Errorf("wal: write %d bytes to segment %s: %w", len(c.buf), l.f.Name(), err)
		}
	}
	return l.sync(l.f)
}

// Reader returns a Reader positioned at from, which should be the zero Pos
// (the oldest retained record) or a Record.Next returned earlier.
func (l *Log) Reader(from Pos) *Reader {
	return &Reader{l: l, pos: from}
}

// Release declares that the consumer has durably checkpointed every record
// before upTo, usually a Record.Next. The bytes before upTo stop counting
// against MaxPending and every segment that ends before upTo's segment is
// deleted. Releasing a position at or before an earlier one does nothing;
// releasing beyond the durable end is an error.
func (l *Log) Release(upTo Pos) error {
	l.relMu.Lock()
	defer l.relMu.Unlock()

	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	if upTo.Compare(l.durable) > 0 {
		l.mu.Unlock()
		return fmt.Errorf("wal: release %v: beyond durable end %v", upTo, l.durable)
	}
	if upTo.Compare(l.released) <= 0 {
		l.mu.Unlock()
		return nil
	}
	if s := l.segs[upTo.Segment-l.segs[0].seq]; upTo.Offset > s.size {
		l.mu.Unlock()
		return fmt.Errorf("wal: release %v: beyond end of segment %s (%d bytes)", upTo, segmentName(s.seq), s.size)
	}
	freed := -l.released.Offset
	var del []uint64
	for l.segs[0].seq < upTo.Segment {
		freed += l.segs[0].size
		del = append(del, l.segs[0].seq)
		l.segs = l.segs[1:]
	}
	freed += upTo.Offset
	l.pending -= freed
	l.released = upTo
	l.mu.Unlock()

	if len(del) == 0 {
		return nil
	}
	var errs []error
	for _, seq := range del {
		path := filepath.Join(l.opt.Dir, segmentName(seq))
		if err := os.Remove(path); err != nil {
			errs = append(errs, fmt.Errorf("wal: delete segment %s: %w", path, err))
		}
	}
	if !l.opt.NoSync {
		if err := syncDir(l.opt.Dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Pending returns the bytes appended but not yet released.
func (l *Log) Pending() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pending
}

// End returns the position after the last durable record.
func (l *Log) End() Pos {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.durable
}

// Close waits for queued Appends to become durable, stops the writer and
// closes the files. Readers blocked in Next return ErrClosed. Close is
// idempotent.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.stopped
		return nil
	}
	l.closed = true
	close(l.closing)
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	<-l.stopped
	l.mu.Lock()
	err := l.err
	l.mu.Unlock()
	if cerr := l.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("wal: close segment %s: %w", l.f.Name(), cerr)
	}
	return err
}
