package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sources: ScanPath walks a file or a directory tree and opens archives
// (source.go, archive.go); ScanGit and ScanStaged read a repository's
// object store through the git command (git.go). All of them scan content
// with the same Scanner, so a key is reported the same way wherever it
// sits, and all of them keep memory bounded: content larger than
// SourceOptions.MaxFileSize is streamed through ScanReader, never read whole.

// SourceOptions configure ScanPath and ScanGit. The zero value works.
type SourceOptions struct {
	// MaxDepth is how many levels of archives are opened: 1 opens the
	// archives found on disk but not archives inside them. 0 means 3;
	// negative scans archives as plain bytes. A gzip layer does not count
	// as a level of its own, so a .tar.gz is one level.
	MaxDepth int
	// MaxFileSize is the largest content held in memory at once; 0 means
	// 256 MiB. Larger files, archive members and git blobs are streamed
	// through ScanReader in ChunkSize pieces. A zip archive larger than this
	// nested inside another archive cannot be opened without holding it
	// whole, so it is scanned as plain bytes instead (and counted in
	// Skipped).
	MaxFileSize int64
	// Workers is how many files or blobs are scanned at once; 0 means
	// GOMAXPROCS.
	Workers int
	// Exclude lists glob patterns (path.Match syntax) of paths not to scan.
	// A pattern without a slash is matched against every element of the
	// path relative to the root (so "node_modules" or "*.min.js" work at any
	// depth); a pattern with a slash is matched against the whole relative
	// path, or any leading part of it. Excluded directories are not entered.
	// ScanPath applies them to paths on disk, ScanGit to the paths in
	// history (a blob is reported unless every path it appears at is
	// excluded).
	Exclude []string
	// CollapseHistory makes ScanGit report a key found at one path in many
	// versions of history once: the finding in its oldest version (line,
	// column, blob), with the commits of every version (Commits, oldest
	// first, at most MaxCommits; CommitCount counts them all). Without it
	// every blob's findings are reported, each with its own commits.
	CollapseHistory bool
	// Progress, when set, is called now and then (about every 200 ms) and
	// once at the end with the counts so far. Calls are serialised with
	// the emit callback, so it must not block for long.
	Progress func(SourceStats)
}

// SourceStats count what a source scan did.
type SourceStats struct {
	// Files counts files and archive members scanned as content; the
	// archives themselves are counted in Archives.
	Files int64
	// Blobs counts git blobs scanned.
	Blobs int64
	// Archives counts archives opened.
	Archives int64
	// Skipped counts what was not scanned: excluded paths, symlinks,
	// devices and other special files, unreadable files, and archives too
	// deep or too large to open (scanned as plain bytes instead).
	Skipped int64
	// Bytes counts the bytes scanned, after decompression.
	Bytes int64
}

const (
	defaultMaxDepth    = 3
	defaultMaxFileSize = 256 << 20
	// wholeLimit is the largest file or member read whole and scanned with
	// ScanBytes; larger ones go through ScanReader, whose buffer would cost
	// more than the file for small ones.
	wholeLimit = 4 << 20
	// maxErrors bounds the per-file errors a source scan returns.
	maxErrors = 20
)

func (o SourceOptions) withDefaults() SourceOptions {
	if o.MaxDepth == 0 {
		o.MaxDepth = defaultMaxDepth
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = defaultMaxFileSize
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

// validateExclude reports the first malformed pattern.
func validateExclude(pats []string) error {
	for _, p := range pats {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("exclude pattern %q: %w", p, err)
		}
	}
	return nil
}

// excluded reports whether rel (slash-separated, relative to the root)
// matches one of pats (see SourceOptions.Exclude).
func excluded(pats []string, rel string) bool {
	if len(pats) == 0 || rel == "." || rel == "" {
		return false
	}
	for _, p := range pats {
		if strings.Contains(p, "/") {
			p = strings.TrimPrefix(p, "./")
			for prefix := rel; ; {
				if ok, _ := path.Match(p, prefix); ok {
					return true
				}
				i := strings.LastIndexByte(prefix, '/')
				if i < 0 {
					break
				}
				prefix = prefix[:i]
			}
			continue
		}
		for _, elem := range strings.Split(rel, "/") {
			if ok, _ := path.Match(p, elem); ok {
				return true
			}
		}
	}
	return false
}

// collector serialises emit and Progress calls from parallel workers,
// keeps the counts and gathers per-file errors.
type collector struct {
	mu       sync.Mutex
	emit     func(Finding)
	progress func(SourceStats)
	last     time.Time

	files, blobs, archives, skipped, bytes atomic.Int64

	errs    []error
	dropped int
}

func newCollector(emit func(Finding), progress func(SourceStats)) *collector {
	return &collector{emit: emit, progress: progress, last: time.Now()}
}

func (c *collector) stats() SourceStats {
	return SourceStats{
		Files:    c.files.Load(),
		Blobs:    c.blobs.Load(),
		Archives: c.archives.Load(),
		Skipped:  c.skipped.Load(),
		Bytes:    c.bytes.Load(),
	}
}

// deliver emits fs, one file's findings in order, and reports progress
// when it is due.
func (c *collector) deliver(fs []Finding) {
	if len(fs) == 0 && c.progress == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range fs {
		c.emit(f)
	}
	if c.progress != nil {
		if now := time.Now(); now.Sub(c.last) >= 200*time.Millisecond {
			c.last = now
			c.progress(c.stats())
		}
	}
}

// fail records a per-file error; the scan goes on.
func (c *collector) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) < maxErrors {
		c.errs = append(c.errs, err)
	} else {
		c.dropped++
	}
}

// finish reports progress a last time and returns the stats and the
// per-file errors joined, or ctx's error when the scan was cancelled.
func (c *collector) finish(ctx context.Context) (SourceStats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stats()
	if c.progress != nil {
		c.progress(st)
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	errs := c.errs
	if c.dropped > 0 {
		errs = append(errs, fmt.Errorf("and %d more errors", c.dropped))
	}
	return st, errors.Join(errs...)
}

// fileJob is one regular file for a worker: rel is its path relative to
// the root (slash-separated), abs its path to open.
type fileJob struct {
	rel, abs string
}

// ScanPath scans root, a file or a directory tree, and calls emit for every
// key found; Finding.Path is the path relative to root (the file's base
// name when root is a file).
//
// Directories named .git are skipped (scan history with ScanGit) and
// symlinks are not followed. Archives (zip and jar, tar, gzip and
// tar.gz) are recognised by their magic bytes, whatever their names, and
// their members scanned down to opt.MaxDepth levels of nesting; a member's
// Path is "outer.zip!inner/path". Binary files are scanned as the core
// scans them (Options.SkipBinary), and files larger than opt.MaxFileSize
// are streamed, never read whole.
//
// Files are scanned by opt.Workers goroutines; emit and opt.Progress are
// called from one goroutine at a time, with a file's findings together and
// in order of offset, but files in no particular order.
//
// A file that cannot be read does not stop the scan: it is counted in
// Skipped and its error (naming the path) is returned, joined with the
// others, after the walk. ScanPath stops early, returning ctx.Err(), when
// ctx is cancelled.
func (s *Scanner) ScanPath(ctx context.Context, root string, opt SourceOptions, emit func(Finding)) (SourceStats, error) {
	opt = opt.withDefaults()
	if err := validateExclude(opt.Exclude); err != nil {
		return SourceStats{}, fmt.Errorf("scan %s: %w", root, err)
	}
	info, err := os.Lstat(root)
	if err != nil {
		return SourceStats{}, fmt.Errorf("scan %s: %w", root, err)
	}
	c := newCollector(emit, opt.Progress)
	if !info.IsDir() {
		if !info.Mode().IsRegular() {
			return SourceStats{}, fmt.Errorf("scan %s: not a regular file or directory", root)
		}
		w := s.newWorker(opt, c)
		w.file(fileJob{rel: filepath.Base(root), abs: root})
		return c.finish(ctx)
	}

	jobs := make(chan fileJob, 4*opt.Workers)
	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := s.newWorker(opt, c)
			for j := range jobs {
				if ctx.Err() != nil {
					continue // drain
				}
				w.file(j)
			}
		}()
	}
	walkErr := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if p == root {
				return err
			}
			c.skipped.Add(1)
			c.fail(fmt.Errorf("scan %s: %w", p, err))
			return nil // for a directory, WalkDir skips it
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if p != root && (d.Name() == ".git" || excluded(opt.Exclude, rel)) {
				c.skipped.Add(1)
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || excluded(opt.Exclude, rel) {
			c.skipped.Add(1) // symlinks, devices, sockets, pipes
			return nil
		}
		select {
		case jobs <- fileJob{rel: rel, abs: p}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(jobs)
	wg.Wait()
	st, err := c.finish(ctx)
	if walkErr != nil && ctx.Err() == nil {
		err = errors.Join(fmt.Errorf("scan %s: %w", root, walkErr), err)
	}
	return st, err
}

// worker scans one file at a time, with buffers kept between files.
type worker struct {
	s    *Scanner
	opt  SourceOptions
	c    *collector
	bufs [][]byte // by archive depth: whole content being scanned
	out  []Finding
}

func (s *Scanner) newWorker(opt SourceOptions, c *collector) *worker {
	return &worker{s: s, opt: opt, c: c, bufs: make([][]byte, max(opt.MaxDepth, 0)+2)}
}

// file scans one file on disk, archives and all, and delivers its
// findings.
func (w *worker) file(j fileJob) {
	w.out = w.out[:0]
	f, err := os.Open(j.abs)
	if err != nil {
		w.c.skipped.Add(1)
		w.c.fail(fmt.Errorf("scan %s: %w", j.abs, err))
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		// Replaced by something else since the walk saw it.
		w.c.skipped.Add(1)
		return
	}
	if err := w.content(item{name: j.rel, r: f, ra: f, size: info.Size()}); err != nil {
		w.c.fail(fmt.Errorf("scan %s: %w", j.abs, err))
	}
	w.c.deliver(w.out)
}

// item is content to scan: a file, an archive member or a decompressed
// stream. r reads it from its start; ra, when not nil, reads it at any
// offset; size is its length, or -1 when unknown.
type item struct {
	name    string
	r       io.Reader
	ra      io.ReaderAt
	size    int64
	depth   int  // archive levels above this content
	gunzipd bool // content of a gzip layer, which does not count as a level
}

// collect appends a finding, setting its Path.
func (w *worker) collect(f Finding) {
	f.Path = f.Source
	w.out = append(w.out, f)
}

// plain scans it as bytes: read whole and scanned with ScanBytes when
// small, streamed through ScanReader when not.
func (w *worker) plain(it item) error {
	w.c.files.Add(1)
	if it.size >= 0 && it.size <= min(wholeLimit, w.opt.MaxFileSize) {
		b, rest, err := w.readWhole(it, wholeLimit)
		if err != nil {
			return fmt.Errorf("scan %s: %w", it.name, err)
		}
		if rest == nil {
			w.c.bytes.Add(int64(len(b)))
			w.s.ScanBytes(it.name, b, w.collect)
			return nil
		}
		it.r = rest // it was longer than its header said
	}
	cr := &countReader{r: it.r}
	err := w.s.ScanReader(it.name, cr, w.collect)
	w.c.bytes.Add(cr.n)
	return err
}

// readWhole reads it into the buffer for its depth, which stays valid
// until the next content at the same depth. When it holds more than limit
// bytes, readWhole stops and returns a reader of the whole content (what
// it read, then the rest) instead.
func (w *worker) readWhole(it item, limit int64) (b []byte, rest io.Reader, err error) {
	d := min(it.depth, len(w.bufs)-1)
	b = w.bufs[d][:0]
	if it.size >= 0 && int64(cap(b)) < it.size+1 && it.size < limit {
		b = make([]byte, 0, it.size+1)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := it.r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if int64(len(b)) > limit {
			return nil, io.MultiReader(bytes.NewReader(b), it.r), nil
		}
	}
	if cap(b) <= wholeLimit { // keep small buffers only
		w.bufs[d] = b
	}
	return b, nil, nil
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
