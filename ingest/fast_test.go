package ingest

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
)

// TestNativeMutations feeds one long-lived decoder realistic lines with a
// few bytes changed, so that the value caches, the learned field order and
// the number and time fast paths see near misses of what they hold, and
// checks every line against refDecode.
func TestNativeMutations(t *testing.T) {
	lines := bytes.Split(bytes.TrimSuffix(benchLines(300), []byte{'\n'}), []byte{'\n'})
	interesting := []byte("\"\\ \t:,.-+eE0019azZT{}[]n\x00\x1f\x7f\x80\xc3\xff")
	rng := rand.New(rand.NewPCG(3, 4))
	d := NewNative(nil)
	n := 100000
	if testing.Short() {
		n = 10000
	}
	for k := range n {
		line := bytes.Clone(lines[rng.IntN(len(lines))])
		if k%4 != 0 { // keep a quarter intact to refill the caches
			for range 1 + rng.IntN(3) {
				i := rng.IntN(len(line))
				switch rng.IntN(4) {
				case 0: // delete a byte
					line = append(line[:i], line[i+1:]...)
				case 1: // insert a byte
					line = append(line[:i], append([]byte{interesting[rng.IntN(len(interesting))]}, line[i:]...)...)
				default: // replace a byte
					line[i] = interesting[rng.IntN(len(interesting))]
				}
			}
		}
		if bytes.IndexByte(line, '\n') >= 0 {
			continue
		}
		d.Reset(bytes.NewReader(line))
		var ev keywatch.Event
		err := d.Next(&ev)
		if err == io.EOF {
			continue // blank
		}
		want, werr := refDecode(line)
		var le *LineError
		switch {
		case err != nil && !errors.As(err, &le):
			t.Fatalf("%q: %v, want a *LineError", line, err)
		case err != nil && werr == nil:
			t.Fatalf("%q: fast rejects (%v), reference accepts %+v", line, err, want)
		case err == nil && werr != nil:
			t.Fatalf("%q: fast accepts %+v, reference rejects (%v)", line, ev, werr)
		case err == nil && ev != want:
			t.Fatalf("%q:\nfast %+v\n ref %+v", line, ev, want)
		}
	}
}

// TestNativeCacheNearMisses checks values that share a cached value's first
// 16 bytes, or are its prefix or extension, or differ only by an escape.
func TestNativeCacheNearMisses(t *testing.T) {
	const pre = `{"time":"2026-06-01T12:30:45.123Z","key_id":`
	values := []string{
		`"search-prod-1"`, `"search-prod-10"`, `"search-prod-"`, `"search-prod-1\u0031"`,
		`"search-prod-1\""`, `"search-prod-1 "`, `"search-prod-1\t"`, `"search-prod-1é"`,
		`"openai-python/1.40.0 (Linux; x86_64) CPython/3.12.4"`,
		`"openai-python/1.40.0 (Linux; x86_64) CPython/3.12.5"`,
		`"openai-python/1.40.0 (Linux; x86_64) CPython/3.12.4 "`,
		`"openai-python/1.40.0 (Linux; x86_64) CPython/3.12"`,
		`"openai-python/1.40.0 (Linux; x86_64) CPython/3.12.\u0034"`,
		`"openai-python/1.40.0"`, `""`, `"x"`,
	}
	tails := []string{
		`,"service":"s","client_ip":"203.0.113.7","user_agent":"u"}`,
		`,"service":"s","client_ip":"203.0.113.70","user_agent":"u"}`,
		`,"service":"s","client_ip":"203.0.113.7 ","user_agent":"u"}`,
		`,"service":"s","client_ip":"203.0.113.\u0037","user_agent":"u"}`,
		`,"service":"s","client_ip":"","user_agent":"u"}`,
		`,"service":"s","client_ip":"2001:db8::1","user_agent":"u"}`,
		`,"service":"s","client_ip":"2001:db8::1:2:3:4:5","user_agent":"u"}`,
		` , "service" : "s" , "client_ip" : "203.0.113.7" }`,
		`}`,
	}
	d := NewNative(nil)
	for range 3 { // later rounds run with warm caches
		for _, v := range values {
			for _, tail := range tails {
				for _, line := range []string{pre + v + tail, pre + v + `,"model":` + v + `,"service":` + v + tail} {
					d.Reset(bytes.NewReader([]byte(line)))
					var ev keywatch.Event
					err := d.Next(&ev)
					want, werr := refDecode([]byte(line))
					if (err == nil) != (werr == nil) || (err == nil && ev != want) {
						t.Fatalf("%s:\nfast %+v (%v)\n ref %+v (%v)", line, ev, err, want, werr)
					}
				}
			}
		}
	}
}

func TestScanPlain(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte("abc \"\\\x00\x1f\x20\x7e\x7f\x80\xff")
	for range 20000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = 'a'
			if rng.IntN(8) == 0 {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		start := 0
		if len(b) > 0 {
			start = rng.IntN(len(b))
		}
		want := start
		for want < len(b) && plain[b[want]] {
			want++
		}
		if got := scanPlain(b, start); got != want {
			t.Fatalf("scanPlain(%q, %d) = %d, want %d", b, start, got, want)
		}
	}
}

func TestKeyPatterns(t *testing.T) {
	for f, name := range fieldNames {
		k := `"` + name + `":`
		if len(k) > 16 {
			t.Fatalf("%s: pattern longer than 16 bytes", k)
		}
		buf := []byte(k + "xxxxxxxxxxxxxxxx")
		if !keyPatterns[f].match(buf) || keyPatterns[f].n != len(k) {
			t.Errorf("%s: no match", k)
		}
		for i := range len(k) {
			bad := bytes.Clone(buf)
			bad[i] ^= 0x20
			if keyPatterns[f].match(bad) {
				t.Errorf("%s: matches %q", k, bad[:len(k)])
			}
		}
	}
}

// TestParseRFC3339 checks the hand-written parser, with its minute cache,
// against time.Parse over the whole year range.
func TestParseRFC3339(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var c minuteCache
	layouts := []string{"2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.999999999Z07:00"}
	zones := []*time.Location{time.UTC, time.FixedZone("", -(2*3600 + 30*60)), time.FixedZone("", 14*3600)}
	for k := range 200000 {
		sec := rng.Int64N(253402300799+62167219200) - 62167219200
		if k%2 == 0 { // runs of nearby times exercise the cache
			sec = 1780317045 + int64(k)
		}
		tm := time.Unix(sec, rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))])
		s := tm.Format(layouts[rng.IntN(len(layouts))])
		want, werr := time.Parse(time.RFC3339Nano, s)
		got, ok := parseTime(&c, []byte(s))
		if ok != (werr == nil) || (ok && got != want.UTC()) {
			t.Fatalf("%s: got %v %v, want %v %v", s, got, ok, want.UTC(), werr)
		}
	}
}
