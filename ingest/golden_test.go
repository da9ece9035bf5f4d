package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keywatch/keywatch"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGolden decodes testdata/*.jsonl and compares each line's event or
// error with testdata/*.golden.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			f, err := Open(name, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var out strings.Builder
			d := NewNative(f)
			var ev keywatch.Event
			for {
				err := d.Next(&ev)
				if err == io.EOF {
					break
				}
				var le *LineError
				switch {
				case errors.As(err, &le):
					fmt.Fprintf(&out, "%d error: %s\n", d.Line(), le.Reason)
				case err != nil:
					t.Fatal(err)
				default:
					fmt.Fprintf(&out, "%d event: %s", d.Line(), AppendNative(nil, &ev))
				}
			}
			golden := strings.TrimSuffix(name, ".jsonl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), out.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestOpenGzip(t *testing.T) {
	plain, err := os.ReadFile(filepath.Join("testdata", "mixed.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(plain)
	zw.Close()
	p := filepath.Join(t.TempDir(), "events.log") // no .gz: detected by magic
	os.WriteFile(p, z.Bytes(), 0o644)
	for _, tc := range []struct {
		name  string
		stdin io.Reader
	}{{p, nil}, {"-", bytes.NewReader(z.Bytes())}, {"-", bytes.NewReader(plain)}} {
		f, err := Open(tc.name, tc.stdin)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(f)
		f.Close()
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("Open(%q): %v, %d bytes, want %d", tc.name, err, len(got), len(plain))
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "nope"), nil); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("Open of a missing file: %v", err)
	}
}
