package ingest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"

	"github.com/keywatch/keywatch"
)

// MaxLineLen is the longest native line Native decodes, without its line
// ending. A longer line is reported as a *LineError and skipped without being
// buffered whole.
const MaxLineLen = 1 << 20

// Bounds on the per-decoder caches, so that a stream of ever-new values cannot
// grow them without limit. Past a bound, new values are allocated instead of
// cached; values already cached keep hitting.
const (
	maxInternEntries = 1 << 20
	maxInternBytes   = 64 << 20
	maxAddrEntries   = 1 << 16
	strTabBits       = 12
	addrTabBits      = 10
	valTabBits       = 10
	ipTabBits        = 10
)

// LineError reports a native line that could not be decoded. It is not fatal:
// the caller counts or reports it and calls Next again.
type LineError struct {
	Line   int    // 1-based line number in the input
	Reason string // what is wrong, e.g. "field status: want integer, got string"
}

// Error returns "line N: reason".
func (e *LineError) Error() string { return "line " + strconv.Itoa(e.Line) + ": " + e.Reason }

// Native decodes native JSON Lines (DESIGN.md, "Native usage event") into
// caller-owned Events with a hand-written single-pass scanner.
//
// In steady state Next allocates nothing: the line buffer is reused, and
// string fields are interned in a per-decoder table (bounded to about a
// million distinct strings), so events share string data. RequestID, unique
// per event, is not interned: it is copied into a per-decoder arena of 16 KiB
// immutable chunks, which costs one allocation per few hundred events and
// keeps each chunk alive while any of its ids is referenced.
//
// Next is tuned for lines from one writer: it learns the order of the
// fields and checks the expected name first, remembers recent values by
// their first 16 bytes so that a repeated value costs a comparison, and
// converts each time's date and minute once per minute. These caches (about
// 250 KiB besides the 1 MiB line buffer) only save work: a line decodes the
// same whatever they hold.
//
// Times are returned in UTC. Field names are matched exactly (after JSON
// unescaping); for duplicate names the last one wins, as in encoding/json.
//
// A Native is not safe for concurrent use.
type Native struct {
	br      *bufio.Reader
	line    int
	tooLong bool // skipping the rest of an over-long line

	strs    map[string]string // interned strings
	strLen  int               // total bytes interned
	addrs   map[string]netip.Addr
	strTab  [1 << strTabBits]string
	addrTab [1 << addrTabBits]addrEntry
	valTab  [1 << valTabBits]valEntry // recent values by valHash, see cachedString
	ipTab   [1 << ipTabBits]ipEntry   // recent addresses by valHash
	next    [numFields + 1]fieldID    // the predicted field after each, see object
	chunk   []byte                    // arena for request ids
	scratch []byte                    // unescaped string bytes
	stack   []byte                    // container stack for skipping unknown values
	minute  minuteCache

	pending uint32            // fields whose last value was invalid
	reasons [numFields]string // reason for each pending field
	order   [numFields]int    // sequence number of each pending error
	seq     int
}

// NewNative returns a decoder that reads native JSON Lines from r.
func NewNative(r io.Reader) *Native {
	return &Native{
		br:    bufio.NewReaderSize(r, MaxLineLen+2), // room for a full line and "\r\n"
		strs:  make(map[string]string, 1024),
		addrs: make(map[string]netip.Addr, 1024),
		next:  nextField,
	}
}

// Reset makes d read from r, starting again at line 1. It keeps d's buffer
// and intern tables, so one decoder can read several files cheaply.
func (d *Native) Reset(r io.Reader) {
	d.br.Reset(r)
	d.line = 0
	d.tooLong = false
}

// Line returns the 1-based line number of the last line Next returned or
// reported.
func (d *Native) Line() int { return d.line }

// Next decodes the next event into ev, overwriting every field. It returns
// io.EOF at the end of the input, a *LineError for a line that is not a
// valid event (the caller may call Next again), and other errors when reading
// fails. Blank lines are skipped.
func (d *Native) Next(ev *keywatch.Event) error {
	for {
		b, err := d.br.ReadSlice('\n')
		if d.tooLong {
			if err == bufio.ErrBufferFull {
				continue
			}
			d.tooLong = false
			if err == nil || (err == io.EOF && len(b) > 0) {
				continue // the tail of the over-long line
			}
		}
		switch {
		case err == nil:
		case err == bufio.ErrBufferFull:
			d.line++
			d.tooLong = true
			return &LineError{Line: d.line, Reason: "line longer than " + strconv.Itoa(MaxLineLen) + " bytes"}
		case errors.Is(err, io.EOF):
			if len(b) == 0 {
				return io.EOF
			}
		default:
			return fmt.Errorf("read native events after line %d: %w", d.line, err)
		}
		d.line++
		if n := len(b); n > 0 && b[n-1] == '\n' {
			b = b[:n-1]
		}
		if len(b) > MaxLineLen { // only "\r" may overflow the limit
			if len(b) == MaxLineLen+1 && b[MaxLineLen] == '\r' {
				b = b[:MaxLineLen]
			} else {
				return &LineError{Line: d.line, Reason: "line longer than " + strconv.Itoa(MaxLineLen) + " bytes"}
			}
		}
		if d.line == 1 && len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
			b = b[3:] // UTF-8 byte order mark
		}
		if blank(b) {
			continue
		}
		if reason := d.decode(b, ev); reason != "" {
			return &LineError{Line: d.line, Reason: reason}
		}
		return nil
	}
}

// blank reports whether b holds only spaces, tabs and carriage returns.
func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// intern returns b as a string, sharing the data of earlier equal strings.
// A direct-mapped table of recent strings answers most calls with one hash
// and one comparison; the map behind it holds every interned string.
func (d *Native) intern(f fieldID, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	h := hashBytes(b, uint64(f)) >> (64 - strTabBits)
	if s := d.strTab[h]; s == string(b) {
		return s
	}
	s, ok := d.strs[string(b)]
	if !ok {
		s = string(b)
		if len(d.strs) < maxInternEntries && d.strLen+len(s) <= maxInternBytes {
			d.strs[s] = s
			d.strLen += len(s)
		}
	}
	d.strTab[h] = s
	return s
}

// hashBytes is a cheap hash of b's length and of up to 24 of its bytes
// (start, middle, end), mixed with seed; its top bits are the best mixed.
// Collisions only cost a table miss.
func hashBytes(b []byte, seed uint64) uint64 {
	const k1, k2 = 0x9E3779B97F4A7C15, 0xFF51AFD7ED558CCD
	n := len(b)
	h := (seed<<32 ^ uint64(n)) * k2
	if n >= 8 {
		h = (h ^ h>>31 ^ binary.LittleEndian.Uint64(b)) * k1
		if n >= 16 {
			h = (h ^ h>>31 ^ binary.LittleEndian.Uint64(b[n/2-4:])) * k2
		}
		return (h ^ h>>31 ^ binary.LittleEndian.Uint64(b[n-8:])) * k1
	}
	var w uint64
	for _, c := range b {
		w = w<<8 | uint64(c)
	}
	return (h ^ h>>31 ^ w) * k1
}

// unique returns b as a string carved from the request-id arena. Arena bytes
// are never written twice, so the strings stay immutable.
func (d *Native) unique(b []byte) string {
	const chunkSize = 16 << 10
	if len(b) == 0 {
		return ""
	}
	if len(b) > chunkSize/16 {
		return string(b)
	}
	if cap(d.chunk)-len(d.chunk) < len(b) {
		d.chunk = make([]byte, 0, chunkSize)
	}
	n := len(d.chunk)
	d.chunk = append(d.chunk, b...)
	return unsafeString(d.chunk[n : n+len(b)])
}

// addr parses b as an IP address through a direct-mapped table of recent
// addresses and a bounded map. It also returns b as an interned string.
func (d *Native) addr(b []byte) (netip.Addr, string, bool) {
	h := hashBytes(b, 0) >> (64 - addrTabBits)
	if e := &d.addrTab[h]; e.s == string(b) {
		return e.a, e.s, true
	}
	a, ok := d.addrs[string(b)]
	s := d.intern(fClientIP, b)
	if !ok {
		var err error
		if a, err = netip.ParseAddr(s); err != nil {
			return netip.Addr{}, "", false
		}
		if len(d.addrs) < maxAddrEntries {
			d.addrs[s] = a
		}
	}
	d.addrTab[h] = addrEntry{s, a}
	return a, s, true
}

type addrEntry struct {
	s string
	a netip.Addr
}
