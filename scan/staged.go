package scan

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ScanStaged scans what is staged in the repository at repo (its index,
// as "git diff --cached" shows it): the blobs of files added, copied,
// modified or renamed, each scanned once, for a pre-commit hook. It calls
// emit for every key found, in order of path and offset, with Path and
// Source set to the staged path and Blob to the blob id; a blob staged at
// several paths is reported at each. Line numbers are those of the staged
// content, which may differ from the work tree's. A repository with no
// commits yet has everything in its index staged.
func (s *Scanner) ScanStaged(ctx context.Context, repo string, emit func(Finding)) error {
	if _, _, err := checkRepo(ctx, repo); err != nil {
		return err
	}
	out, err := newGit(ctx, repo, "diff", "--cached", "--raw", "-z", "--no-abbrev", "--no-renames",
		"--no-textconv", "--no-ext-diff", "--diff-filter=ACMRT").output()
	if err != nil {
		return err
	}
	paths := map[string][]string{} // by blob id
	var ids []string
	toks := bytes.Split(out, []byte{0})
	for i := 0; i+1 < len(toks); i++ {
		tok := bytes.TrimLeft(toks[i], "\n")
		if len(tok) == 0 || tok[0] != ':' {
			continue
		}
		f := bytes.Fields(tok[1:])
		path := string(toks[i+1])
		i++
		if len(f) != 5 || string(f[1]) == "160000" { // submodules are commits
			continue
		}
		id := string(f[3])
		if strings.Trim(id, "0") == "" {
			continue
		}
		if _, ok := paths[id]; !ok {
			ids = append(ids, id)
		}
		paths[id] = append(paths[id], path)
	}
	if len(ids) == 0 {
		return nil
	}

	cf, err := startCatFile(ctx, repo)
	if err != nil {
		return err
	}
	feedErr := make(chan error, 1)
	go func() {
		_, err := io.WriteString(cf.in, strings.Join(ids, "\n")+"\n")
		cf.in.Close()
		feedErr <- err
	}()
	var found []Finding
	var buf []byte
	readErr := func() error {
		for range ids {
			id, _, size, err := cf.header()
			if errors.Is(err, errMissing) {
				return fmt.Errorf("scan staged %s in %s: blob %s missing", strings.Join(paths[id], ", "), repo, id)
			}
			if err != nil {
				return err
			}
			collect := func(f Finding) {
				for _, p := range paths[id] {
					f.Blob, f.Path, f.Source = id, p, p
					found = append(found, f)
				}
			}
			if size <= wholeLimit {
				buf = slices.Grow(buf[:0], int(size))[:size]
				_, err = io.ReadFull(cf.out, buf)
				if err == nil {
					s.ScanBytes(id, buf, collect)
				}
			} else {
				err = s.ScanReader(id, cf.body(size), collect)
			}
			if err != nil {
				return fmt.Errorf("scan staged %s in %s: %w", strings.Join(paths[id], ", "), repo, err)
			}
			if err := cf.endBody(); err != nil {
				return err
			}
		}
		return nil
	}()
	if readErr != nil {
		cf.g.cmd.Process.Kill()
	}
	waitErr := cf.wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := errors.Join(readErr, waitErr); err != nil {
		return err
	}
	if err := <-feedErr; err != nil {
		return fmt.Errorf("feed git cat-file in %s: %w", repo, err)
	}
	slices.SortStableFunc(found, func(a, b Finding) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), cmp.Compare(a.Offset, b.Offset))
	})
	for _, f := range found {
		emit(f)
	}
	return nil
}
