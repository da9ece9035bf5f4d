package ingest

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
)

// Open opens the named usage file for reading: "-" reads stdin. Gzip input is
// recognised by its magic bytes, not its name, and decompressed (including
// multi-member files). Errors, including read errors later on, name the
// file. Closing the result closes the file (never stdin).
func Open(name string, stdin io.Reader) (io.ReadCloser, error) {
	var (
		r      io.Reader
		closer io.Closer
		label  = name
	)
	if name == "-" {
		if stdin == nil {
			return nil, errors.New("open stdin: no standard input")
		}
		r, label = stdin, "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err // *fs.PathError names the file
		}
		r, closer = f, f
	}
	br := bufio.NewReaderSize(r, 256<<10)
	rc := &file{name: label, r: br, closer: closer}
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		rc.Close()
		return nil, fmt.Errorf("read %s: %w", label, err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			rc.Close()
			return nil, fmt.Errorf("open %s: gzip: %w", label, err)
		}
		rc.r, rc.zr = zr, zr
	}
	return rc, nil
}

// file is what Open returns.
type file struct {
	name   string
	r      io.Reader
	zr     *gzip.Reader // nil when plain
	closer io.Closer    // nil for stdin
}

func (f *file) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("read %s: %w", f.name, err)
	}
	return n, err
}

func (f *file) Close() error {
	var err error
	if f.zr != nil {
		err = f.zr.Close()
	}
	if f.closer != nil {
		if cerr := f.closer.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("close %s: %w", f.name, err)
	}
	return nil
}
