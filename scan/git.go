package scan

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// MaxCommits bounds Finding.Commits; CommitCount has the full count.
const MaxCommits = 20

// Commit is one place in git history where a blob appears: the commit
// that added it at Path (or changed Path to it).
type Commit struct {
	// SHA is the full commit id.
	SHA string
	// Path is the path in the commit's tree, with forward slashes.
	Path string
	// Author is the commit's author, "Name <email>".
	Author string
	// AuthorDate is the commit's author date.
	AuthorDate time.Time
}

// catFileRun is how many consecutive blob ids of the listing go to one
// cat-file process.
const catFileRun = 256

// catFileProcs is how many cat-file processes read blobs for ScanGit.
func catFileProcs() int { return min(runtime.NumCPU(), 4) }

// batchTarget is how many bytes of small blobs are handed to a worker at
// once, so that channel operations do not dominate for small blobs.
const batchTarget = 1 << 20

// blobBatch is a run of blobs read from git cat-file for one worker.
type blobBatch struct {
	buf   []byte
	blobs []blobRef
}

// blobRef is one blob in a blobBatch: its id and where it sits in buf.
type blobRef struct {
	id       string
	off, end int
}

var batchPool = sync.Pool{New: func() any { return &blobBatch{buf: make([]byte, 0, batchTarget)} }}

// ScanGit scans the history of the git repository at repo (a work tree or
// a bare repository) and calls emit for every key found.
//
// Every blob in the object store is scanned exactly once, whatever the
// number of commits and paths it appears at: blobs reachable from any ref,
// and also unreachable ones (dangling objects from amended commits,
// dropped stashes, rewritten history), which are history too and where
// removed keys often linger. Packs are read directly (gitpack.go): a
// blob stored whole is split into chunks of lines, each distinct chunk
// scanned once (memo.go), and a blob stored as a delta is scanned only
// around the lines its delta inserts, the rest of its findings carried
// over from its base (gitdelta.go), so a blob costs about what changed
// since the version it was built from. Loose objects, and what the pack
// reader leaves (see gitpack.go), are read through "git cat-file --batch"
// (one process per CPU, up to 4). Blobs larger than opt.MaxFileSize are
// streamed. The work is spread over opt.Workers goroutines. One "git log
// --all" pass then finds the commits and paths where the blobs with
// findings appear (run alongside the scan when a second core is free, its
// output kept in a temporary file), so the cost of history is paid once
// and memory stays bounded by the findings.
//
// With opt.CollapseHistory a key found at one path in many blobs is
// reported once, as its oldest blob's finding with the commits of all.
//
// A finding's Blob is the blob id; Commits are the commits that added the
// blob at a path, oldest first (at most MaxCommits, CommitCount counts
// them all); Path is the path in the oldest of them, and Source is
// "<commit>:<path>" (abbreviated), which "git show" accepts. For a blob
// that no commit reaches, Commits is empty and Source and Path are the
// blob id. Findings are emitted after all blobs are scanned, oldest first,
// from the calling goroutine. opt.Exclude drops a finding when every path
// its blob appears at is excluded; opt.MaxDepth does not apply (blobs are
// not opened as archives).
//
// A repository with no commits is scanned like any other (its object
// store may hold staged blobs); a shallow one is scanned as far as it
// goes. Errors name the repository and carry git's own message.
func (s *Scanner) ScanGit(ctx context.Context, repo string, opt SourceOptions, emit func(Finding)) (SourceStats, error) {
	opt = opt.withDefaults()
	if err := validateExclude(opt.Exclude); err != nil {
		return SourceStats{}, fmt.Errorf("scan git %s: %w", repo, err)
	}
	format, objects, err := checkRepo(ctx, repo)
	if err != nil {
		return SourceStats{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var early *earlyLog
	if runtime.GOMAXPROCS(0) > 1 {
		early = startEarlyLog(ctx, repo)
	}
	found := map[string][]blobHit{} // by blob id
	var mu sync.Mutex
	c := newCollector(emit, opt.Progress)
	// keep takes hs (one blob's findings, which its caller no longer
	// changes) as they are when they are the blob's first.
	keep := func(id string, hs []blobHit) {
		mu.Lock()
		if len(found[id]) == 0 {
			found[id] = slices.Clip(hs)
		} else {
			found[id] = append(found[id], hs...)
		}
		mu.Unlock()
	}
	collect := func(fs []Finding) {
		for len(fs) > 0 {
			id := fs[0].Source
			n := 1
			for n < len(fs) && fs[n].Source == id {
				n++
			}
			hs := make([]blobHit, n)
			for i := range hs {
				hs[i] = hitOf(&fs[i])
			}
			keep(id, hs)
			fs = fs[n:]
		}
	}
	if err := s.scanObjects(ctx, repo, format, objects, opt, c, collect, keep, func() {
		mu.Lock()
		clear(found)
		mu.Unlock()
	}); err != nil {
		if early != nil {
			early.discard()
		}
		st, _ := c.finish(ctx)
		return st, err
	}
	if len(found) == 0 && early != nil {
		early.discard()
	}
	if len(found) > 0 {
		where, err := blobCommits(ctx, repo, found, opt.Exclude, early)
		if err != nil {
			st, _ := c.finish(ctx)
			return st, err
		}
		placeFindings(found, where, opt.CollapseHistory, c.deliver)
	}
	return c.finish(ctx)
}

// gitPackWalk turns reading packs directly on; tests turn it off to
// compare with reading every blob through git cat-file.
var gitPackWalk = true

// scanObjects scans every blob in repo's object store, passing each blob's
// findings (Source set to the blob id) to found, from several goroutines.
// The packs are read directly where the pack reader can (gitpack.go,
// gitdelta.go) and everything else through git cat-file; should the pack
// reader fail, reset is called (forget what was found) and git cat-file
// reads the whole store.
func (s *Scanner) scanObjects(ctx context.Context, repo, format, objects string, opt SourceOptions, c *collector, found func([]Finding), keep func(string, []blobHit), reset func()) error {
	if !gitPackWalk || format != "sha1" || objects == "" {
		return s.scanBlobs(ctx, repo, opt, c, found, nil)
	}
	st, err := openObjectStore(objects)
	if err != nil {
		return s.scanBlobs(ctx, repo, opt, c, found, nil)
	}
	defer st.close()
	var memo *memoCache
	if gitMemo {
		memo = newMemoCache()
	}
	rest, err := s.scanPacks(ctx, st, opt, c, memo, keep)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		reset()
		c.blobs.Store(0)
		c.bytes.Store(0)
		return s.scanBlobs(ctx, repo, opt, c, found, nil)
	}
	if len(rest) == 0 {
		return nil
	}
	return s.scanBlobs(ctx, repo, opt, c, found, rest)
}

// scanBlobs scans the blobs among ids (nil: every blob in repo's object
// store) through git cat-file, passing each blob's findings (Source set to
// the blob id) to found, from several goroutines.
func (s *Scanner) scanBlobs(ctx context.Context, repo string, opt SourceOptions, c *collector, found func([]Finding), ids []string) error {
	var listOut io.Reader
	list := newGit(ctx, repo, "cat-file", "--batch-all-objects", "--unordered",
		"--batch-check=%(objectname) %(objecttype) %(objectsize)")
	if ids == nil {
		out, err := list.cmd.StdoutPipe()
		if err != nil {
			return list.err(err)
		}
		if err := list.cmd.Start(); err != nil {
			return list.err(err)
		}
		listOut = out
	} else {
		// Listed by the caller; their types are for cat-file to tell.
		var b bytes.Buffer
		for _, id := range ids {
			b.WriteString(id)
			b.WriteString(" blob 0\n")
		}
		listOut = &b
		list = nil
	}
	// Several cat-file processes share the blobs, in runs of catFileRun
	// ids (the listing is in pack order, which keeps git's delta base
	// cache useful): inflating and resolving deltas is most of the cost
	// of reading history, and git does it on one core per process.
	cfs := make([]*catFile, catFileProcs())
	for i := range cfs {
		cf, err := startCatFile(ctx, repo)
		if err != nil {
			for _, cf := range cfs[:i] {
				cf.in.Close()
				cf.g.cmd.Process.Kill()
				cf.wait()
			}
			if list != nil {
				list.cmd.Process.Kill()
				list.cmd.Wait()
			}
			return err
		}
		cfs[i] = cf
	}

	// Feed blob ids from the listing to cat-file.
	feedErr := make(chan error, 1)
	go func() {
		ins := make([]*bufio.Writer, len(cfs))
		for i, cf := range cfs {
			ins[i] = bufio.NewWriterSize(cf.in, 64<<10)
		}
		sc := bufio.NewScanner(listOut)
		var werr error
		n := 0
		for sc.Scan() && werr == nil {
			f := bytes.Fields(sc.Bytes())
			if len(f) == 3 && string(f[1]) == "blob" {
				in := ins[n/catFileRun%len(ins)]
				n++
				in.Write(f[0])
				werr = in.WriteByte('\n')
			}
		}
		for _, in := range ins {
			if werr == nil {
				werr = in.Flush()
			}
		}
		for _, cf := range cfs {
			cf.in.Close()
		}
		io.Copy(io.Discard, listOut)
		var err error
		if list != nil {
			err = list.err(list.cmd.Wait())
		}
		if err == nil {
			err = sc.Err()
		}
		if err == nil && werr != nil {
			err = fmt.Errorf("feed git cat-file in %s: %w", repo, werr)
		}
		feedErr <- err
	}()

	// Scan batches of blobs in parallel.
	batches := make(chan *blobBatch, opt.Workers)
	var memo *memoCache
	if gitMemo {
		memo = newMemoCache()
	}
	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out []Finding
			collect := func(f Finding) { out = append(out, f) }
			scanBlob := s.ScanBytes
			if memo != nil {
				scanBlob = s.newBlobMemo(memo).scan
			}
			for b := range batches {
				for _, r := range b.blobs {
					out = out[:0]
					scanBlob(r.id, b.buf[r.off:r.end], collect)
					if len(out) > 0 {
						found(out)
						out = nil
					}
				}
				c.deliver(nil) // progress
				if cap(b.buf) <= 4*batchTarget {
					b.buf, b.blobs = b.buf[:0], b.blobs[:0]
					batchPool.Put(b)
				}
			}
		}()
	}

	// Read every cat-file's output; a reader that fails kills its git, so
	// that the feeder stops rather than block on it.
	readErrs := make([]error, len(cfs))
	var rg sync.WaitGroup
	for i, cf := range cfs {
		rg.Add(1)
		go func() {
			defer rg.Done()
			if readErrs[i] = s.readBlobs(ctx, cf, opt, c, batches, found); readErrs[i] != nil {
				cf.g.cmd.Process.Kill()
			}
		}()
	}
	rg.Wait()
	close(batches)
	wg.Wait()
	var waitErrs []error
	for _, cf := range cfs {
		waitErrs = append(waitErrs, cf.wait())
	}
	fErr := <-feedErr
	if err := ctx.Err(); err != nil {
		return err
	}
	readErr, waitErr := errors.Join(readErrs...), errors.Join(waitErrs...)
	return errors.Join(readErr, fErr, waitErr)
}

// readBlobs reads cat-file's output, batching blobs up to MaxFileSize for
// the workers and streaming larger ones through ScanReader itself.
func (s *Scanner) readBlobs(ctx context.Context, cf *catFile, opt SourceOptions, c *collector, batches chan<- *blobBatch, found func([]Finding)) error {
	b := batchPool.Get().(*blobBatch)
	send := func() bool {
		if len(b.blobs) == 0 {
			return true
		}
		select {
		case batches <- b:
			b = batchPool.Get().(*blobBatch)
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		id, typ, size, err := cf.header()
		if err == io.EOF {
			break
		}
		if errors.Is(err, errMissing) {
			c.skipped.Add(1) // deleted between listing and reading
			continue
		}
		if err != nil {
			return err
		}
		if typ != "blob" {
			if _, err := io.Copy(io.Discard, cf.body(size)); err != nil {
				return fmt.Errorf("read git object %s: %w", id, err)
			}
			if err := cf.endBody(); err != nil {
				return err
			}
			continue
		}
		c.blobs.Add(1)
		c.bytes.Add(size)
		if size > opt.MaxFileSize {
			var out []Finding
			err := s.ScanReader(id, cf.body(size), func(f Finding) { out = append(out, f) })
			if err != nil {
				return fmt.Errorf("read git blob %s: %w", id, err)
			}
			found(out)
		} else {
			if len(b.buf)+int(size) > batchTarget && !send() {
				return ctx.Err()
			}
			off := len(b.buf)
			b.buf = slices.Grow(b.buf, int(size))[:off+int(size)]
			if _, err := io.ReadFull(cf.out, b.buf[off:]); err != nil {
				return fmt.Errorf("read git blob %s: %w", id, err)
			}
			b.blobs = append(b.blobs, blobRef{id: id, off: off, end: off + int(size)})
		}
		if err := cf.endBody(); err != nil {
			return err
		}
	}
	if !send() {
		return ctx.Err()
	}
	return nil
}

// blobPlaces are the commits where one blob appears.
type blobPlaces struct {
	commits []Commit // oldest first once trimmed
	count   int      // appearances at paths not excluded
	seen    bool     // appears at some path, excluded or not
}

// add records one appearance, keeping the MaxCommits oldest.
func (p *blobPlaces) add(c Commit) {
	p.count++
	p.commits = append(p.commits, c)
	if len(p.commits) >= 2*MaxCommits {
		p.trim()
	}
}

func (p *blobPlaces) trim() {
	slices.SortStableFunc(p.commits, compareCommits)
	p.commits = p.commits[:min(len(p.commits), MaxCommits)]
}

// blobCommits finds, in one pass over history, the commits and paths at
// which the blobs in found appear. Merge commits are included as far as
// they introduce content of their own (conflict resolutions, stashes).
func blobCommits(ctx context.Context, repo string, found map[string][]blobHit, exclude []string, early *earlyLog) (map[string]*blobPlaces, error) {
	where := make(map[string]*blobPlaces, len(found))
	for id := range found {
		where[id] = &blobPlaces{}
	}
	add := func(c Commit, blob string) {
		p := where[blob]
		if p == nil {
			return
		}
		p.seen = true
		if !excluded(exclude, c.Path) {
			p.add(c)
		}
	}
	if early != nil {
		if f, err := early.wait(); err == nil {
			defer f.Close()
			if err := parseLog(f, add); err != nil {
				return nil, fmt.Errorf("git log in %s: %w", repo, err)
			}
			for _, p := range where {
				p.trim()
			}
			return where, nil
		}
		// git log failed while the blobs were read: run it again and
		// report what it says.
	}
	g := newGit(ctx, repo, logArgs...)
	out, err := g.cmd.StdoutPipe()
	if err != nil {
		return nil, g.err(err)
	}
	if err := g.cmd.Start(); err != nil {
		return nil, g.err(err)
	}
	parseErr := parseLog(out, add)
	io.Copy(io.Discard, out)
	if err := g.err(g.cmd.Wait()); err != nil {
		return nil, err
	}
	if parseErr != nil {
		return nil, fmt.Errorf("git log in %s: %w", repo, parseErr)
	}
	for _, p := range where {
		p.trim()
	}
	return where, nil
}

// logArgs lists every commit's changes with its author, for blobCommits.
var logArgs = []string{"log", "--all", "--root", "--no-renames", "-c", "--raw", "--no-abbrev", "-z",
	"--no-textconv", "--no-ext-diff", "--format=%x01%H%x00%an <%ae>%x00%aI"}

// earlyLog is blobCommits' git log, started with the scan when a spare
// core can run it, its output kept in a temporary file (it is needed only
// if something is found, and holds every change of history).
type earlyLog struct {
	g    *gitCmd
	f    *os.File
	done chan error
}

// startEarlyLog starts git log into a temporary file; nil when it cannot.
func startEarlyLog(ctx context.Context, repo string) *earlyLog {
	f, err := os.CreateTemp("", "keywatch-gitlog-*")
	if err != nil {
		return nil
	}
	os.Remove(f.Name()) // the open file stays readable
	g := newGit(ctx, repo, logArgs...)
	g.cmd.Stdout = f
	if err := g.cmd.Start(); err != nil {
		f.Close()
		return nil
	}
	e := &earlyLog{g: g, f: f, done: make(chan error, 1)}
	go func() { e.done <- g.err(g.cmd.Wait()) }()
	return e
}

// wait returns the finished log, read from its start.
func (e *earlyLog) wait() (*os.File, error) {
	if err := <-e.done; err != nil {
		e.f.Close()
		return nil, err
	}
	if _, err := e.f.Seek(0, io.SeekStart); err != nil {
		e.f.Close()
		return nil, err
	}
	return e.f, nil
}

// discard stops git log and drops its output.
func (e *earlyLog) discard() {
	e.g.cmd.Process.Kill()
	<-e.done
	e.f.Close()
}

// parseLog reads the output of git log -z --raw with the format of
// blobCommits and calls add for every path set to a blob (added or
// modified; deletions set no blob).
func parseLog(r io.Reader, add func(c Commit, blob string)) error {
	br := bufio.NewReaderSize(r, 256<<10)
	var cur Commit
	pendingBlob := "" // a raw line's blob, waiting for its path
	state := 0        // 0: any; 1: author next; 2: date next; 3: path next
	for {
		tok, err := br.ReadSlice(0)
		if err == bufio.ErrBufferFull {
			// A token longer than the buffer: a huge path; gather it.
			long := append([]byte(nil), tok...)
			for err == bufio.ErrBufferFull {
				tok, err = br.ReadSlice(0)
				long = append(long, tok...)
			}
			tok = long
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		tok = bytes.TrimSuffix(tok, []byte{0})
		switch state {
		case 1:
			cur.Author = string(tok)
			state = 2
			continue
		case 2:
			t, err := time.Parse(time.RFC3339, string(tok))
			if err != nil {
				return fmt.Errorf("commit %s: author date %q: %w", cur.SHA, truncate(string(tok), 40), err)
			}
			cur.AuthorDate = t
			state = 0
			continue
		case 3:
			if pendingBlob != "" {
				cur.Path = string(tok)
				add(cur, pendingBlob)
			}
			state = 0
			continue
		}
		tok = bytes.TrimLeft(tok, "\n")
		switch {
		case len(tok) > 0 && tok[0] == 1:
			cur = Commit{SHA: string(tok[1:])}
			state = 1
		case len(tok) > 0 && tok[0] == ':':
			// ":<mode> <mode> <id> <id> <status>", or for a merge
			// "::<mode> <mode> <mode> <id> <id> <id> <status>": the
			// last id is the blob after the commit.
			k := len(tok) - len(bytes.TrimLeft(tok, ":"))
			f := bytes.Fields(tok[k:])
			pendingBlob = ""
			if len(f) == 2*(k+1)+1 {
				id := string(f[2*k+1])
				if strings.Trim(id, "0") != "" && string(f[k]) != "160000" {
					pendingBlob = id
				}
			}
			state = 3
		}
	}
}

// placeFindings sets the git fields of every finding and orders them: by
// the author date of the blob's first commit, then path, then offset;
// blobs no commit reaches come last, by id.
func placeFindings(found map[string][]blobHit, where map[string]*blobPlaces, collapse bool, deliver func([]Finding)) {
	// A blob's findings share their commits, path and source; they are
	// ordered by offset within the blob, and blobs by their oldest commit,
	// path and id. Sorting blobs, not findings, keeps this cheap when keys
	// live on through thousands of versions.
	type blob struct {
		id   string
		hs   []blobHit
		p    *blobPlaces
		date time.Time
		path string
	}
	blobs := make([]blob, 0, len(found))
	for id, hs := range found {
		p := where[id]
		if p != nil && !p.seen {
			p = nil // no commit reaches it
		}
		if p != nil && p.count == 0 {
			continue // every path it appears at is excluded
		}
		b := blob{id: id, hs: hs, p: p, path: id}
		if p != nil {
			b.date, b.path = p.commits[0].AuthorDate, p.commits[0].Path
		}
		blobs = append(blobs, b)
	}
	slices.SortFunc(blobs, func(a, b blob) int {
		if (a.p == nil) != (b.p == nil) {
			if a.p == nil {
				return 1
			}
			return -1
		}
		if c := a.date.Compare(b.date); c != 0 {
			return c
		}
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	// Collapsing, a key at a path is one finding: the first met (blobs are
	// in order, oldest first) gathers the commits of the later ones. A
	// commit sets a path to one blob, so blobs share no commit.
	type leak struct{ path, rule, secret string }
	type leakState struct {
		i     int    // index in out
		blob  string // the last blob whose commits were added
		owned bool   // out[i].Commits is the finding's own, not its blob's
	}
	// Copies of a finding carried through deltas share their hitMeta, so
	// (path, meta) finds a leak without hashing the secret most times.
	type metaKey struct {
		path string
		m    *hitMeta
	}
	var leaks map[leak]*leakState
	var byMeta map[metaKey]*leakState
	if collapse {
		leaks, byMeta = map[leak]*leakState{}, map[metaKey]*leakState{}
	}
	var out []Finding
	for _, b := range blobs {
		var commits []Commit // one copy for the blob's findings, made on first use
		var source string
		slices.SortStableFunc(b.hs, func(x, y blobHit) int { return cmp.Compare(x.off, y.off) })
		if !collapse {
			out = out[:0]
		}
		for i := range b.hs {
			h := &b.hs[i]
			if collapse && b.p != nil {
				st := byMeta[metaKey{b.path, h.m}]
				if st == nil {
					st = leaks[leak{b.path, h.m.rule, h.m.key()}]
					if st != nil {
						byMeta[metaKey{b.path, h.m}] = st
					}
				}
				if st != nil {
					if st.blob != b.id {
						st.blob = b.id
						f := &out[st.i]
						if !st.owned {
							f.Commits, st.owned = slices.Clone(f.Commits), true
						}
						f.Commits, f.CommitCount = mergeCommits(f.Commits, f.CommitCount, b.p.commits, b.p.count)
					}
					continue
				}
				st = &leakState{i: len(out), blob: b.id}
				leaks[leak{b.path, h.m.rule, h.m.key()}] = st
				byMeta[metaKey{b.path, h.m}] = st
			}
			f := h.finding(b.id)
			f.Blob = b.id
			f.Path = b.id
			if b.p != nil {
				if commits == nil {
					first := b.p.commits[0]
					commits = slices.Clip(slices.Clone(b.p.commits))
					source = first.SHA[:min(12, len(first.SHA))] + ":" + first.Path
				}
				f.Commits, f.CommitCount = commits, b.p.count
				f.Path, f.Source = b.path, source
			}
			out = append(out, f)
		}
		if !collapse {
			deliver(out)
		}
	}
	if collapse {
		deliver(out)
	}
}

// mergeCommits adds the commits of another blob (cs, count of them in
// all) to a finding's (dst, n in all), keeping the oldest MaxCommits in
// order.
func mergeCommits(dst []Commit, n int, cs []Commit, count int) ([]Commit, int) {
	for _, c := range cs {
		// Blobs come oldest first, so a commit mostly goes at the end.
		if len(dst) == 0 || c.AuthorDate.After(dst[len(dst)-1].AuthorDate) {
			if len(dst) < MaxCommits {
				dst = append(dst, c)
			}
			continue
		}
		i, _ := slices.BinarySearchFunc(dst, c, compareCommits)
		if i == MaxCommits {
			continue // newer than every commit listed: counted only
		}
		dst = slices.Insert(dst, i, c)
		dst = dst[:min(len(dst), MaxCommits)]
	}
	return dst, n + count
}

// compareCommits orders commits by author date, id and path, as
// blobPlaces.trim does.
func compareCommits(a, b Commit) int {
	if c := a.AuthorDate.Compare(b.AuthorDate); c != 0 {
		return c
	}
	if c := strings.Compare(a.SHA, b.SHA); c != 0 {
		return c
	}
	return strings.Compare(a.Path, b.Path)
}

// hitMeta is what the copies of one finding through history share.
type hitMeta struct {
	provider, rule, enc, redacted string
	secret                        []byte
	skey                          string // string(secret), made on first use
}

// key returns the secret as a string, for maps.
func (m *hitMeta) key() string {
	if m.skey == "" {
		m.skey = string(m.secret)
	}
	return m.skey
}

// blobHit is a finding in a git blob, kept small: a key that lives on
// through thousands of versions is thousands of findings.
type blobHit struct {
	off, end  int64
	line, col int32 // line 0: not counted yet
	m         *hitMeta
}

func hitOf(f *Finding) blobHit {
	return blobHit{off: f.Offset, end: f.End, line: int32(f.Line), col: int32(f.Column),
		m: &hitMeta{provider: f.Provider, rule: f.Rule, enc: f.Encoding, redacted: f.Redacted, secret: f.secret}}
}

// finding returns h as a finding in blob id.
func (h *blobHit) finding(id string) Finding {
	return Finding{Source: id, Provider: h.m.provider, Rule: h.m.rule, Offset: h.off, End: h.end,
		Line: int(h.line), Column: int(h.col), Encoding: h.m.enc, Redacted: h.m.redacted, secret: h.m.secret}
}
