package ingest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/keywatch/keywatch"
)

// FuzzNative checks that Native never panics and agrees with refDecode, the
// encoding/json reference, on every line: both accept it with the same
// event, or both reject it.
func FuzzNative(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for line := range bytes.SplitSeq(data, []byte{'\n'}) {
			f.Add(line)
		}
	}
	f.Add(benchLines(3))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Split(data, []byte{'\n'})
		d := fuzzDecoder
		d.Reset(bytes.NewReader(data))
		var ev keywatch.Event
		next := 0 // index of the next line to account for
		for {
			err := d.Next(&ev)
			if err == io.EOF {
				break
			}
			n := d.Line()
			if n < 1 || n > len(lines) {
				t.Fatalf("line %d of %d", n, len(lines))
			}
			for ; next < n-1; next++ {
				if !blank(lines[next]) && !(next == 0 && blank(bytes.TrimPrefix(lines[0], bom))) {
					t.Fatalf("line %d skipped but not blank: %q", next+1, lines[next])
				}
			}
			next = n
			line := lines[n-1]
			if n == 1 {
				line = bytes.TrimPrefix(line, bom)
			}
			want, werr := refDecode(line)
			var le *LineError
			switch {
			case err != nil && !errors.As(err, &le):
				t.Fatalf("line %d: %v, want a *LineError", n, err)
			case err != nil && werr == nil:
				t.Fatalf("line %d %q: fast rejects (%v), reference accepts %+v", n, line, err, want)
			case err == nil && werr != nil:
				t.Fatalf("line %d %q: fast accepts %+v, reference rejects (%v)", n, line, ev, werr)
			case err == nil && ev != want:
				t.Fatalf("line %d %q:\nfast %+v\n ref %+v", n, line, ev, want)
			}
		}
	})
}

// fuzzDecoder is reused across inputs: a new Native costs a 1 MiB buffer.
var fuzzDecoder = NewNative(nil)

var bom = []byte{0xEF, 0xBB, 0xBF}
