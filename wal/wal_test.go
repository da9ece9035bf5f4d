package wal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keywatch/keywatch/wal"
)

// payload returns the deterministic record number i.
func payload(i int) []byte {
	return fmt.Appendf(nil, "record-%06d-%s", i, bytes.Repeat([]byte{byte('a' + i%26)}, i%97))
}

func open(t testing.TB, opt wal.Options) *wal.Log {
	t.Helper()
	l, err := wal.Open(opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func appendN(t testing.TB, l *wal.Log, from, n int) []wal.Pos {
	t.Helper()
	var ps []wal.Pos
	for i := from; i < from+n; i++ {
		p, err := l.Append(context.Background(), payload(i))
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		ps = append(ps, p)
	}
	return ps
}

// readAll returns every durable record from the start of the log.
func readAll(t testing.TB, l *wal.Log) []wal.Record {
	t.Helper()
	r := l.Reader(wal.Pos{})
	defer r.Close()
	var recs []wal.Record
	for r.Pos() != l.End() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		rec, err := r.Next(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Next at %v: %v", r.Pos(), err)
		}
		rec.Data = bytes.Clone(rec.Data)
		recs = append(recs, rec)
	}
	return recs
}

func checkRecords(t testing.TB, recs []wal.Record, n int) {
	t.Helper()
	if len(recs) != n {
		t.Fatalf("got %d records, want %d", len(recs), n)
	}
	for i, rec := range recs {
		if !bytes.Equal(rec.Data, payload(i)) {
			t.Fatalf("record %d at %v = %q, want %q", i, rec.Pos, rec.Data, payload(i))
		}
	}
}

func TestAppendReopenRead(t *testing.T) {
	dir := t.TempDir()
	opt := wal.Options{Dir: dir, SegmentSize: 1 << 10}
	l := open(t, opt)
	ps := appendN(t, l, 0, 100)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = open(t, opt)
	defer l.Close()
	if rec := l.Recovery(); rec.Records != 100 || rec.Dropped != 0 || rec.Segments < 2 {
		t.Fatalf("Recovery = %+v, want 100 records over several segments, nothing dropped", rec)
	}
	recs := readAll(t, l)
	checkRecords(t, recs, 100)
	for i, rec := range recs {
		if rec.Pos != ps[i] {
			t.Fatalf("record %d at %v, Append returned %v", i, rec.Pos, ps[i])
		}
	}
	// A reader started mid-log sees the rest.
	r := l.Reader(recs[50].Pos)
	rec, err := r.Next(context.Background())
	if err != nil || !bytes.Equal(rec.Data, payload(50)) {
		t.Fatalf("Next from %v = %q, %v", recs[50].Pos, rec.Data, err)
	}
	r.Close()
}

func TestAppendErrors(t *testing.T) {
	l := open(t, wal.Options{Dir: t.TempDir()})
	if _, err := l.Append(context.Background(), make([]byte, wal.MaxRecord+1)); !errors.Is(err, wal.ErrTooLarge) {
		t.Errorf("oversized Append: %v, want ErrTooLarge", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Append(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Append with cancelled ctx: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), []byte("x")); !errors.Is(err, wal.ErrClosed) {
		t.Errorf("Append after Close: %v, want ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestSyncFailureIsSticky(t *testing.T) {
	var fail atomic.Bool
	boom := errors.New("disk on fire")
	opt := wal.WithSyncHook(wal.Options{Dir: t.TempDir()}, func(f *os.File) error {
		if fail.Load() {
			return boom
		}
		return f.Sync()
	})
	l := open(t, opt)
	appendN(t, l, 0, 3)
	fail.Store(true)
	if _, err := l.Append(context.Background(), payload(3)); !errors.Is(err, boom) {
		t.Fatalf("Append with failing fsync: %v, want %v", err, boom)
	}
	fail.Store(false)
	if _, err := l.Append(context.Background(), payload(4)); !errors.Is(err, boom) {
		t.Fatalf("Append after fsync failure: %v, want sticky %v", err, boom)
	}
	if err := l.Close(); !errors.Is(err, boom) {
		t.Fatalf("Close: %v, want %v", err, boom)
	}
}

// lastSegment returns the path of the highest-numbered segment in dir.
func lastSegment(t testing.TB, dir string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no segments in %s: %v", dir, err)
	}
	return m[len(m)-1]
}

func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestCrashRecovery simulates a crash at every byte of the last record:
// the file is cut there (a torn write) or has that byte flipped. Open must
// keep every earlier record, report the loss and accept new appends.
func TestCrashRecovery(t *testing.T) {
	const n = 20
	base := t.TempDir()
	opt := wal.Options{Dir: base, SegmentSize: 512}
	l := open(t, opt)
	ps := appendN(t, l, 0, n)
	end := l.End()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	last := ps[n-1]
	if last.Segment != end.Segment {
		t.Fatalf("last record %v not in last segment %v", last, end)
	}
	for _, mode := range []string{"truncate", "corrupt"} {
		for off := last.Offset; off < end.Offset; off++ {
			t.Run(fmt.Sprintf("%s/%d", mode, off-last.Offset), func(t *testing.T) {
				dir := copyDir(t, base)
				seg := lastSegment(t, dir)
				switch mode {
				case "truncate":
					if err := os.Truncate(seg, off); err != nil {
						t.Fatal(err)
					}
				case "corrupt":
					b, err := os.ReadFile(seg)
					if err != nil {
						t.Fatal(err)
					}
					b[off] ^= 0x01
					if err := os.WriteFile(seg, b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				o := opt
				o.Dir = dir
				l := open(t, o)
				rec := l.Recovery()
				wantDropped := off - last.Offset
				if mode == "corrupt" {
					wantDropped = end.Offset - last.Offset
				}
				if rec.Records != n-1 || rec.Dropped != wantDropped {
					t.Fatalf("Recovery = %+v, want %d records and %d bytes dropped", rec, n-1, wantDropped)
				}
				if wantDropped > 0 && (rec.Cause == nil || rec.Cause.File != seg || rec.Cause.Offset != last.Offset) {
					t.Fatalf("Recovery.Cause = %v, want %s at offset %d", rec.Cause, seg, last.Offset)
				}
				if l.End() != last {
					t.Fatalf("End = %v, want %v", l.End(), last)
				}
				appendN(t, l, n-1, 1)
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				l = open(t, o)
				defer l.Close()
				checkRecords(t, readAll(t, l), n)
			})
		}
	}
}

// TestCorruptSealedSegment checks that damage outside the tail is an error
// naming the file and offset rather than a silent truncation.
func TestCorruptSealedSegment(t *testing.T) {
	dir := t.TempDir()
	opt := wal.Options{Dir: dir, SegmentSize: 256}
	l := open(t, opt)
	ps := appendN(t, l, 0, 30)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	seg := filepath.Join(dir, fmt.Sprintf("%020d.wal", ps[0].Segment))
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	b[ps[1].Offset+wal.HeaderSize] ^= 0xff
	if err := os.WriteFile(seg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = wal.Open(opt)
	var ce *wal.CorruptError
	if !errors.As(err, &ce) || ce.File != seg || ce.Offset != ps[1].Offset {
		t.Fatalf("Open = %v, want CorruptError in %s at %d", err, seg, ps[1].Offset)
	}
	// A missing middle segment is an error too: it held acknowledged records.
	if err := os.Remove(filepath.Join(dir, fmt.Sprintf("%020d.wal", ps[0].Segment+1))); err != nil {
		t.Fatal(err)
	}
	if _, err := wal.Open(opt); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Open with a missing middle segment: %v, want error", err)
	}
}

// TestCorruptMiddleOfLastSegment checks that a bad record followed by good
// ones fails Open instead of truncating acknowledged records.
func TestCorruptMiddleOfLastSegment(t *testing.T) {
	dir := t.TempDir()
	opt := wal.Options{Dir: dir}
	l := open(t, opt)
	ps := appendN(t, l, 0, 20)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	seg := lastSegment(t, dir)
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	b[ps[10].Offset+wal.HeaderSize+3] ^= 0x40
	if err := os.WriteFile(seg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = wal.Open(opt)
	var ce *wal.CorruptError
	if !errors.As(err, &ce) || ce.File != seg || ce.Offset != ps[10].Offset {
		t.Fatalf("Open = %v, want CorruptError in %s at %d", err, seg, ps[10].Offset)
	}
}

// TestGroupCommit checks that concurrent Appends share fsyncs.
func TestGroupCommit(t *testing.T) {
	const writers, each = 32, 20
	var syncs atomic.Int64
	opt := wal.WithSyncHook(wal.Options{Dir: t.TempDir(), SegmentSize: 16 << 10}, func(f *os.File) error {
		syncs.Add(1)
		time.Sleep(2 * time.Millisecond) // a slow disk makes batching visible
		return f.Sync()
	})
	l := open(t, opt)
	defer l.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[wal.Pos]bool{}
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				p, err := l.Append(context.Background(), payload(w*each+i))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[p] {
					t.Errorf("position %v returned twice", p)
				}
				seen[p] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if got := len(readAll(t, l)); got != writers*each {
		t.Fatalf("read %d records, want %d", got, writers*each)
	}
	s := syncs.Load()
	t.Logf("%d appends, %d fsyncs", writers*each, s)
	if s*4 > writers*each {
		t.Fatalf("%d fsyncs for %d appends: group commit is not batching", s, writers*each)
	}
}

// TestReaderTails reads while writers append and checks order, that every
// record is returned once and that nothing is seen before it is durable.
func TestReaderTails(t *testing.T) {
	const writers, each = 4, 200
	opt := wal.Options{Dir: t.TempDir(), SegmentSize: 4 << 10, SyncDelay: 100 * time.Microsecond}
	l := open(t, opt)
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		r := l.Reader(wal.Pos{})
		defer r.Close()
		seen := map[string]bool{}
		prev := wal.Pos{}
		for len(seen) < writers*each {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			rec, err := r.Next(ctx)
			cancel()
			if err != nil {
				done <- err
				return
			}
			if rec.Next.Compare(l.End()) > 0 {
				done <- fmt.Errorf("record at %v returned before durable end %v", rec.Pos, l.End())
				return
			}
			if rec.Pos.Compare(prev) < 0 || seen[string(rec.Data)] {
				done <- fmt.Errorf("record %q at %v out of order or repeated", rec.Data, rec.Pos)
				return
			}
			prev = rec.Pos
			seen[string(rec.Data)] = true
		}
		done <- nil
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := l.Append(context.Background(), payload(w*each+i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestReaderBlocksUntilCloseOrCancel(t *testing.T) {
	l := open(t, wal.Options{Dir: t.TempDir()})
	r := l.Reader(wal.Pos{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next on empty log: %v, want deadline exceeded", err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := r.Next(context.Background())
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	l.Close()
	if err := <-errc; !errors.Is(err, wal.ErrClosed) {
		t.Fatalf("Next across Close: %v, want ErrClosed", err)
	}
}

func TestReleaseDeletesSegments(t *testing.T) {
	dir := t.TempDir()
	opt := wal.Options{Dir: dir, SegmentSize: 512}
	l := open(t, opt)
	appendN(t, l, 0, 100)
	recs := readAll(t, l)
	before, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
	pending := l.Pending()
	mid := recs[60]
	if err := l.Release(mid.Pos); err != nil {
		t.Fatal(err)
	}
	after, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
	if want := len(before) - int(mid.Pos.Segment-recs[0].Pos.Segment); len(after) != want {
		t.Fatalf("%d segments after Release(%v), want %d of %d", len(after), mid.Pos, want, len(before))
	}
	if freed := pending - l.Pending(); freed != recs[60].Pos.Offset+sizeBefore(recs, mid.Pos.Segment) {
		t.Fatalf("Release freed %d bytes", freed)
	}
	// Releasing backwards does nothing; beyond the end is an error.
	if err := l.Release(recs[1].Pos); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(wal.Pos{Segment: l.End().Segment + 1}); err == nil {
		t.Fatal("Release beyond the end succeeded")
	}
	// A reader in a deleted segment gets ErrReleased.
	r := l.Reader(recs[0].Pos)
	if _, err := r.Next(context.Background()); !errors.Is(err, wal.ErrReleased) {
		t.Fatalf("Next in deleted segment: %v, want ErrReleased", err)
	}
	// Reopen: the zero Pos starts at the oldest retained record.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = open(t, opt)
	defer l.Close()
	got := readAll(t, l)
	if want := recs[len(recs)-len(got)]; got[0].Pos != want.Pos || !bytes.Equal(got[0].Data, want.Data) {
		t.Fatalf("after reopen first record %v, want %v", got[0].Pos, want.Pos)
	}
	if err := l.Release(l.End()); err != nil {
		t.Fatal(err)
	}
	if l.Pending() != 0 {
		t.Fatalf("Pending = %d after releasing everything", l.Pending())
	}
}

// sizeBefore sums the sizes of the segments before seg from their records.
func sizeBefore(recs []wal.Record, seg uint64) int64 {
	var n int64
	for _, r := range recs {
		if r.Pos.Segment < seg {
			n += r.Next.Offset - r.Pos.Offset
		}
	}
	return n
}

func TestErrFullBackPressure(t *testing.T) {
	rec := make([]byte, 1000)
	l := open(t, wal.Options{Dir: t.TempDir(), SegmentSize: 4096, MaxPending: 10 * (1000 + wal.HeaderSize)})
	defer l.Close()
	var last wal.Pos
	for i := range 10 {
		p, err := l.Append(context.Background(), rec)
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		last = p
	}
	if _, err := l.Append(context.Background(), rec); !errors.Is(err, wal.ErrFull) {
		t.Fatalf("Append over MaxPending: %v, want ErrFull", err)
	}
	if err := l.Release(last); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), rec); err != nil {
		t.Fatalf("Append after Release: %v", err)
	}
}
