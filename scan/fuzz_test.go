package scan

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"unicode/utf8"
)

func checkPos(t *testing.T, dec []byte, pos []int32, n int) {
	t.Helper()
	if len(pos) != len(dec) {
		t.Fatalf("%d positions for %d bytes", len(pos), len(dec))
	}
	for i, p := range pos {
		if p < 0 || int(p) >= n || (i > 0 && p < pos[i-1]) {
			t.Fatalf("pos[%d] = %d (of %d), not in order", i, p, n)
		}
	}
}

func FuzzBase64Candidates(f *testing.F) {
	f.Add([]byte("sk-ant-api03-abc"), 0)
	f.Add([]byte{0, 1, 2, 0xff}, 2)
	f.Fuzz(func(t *testing.T, data []byte, shift int) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
			e := enc.EncodeToString(data)
			dec, pos := base64Decode(nil, nil, []byte(e), 0)
			if !bytes.Equal(dec, data) {
				t.Fatalf("round trip %x: got %x", data, dec)
			}
			checkPos(t, dec, pos, len(e))
		}
		// Arbitrary input, decoded and scanned at an arbitrary alignment.
		dec, pos := base64Decode(nil, nil, data, 0)
		checkPos(t, dec, pos, len(data))
		s, _ := New(Options{})
		text := append(bytes.Repeat([]byte("A"), shift&3), base64.StdEncoding.EncodeToString(data)...)
		s.ScanBytes("fuzz", append(text, data...), func(Finding) {})
	})
}

func FuzzURLDecode(f *testing.F) {
	f.Add([]byte("sk%2Dproj%2dx%zz%4"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var enc bytes.Buffer
		for _, c := range data {
			fmt.Fprintf(&enc, "%%%02X", c)
		}
		dec, pos := urlDecode(nil, nil, enc.Bytes(), 0)
		if !bytes.Equal(dec, data) {
			t.Fatalf("round trip %q: got %q", data, dec)
		}
		checkPos(t, dec, pos, enc.Len())
		dec, pos = urlDecode(nil, nil, data, 0)
		checkPos(t, dec, pos, len(data))
		if !bytes.Contains(data, []byte("%")) && !bytes.Equal(dec, data) {
			t.Fatalf("no escapes, but %q decoded to %q", data, dec)
		}
	})
}

func FuzzJSONUnescape(f *testing.F) {
	f.Add([]byte(`sk\u002dant\/x\x2d\ud83d\ude00\u12`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dec, pos := jsonUnescape(nil, nil, data, 0)
		checkPos(t, dec, pos, len(data))
		if !utf8.Valid(data) {
			return
		}
		q, _ := json.Marshal(string(data))
		q = q[1 : len(q)-1]
		dec, pos = jsonUnescape(nil, nil, q, 0)
		if !bytes.Equal(dec, data) {
			t.Fatalf("round trip %q via %q: got %q", data, q, dec)
		}
		checkPos(t, dec, pos, len(q))
	})
}
