package scan

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// member is a file inside an archive built by a test.
type member struct{ name, body string }

func zipOf(t testing.TB, ms ...member) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, m := range ms {
		w, err := zw.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(m.body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func tarOf(t testing.TB, ms ...member) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, m := range ms {
		tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(m.body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func gzipOf(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// writeTree creates files (path → content) under a new directory.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func scanPath(t *testing.T, root string, opt SourceOptions) ([]string, SourceStats) {
	t.Helper()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	st, err := s.ScanPath(context.Background(), root, opt, func(f Finding) {
		got = append(got, f.Path) // not synchronised: emit must be serialised
	})
	if err != nil {
		t.Fatalf("ScanPath: %v", err)
	}
	slices.Sort(got)
	return got, st
}

func TestScanPath(t *testing.T) {
	k1, _ := keyLine(11)
	k2, _ := keyLine(12)
	binary := "\x7fELF\x02\x01\x01\x00\x00\x00" + strings.Repeat("\x00\x01\x02", 300) + k1 + "\x00\x00"
	nested := zipOf(t,
		member{"README", "nothing here\n"},
		member{"inner/app.tar.gz", gzipOf(t, tarOf(t, member{"cfg/key.txt", "x=1\n" + k1}, member{"cfg/ok.txt", "ok\n"}))})
	jar := zipOf(t, member{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n"}, member{"app.properties", k2})

	for _, tc := range []struct {
		name  string
		files map[string]string
		opt   SourceOptions
		want  []string
		check func(t *testing.T, st SourceStats)
	}{
		{
			name: "tree with excludes",
			files: map[string]string{
				"a.txt":                  k1,
				"sub/dir/b.env":          "A=1\n" + k2,
				"node_modules/x/y.js":    k1,
				"web/app.min.js":         k1,
				"testdata/fixtures/k.go": k1,
				".git/config":            k1,
				"clean.go":               "package main\n",
			},
			opt:  SourceOptions{Exclude: []string{"node_modules", "*.min.js", "testdata/fixtures"}},
			want: []string{"a.txt", "sub/dir/b.env"},
			check: func(t *testing.T, st SourceStats) {
				if st.Files != 3 || st.Skipped != 4 {
					t.Errorf("stats %+v, want 3 files and 4 skipped", st)
				}
			},
		},
		{
			name:  "binary file",
			files: map[string]string{"bin/tool": binary},
			want:  []string{"bin/tool"},
		},
		{
			name:  "zip with a nested tar.gz, and a jar",
			files: map[string]string{"dist/bundle.zip": nested, "lib/app.jar": jar},
			want:  []string{"dist/bundle.zip!inner/app.tar.gz!cfg/key.txt", "lib/app.jar!app.properties"},
			check: func(t *testing.T, st SourceStats) {
				if st.Archives != 3 || st.Files != 5 {
					t.Errorf("stats %+v, want 3 archives and 5 files", st)
				}
			},
		},
		{
			name:  "archives too deep",
			files: map[string]string{"dist/bundle.zip": nested, "lib/app.jar": jar},
			opt:   SourceOptions{MaxDepth: 1},
			want:  []string{"lib/app.jar!app.properties"},
		},
		{
			name:  "archives off",
			files: map[string]string{"lib/app.jar": zipOf(t, member{"k", k2})},
			opt:   SourceOptions{MaxDepth: -1},
			want:  nil, // deflated: the key is not in the bytes
		},
		{
			name: "gzip log, renamed archive, damaged zip",
			files: map[string]string{
				"logs/ci.log.gz":  gzipOf(t, "step 1\n"+k1+"step 2\n"),
				"artifact.bin":    tarOf(t, member{"env", k2}),
				"broken.zip":      "PK\x03\x04 not really a zip\n" + k1,
				"nested.zip.gz":   gzipOf(t, zipOf(t, member{"deep/k", k2})),
				"double.txt.gz":   gzipOf(t, gzipOf(t, k1)),
				"tarball.tar.gz":  gzipOf(t, tarOf(t, member{"a/b.env", k1})),
				"empty.zip":       zipOf(t),
				"truncated.tar":   tarOf(t, member{"x", k1})[:100],
				"short-gzip-head": "\x1f\x8b\x08",
			},
			want: []string{"artifact.bin!env", "broken.zip", "double.txt.gz", "logs/ci.log.gz", "nested.zip.gz!deep/k", "tarball.tar.gz!a/b.env"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := writeTree(t, tc.files)
			got, st := scanPath(t, root, tc.opt)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("paths\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if tc.check != nil {
				tc.check(t, st)
			}
		})
	}
}

func TestScanPathSymlinkAndFile(t *testing.T) {
	k, _ := keyLine(13)
	root := writeTree(t, map[string]string{"real/a.env": k})
	outside := writeTree(t, map[string]string{"b.env": k})
	if err := os.Symlink(filepath.Join(outside, "b.env"), filepath.Join(root, "link.env")); err != nil {
		t.Skip("no symlinks:", err)
	}
	os.Symlink(outside, filepath.Join(root, "linkdir"))
	got, st := scanPath(t, root, SourceOptions{})
	if strings.Join(got, ",") != "real/a.env" || st.Skipped != 2 {
		t.Errorf("got %v, stats %+v; want only real/a.env and 2 skipped", got, st)
	}
	// A file as root: Path is its base name.
	got, _ = scanPath(t, filepath.Join(root, "real", "a.env"), SourceOptions{})
	if strings.Join(got, ",") != "a.env" {
		t.Errorf("file root: got %v", got)
	}
	s, _ := New(Options{})
	if _, err := s.ScanPath(context.Background(), filepath.Join(root, "missing"), SourceOptions{}, func(Finding) {}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing root: err %v", err)
	}
	if _, err := s.ScanPath(context.Background(), root, SourceOptions{Exclude: []string{"["}}, func(Finding) {}); err == nil {
		t.Error("bad exclude pattern: no error")
	}
}

// TestScanPathLargeFile scans a file many times MaxFileSize, with keys at
// its start, across chunk boundaries and at its end, and checks offsets and
// lines against a whole-buffer scan.
func TestScanPathLargeFile(t *testing.T) {
	var b strings.Builder
	var keys []string
	filler := strings.Repeat("log line with nothing to see here, just text.\n", 1000)
	for i := range 40 {
		line, key := keyLine(uint64(100 + i))
		b.WriteString(line)
		keys = append(keys, key)
		b.WriteString(filler[:len(filler)-i*997])
	}
	text := b.String()
	root := writeTree(t, map[string]string{"big.log": text, "big.log.gz": gzipOf(t, text)})
	s, _ := New(Options{ChunkSize: 64 << 10})
	var ref []Finding
	s.ScanBytes("big.log", []byte(text), func(f Finding) { ref = append(ref, f) })
	if len(ref) != len(keys) {
		t.Fatalf("whole scan: %d findings, want %d", len(ref), len(keys))
	}
	got := map[string][]Finding{}
	st, err := s.ScanPath(context.Background(), root, SourceOptions{MaxFileSize: 256 << 10}, func(f Finding) {
		got[f.Path] = append(got[f.Path], f)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"big.log", "big.log.gz"} {
		if len(got[p]) != len(ref) {
			t.Errorf("%s: %d findings, want %d", p, len(got[p]), len(ref))
			continue
		}
		for i, f := range got[p] {
			if f.Offset != ref[i].Offset || f.Line != ref[i].Line || string(f.secret) != keys[i] {
				t.Errorf("%s finding %d: offset %d line %d, want %d %d", p, i, f.Offset, f.Line, ref[i].Offset, ref[i].Line)
			}
		}
	}
	if st.Bytes != 2*int64(len(text)) {
		t.Errorf("bytes %d, want %d", st.Bytes, 2*len(text))
	}
}

func TestExcluded(t *testing.T) {
	for _, tc := range []struct {
		pat, path string
		want      bool
	}{
		{"node_modules", "a/node_modules/b/c.js", true},
		{"*.min.js", "web/x.min.js", true},
		{"*.min.js", "web/x.js", false},
		{"docs/*", "docs/a.md", true},
		{"docs/*", "docs/sub/a.md", true}, // the leading part docs/sub matches
		{"docs/*", "src/docs/a.md", false},
		{"./build", "build/out", true},
		{"vendor", "vendored/x", false},
	} {
		if got := excluded([]string{tc.pat}, tc.path); got != tc.want {
			t.Errorf("excluded(%q, %q) = %v, want %v", tc.pat, tc.path, got, tc.want)
		}
	}
}

func TestSourcesCancelled(t *testing.T) {
	k, _ := keyLine(14)
	root := writeTree(t, map[string]string{"a": k, "b/c": k})
	r := newTestRepo(t)
	r.write("k.env", k)
	r.commit("c", "2024-01-01T00:00:00Z")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, _ := New(Options{})
	if _, err := s.ScanPath(ctx, root, SourceOptions{}, func(Finding) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("ScanPath: err %v, want context.Canceled", err)
	}
	if _, err := s.ScanGit(ctx, r.dir, SourceOptions{}, func(Finding) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("ScanGit: err %v, want context.Canceled", err)
	}
	if err := s.ScanStaged(ctx, r.dir, func(Finding) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("ScanStaged: err %v, want context.Canceled", err)
	}
}
