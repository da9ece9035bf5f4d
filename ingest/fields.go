package ingest

import (
	"encoding/binary"
	"math"
	"math/bits"
	"net/netip"
	"strconv"
	"time"

	"github.com/keywatch/keywatch"
)

// fieldID names a field of the native format.
type fieldID uint8

const (
	fTime fieldID = iota
	fKeyID
	fService
	fEnv
	fClientIP
	fCountry
	fASN
	fUserAgent
	fProvider
	fModel
	fOperation
	fInputTokens
	fOutputTokens
	fStatus
	fLatencyMS
	fCostUSD
	fRequestID
	numFields
	fUnknown = numFields
)

var fieldNames = [numFields]string{
	"time", "key_id", "service", "env", "client_ip", "country", "asn", "user_agent",
	"provider", "model", "operation", "input_tokens", "output_tokens", "status",
	"latency_ms", "cost_usd", "request_id",
}

// fieldTab maps fieldHash of a name to the field it may be.
var fieldTab = func() (t [32]fieldID) {
	for i := range t {
		t[i] = fUnknown
	}
	for f, name := range fieldNames {
		t[fieldHash(name[0], name[len(name)-1], len(name))] = fieldID(f)
	}
	return t
}()

// fieldHash is a perfect hash of the field names (TestFieldHash checks it).
func fieldHash(first, last byte, n int) int { return (int(first) + int(last)*5 + n) & 31 }

// lookupField maps a field name to its id, or fUnknown.
func lookupField(name []byte) fieldID {
	if len(name) < 3 {
		return fUnknown
	}
	f := fieldTab[fieldHash(name[0], name[len(name)-1], len(name))]
	if f != fUnknown && fieldNames[f] == string(name) {
		return f
	}
	return fUnknown
}

// keyPattern is a field's quoted name and colon, `"name":`, as up to two
// little-endian words and masks, so that a name is recognised with two loads
// and compares. Every pattern fits in 16 bytes (TestKeyPatterns checks it).
type keyPattern struct {
	w0, w1, m0, m1 uint64
	n              int // length of `"name":`
}

var keyPatterns = func() (t [numFields]keyPattern) {
	for f, name := range fieldNames {
		var buf [16]byte
		k := `"` + name + `":`
		n := copy(buf[:], k)
		var mask [16]byte
		for i := range n {
			mask[i] = 0xff
		}
		t[f] = keyPattern{
			w0: binary.LittleEndian.Uint64(buf[:]), w1: binary.LittleEndian.Uint64(buf[8:]),
			m0: binary.LittleEndian.Uint64(mask[:]), m1: binary.LittleEndian.Uint64(mask[8:]),
			n: len(k),
		}
	}
	return t
}()

// match reports whether b (at least 16 bytes) starts with the pattern.
func (k *keyPattern) match(b []byte) bool {
	return (binary.LittleEndian.Uint64(b)^k.w0)&k.m0|(binary.LittleEndian.Uint64(b[8:])^k.w1)&k.m1 == 0
}

// nextField[f] is the field AppendNative most often writes after f: the
// next one in its order, skipping the fields enrichment usually fills;
// nextField[numFields] is the first field. It is each decoder's first
// guess; the decoder then learns its source's order.
var nextField = [numFields + 1]fieldID{
	numFields: fTime,
	fTime:     fKeyID, fKeyID: fService, fService: fEnv, fEnv: fClientIP,
	fClientIP: fUserAgent, fCountry: fASN, fASN: fUserAgent, fUserAgent: fProvider,
	fProvider: fModel, fModel: fOperation, fOperation: fInputTokens,
	fInputTokens: fOutputTokens, fOutputTokens: fStatus, fStatus: fLatencyMS,
	fLatencyMS: fCostUSD, fCostUSD: fRequestID, fRequestID: fTime,
}

// Unix milliseconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: the
// range of RFC 3339 times.
const (
	minUnixMS = -62167219200000
	maxUnixMS = 253402300799999
)

// decode decodes one non-blank line into ev and returns "" or the reason the
// line is invalid.
func (d *Native) decode(line []byte, ev *keywatch.Event) string {
	*ev = keywatch.Event{}
	d.pending = 0
	d.seq = 0
	p := parser{b: line}
	if !d.object(&p, ev) {
		return p.err
	}
	if d.pending != 0 {
		return d.firstPending()
	}
	if ev.KeyID == "" {
		return "missing key_id"
	}
	if ev.Time.IsZero() {
		return "missing time"
	}
	return ""
}

// object scans the top-level object into ev. Field errors are recorded as
// pending (a later duplicate may fix them); syntax errors end the scan.
func (d *Native) object(p *parser, ev *keywatch.Event) bool {
	p.ws()
	if p.peek() != '{' {
		if p.i >= len(p.b) {
			return p.failHere("looking for beginning of object")
		}
		return p.fail(p.i, "line is not a JSON object")
	}
	p.i++
	p.ws()
	if p.peek() == '}' {
		p.i++
		return p.end()
	}
	prev := numFields // the last known field; numFields at the start
	pred := d.next[prev]
	for {
		var f fieldID
		if k := &keyPatterns[pred]; len(p.b)-p.i >= 16 && k.match(p.b[p.i:]) {
			// The common case: the predicted name, unescaped, with its colon.
			f = pred
			p.i += k.n
		} else {
			p.ws()
			if p.peek() != '"' {
				return p.failHere("looking for beginning of object key string")
			}
			var name []byte
			if k := scanPlain(p.b, p.i+1); k < len(p.b) && p.b[k] == '"' {
				name = p.b[p.i+1 : k]
				p.i = k + 1
			} else {
				var ok bool
				if name, ok = p.str(d); !ok {
					return false
				}
			}
			f = lookupField(name)
			p.ws()
			if p.peek() != ':' {
				return p.failHere("after object key")
			}
			p.i++
		}
		if f != fUnknown {
			if f != pred {
				d.next[prev] = f // learn the source's order
			}
			prev, pred = f, d.next[f]
		}
		p.ws()
		if f == fUnknown {
			if !p.skipValue(d, 1) {
				return false
			}
		} else if !d.field(p, f, ev) {
			return false
		}
		if p.i < len(p.b) && p.b[p.i] == ',' {
			p.i++ // the next member, whitespace and all, is scanned above
			continue
		}
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return p.end()
		default:
			return p.failHere("after object key:value pair")
		}
	}
}

// end checks that only whitespace follows the object.
func (p *parser) end() bool {
	p.ws()
	if p.i < len(p.b) {
		return p.fail(p.i, "trailing data after object")
	}
	return true
}

// field scans the value of a known field into ev. It returns false only on
// a syntax error.
func (d *Native) field(p *parser, f fieldID, ev *keywatch.Event) bool {
	c := p.peek()
	if c == 'n' { // null: the field is absent
		if !p.literal() {
			return false
		}
		d.set(f, ev, nil)
		return true
	}
	switch f {
	case fTime:
		return d.timeField(p, ev)
	case fASN, fInputTokens, fOutputTokens, fStatus, fLatencyMS, fCostUSD:
		if c != '"' && c != '{' && c != '[' && c != 't' && c != 'f' {
			return d.numField(p, f, ev)
		}
		d.wrongType(f, c)
		return p.skipValue(d, 1)
	}
	if c != '"' {
		d.wrongType(f, c)
		return p.skipValue(d, 1)
	}
	switch f {
	case fKeyID, fService, fEnv, fUserAgent, fProvider, fModel, fOperation:
		return d.cachedString(p, f, ev)
	case fClientIP:
		return d.cachedAddr(p, ev)
	}
	s, ok := p.str(d)
	if !ok {
		return false
	}
	d.set(f, ev, s)
	return true
}

// set stores the string value s (nil for null) of field f.
func (d *Native) set(f fieldID, ev *keywatch.Event, s []byte) {
	d.pending &^= 1 << f
	switch f {
	case fTime:
		ev.Time = time.Time{}
	case fKeyID:
		ev.KeyID = d.intern(f, s)
	case fService:
		ev.Service = d.intern(f, s)
	case fEnv:
		ev.Env = d.intern(f, s)
	case fClientIP:
		ev.ClientIP = netip.Addr{}
		if len(s) > 0 {
			a, _, ok := d.addr(s)
			if !ok {
				d.invalid(f, "not an IP address: "+strconv.Quote(string(s)))
				return
			}
			ev.ClientIP = a
		}
	case fCountry:
		ev.Country = ""
		if len(s) > 0 {
			if len(s) != 2 || !isLetter(s[0]) || !isLetter(s[1]) {
				d.invalid(f, "want 2-letter ISO 3166-1 code, got "+strconv.Quote(string(s)))
				return
			}
			up := [2]byte{s[0] &^ 0x20, s[1] &^ 0x20}
			ev.Country = d.intern(f, up[:])
		}
	case fASN:
		ev.ASN = 0
	case fUserAgent:
		ev.UserAgent = d.intern(f, s)
	case fProvider:
		ev.Provider = d.intern(f, s)
	case fModel:
		ev.Model = d.intern(f, s)
	case fOperation:
		ev.Operation = d.intern(f, s)
	case fInputTokens:
		ev.InputTokens = 0
	case fOutputTokens:
		ev.OutputTokens = 0
	case fStatus:
		ev.Status = 0
	case fLatencyMS:
		ev.LatencyMS = 0
	case fCostUSD:
		ev.CostUSD = 0
	case fRequestID:
		ev.RequestID = d.unique(s)
	}
}

// valHash hashes the 16 bytes at the start of a string value (past its
// quote, and whatever follows it on the line), as two little-endian words,
// with f, for the value caches. Its top bits are the best mixed.
func valHash(w0, w1 uint64, f fieldID) uint64 {
	const k1, k2 = 0x9E3779B97F4A7C15, 0xFF51AFD7ED558CCD
	h := (w0 ^ uint64(f)) * k1
	return (h ^ h>>29 ^ w1) * k2
}

// valEntry is a cached plain string value: s, and the first 16 bytes of s
// and its closing quote as masked words, so that a short value is matched
// with two compares.
type valEntry struct {
	s      string
	w0, w1 uint64
	m0, m1 uint64
}

// ipEntry is a cached client_ip value and its address.
type ipEntry struct {
	valEntry
	addr netip.Addr
}

// newValEntry returns the entry for s, which the line holds followed by a
// quote at the start of the window w0, w1.
func newValEntry(s string, w0, w1 uint64) valEntry {
	n := min(len(s)+1, 16) // bytes of the window to compare
	m0, m1 := ^uint64(0), ^uint64(0)
	if n < 8 {
		m0, m1 = 1<<(8*n)-1, 0
	} else if n < 16 {
		m1 = 1<<(8*(n-8)) - 1
	}
	return valEntry{s: s, w0: w0 & m0, w1: w1 & m1, m0: m0, m1: m1}
}

// hit reports whether the string at b[start:] is e.s: the window w0, w1
// (the 16 bytes at start) agrees, and so does the rest for long values.
func (e *valEntry) hit(b []byte, start int, w0, w1 uint64) bool {
	if w0&e.m0 != e.w0 || w1&e.m1 != e.w1 || e.m0 == 0 {
		return false // e.m0 == 0: an empty entry
	}
	if len(e.s) < 16 {
		return true // the quote is in the window
	}
	end := start + len(e.s)
	return end < len(b) && b[end] == '"' && string(b[start+16:end]) == e.s[16:]
}

// cachedString scans the string value at p.i (a '"') of an interned field.
//
// Lines from one source repeat a small set of values, so d.valTab maps a
// hash of the first 16 bytes at the value to the last plain string seen
// there. A hit costs a comparison or two: cached strings hold no quote,
// backslash, control or non-ASCII byte, so when the line has the cached
// bytes followed by '"', that is the whole string, unescaped and valid. A
// miss scans and interns the string, and caches it if it is plain.
func (d *Native) cachedString(p *parser, f fieldID, ev *keywatch.Event) bool {
	b := p.b
	start := p.i + 1
	if len(b)-start < 16 {
		s, ok := p.str(d)
		if !ok {
			return false
		}
		d.set(f, ev, s)
		return true
	}
	w0, w1 := binary.LittleEndian.Uint64(b[start:]), binary.LittleEndian.Uint64(b[start+8:])
	e := &d.valTab[valHash(w0, w1, f)>>(64-valTabBits)]
	if e.hit(b, start, w0, w1) {
		p.i = start + len(e.s) + 1
		d.setString(f, ev, e.s)
		return true
	}
	i := scanPlain(b, start)
	if i < len(b) && b[i] == '"' {
		p.i = i + 1
		s := d.intern(f, b[start:i])
		*e = newValEntry(s, w0, w1)
		d.setString(f, ev, s)
		return true
	}
	v, ok := p.strSlow(d, start, i)
	if !ok {
		return false
	}
	d.set(f, ev, v)
	return true
}

// setString stores the interned value s of string field f.
func (d *Native) setString(f fieldID, ev *keywatch.Event, s string) {
	d.pending &^= 1 << f
	switch f {
	case fKeyID:
		ev.KeyID = s
	case fService:
		ev.Service = s
	case fEnv:
		ev.Env = s
	case fUserAgent:
		ev.UserAgent = s
	case fProvider:
		ev.Provider = s
	case fModel:
		ev.Model = s
	case fOperation:
		ev.Operation = s
	}
}

// cachedAddr scans the client_ip string at p.i (a '"') through d.ipTab, a
// cache like d.valTab (see cachedString) that also holds parsed addresses.
func (d *Native) cachedAddr(p *parser, ev *keywatch.Event) bool {
	b := p.b
	start := p.i + 1
	if len(b)-start < 16 {
		s, ok := p.str(d)
		if !ok {
			return false
		}
		d.set(fClientIP, ev, s)
		return true
	}
	w0, w1 := binary.LittleEndian.Uint64(b[start:]), binary.LittleEndian.Uint64(b[start+8:])
	e := &d.ipTab[valHash(w0, w1, fClientIP)>>(64-ipTabBits)]
	if e.hit(b, start, w0, w1) {
		p.i = start + len(e.s) + 1
		d.pending &^= 1 << fClientIP
		ev.ClientIP = e.addr
		return true
	}
	i := scanPlain(b, start)
	if i < len(b) && b[i] == '"' && i > start {
		p.i = i + 1
		d.pending &^= 1 << fClientIP
		ev.ClientIP = netip.Addr{}
		a, s, ok := d.addr(b[start:i])
		if !ok {
			d.invalid(fClientIP, "not an IP address: "+strconv.Quote(string(b[start:i])))
			return true
		}
		ev.ClientIP = a
		*e = ipEntry{newValEntry(s, w0, w1), a}
		return true
	}
	v, ok := p.strSlow(d, start, i)
	if !ok {
		return false
	}
	d.set(fClientIP, ev, v)
	return true
}

func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// timeField scans a time: an RFC 3339 string or a Unix-milliseconds number.
func (d *Native) timeField(p *parser, ev *keywatch.Event) bool {
	const bad = "not RFC 3339 or Unix ms"
	d.pending &^= 1 << fTime
	ev.Time = time.Time{}
	switch c := p.peek(); {
	case c == '"':
		// The common form, 2006-01-02T15:04:05.000Z, without scanning the
		// string first: parseRFC3339 accepts only digits and separators,
		// so a quote after 24 accepted bytes ends the string.
		if i := p.i; len(p.b)-i >= 26 && p.b[i+25] == '"' {
			if t, ok := parseRFC3339(&d.minute, p.b[i+1:i+25]); ok {
				p.i = i + 26
				ev.Time = t
				return true
			}
		}
		s, ok := p.str(d)
		if !ok {
			return false
		}
		t, ok := parseTime(&d.minute, s)
		if !ok {
			d.invalid(fTime, bad)
			return true
		}
		ev.Time = t
	case c == '-' || ('0' <= c && c <= '9'):
		text, n, isInt, ok := p.number()
		if !ok {
			return false
		}
		if isInt {
			if n < minUnixMS || n > maxUnixMS {
				d.invalid(fTime, "out of range")
				return true
			}
			ev.Time = time.UnixMilli(n).UTC()
			return true
		}
		f, err := strconv.ParseFloat(unsafeString(text), 64)
		if err != nil || f < minUnixMS || f > maxUnixMS {
			d.invalid(fTime, "out of range")
			return true
		}
		ev.Time = UnixMilliFloat(f)
	default:
		d.wrongType(fTime, c)
		return p.skipValue(d, 1)
	}
	return true
}

// UnixMilliFloat returns the UTC time ms milliseconds after the Unix epoch,
// rounded to the nanosecond.
func UnixMilliFloat(ms float64) time.Time {
	whole := math.Floor(ms)
	ns := int64(math.Round((ms - whole) * 1e6))
	return time.UnixMilli(int64(whole)).Add(time.Duration(ns)).UTC()
}

// numField scans a number into an integer or float field.
func (d *Native) numField(p *parser, f fieldID, ev *keywatch.Event) bool {
	if d.numFast(p, f, ev) {
		return true
	}
	text, n, isInt, ok := p.number()
	if !ok {
		return false
	}
	d.pending &^= 1 << f
	switch f {
	case fLatencyMS, fCostUSD:
		v := float64(n)
		if !isInt {
			var err error
			v, err = strconv.ParseFloat(unsafeString(text), 64)
			if err != nil {
				d.invalid(f, "out of range: "+string(text))
				return true
			}
		}
		if f == fLatencyMS {
			ev.LatencyMS = v
		} else {
			ev.CostUSD = v
		}
		return true
	}
	if !isInt {
		var reason string
		n, reason = intValue(text)
		if reason != "" {
			d.invalid(f, reason)
			return true
		}
	}
	var max int64
	switch f {
	case fASN:
		max = math.MaxUint32
	case fStatus:
		max = 999
	default:
		max = math.MaxInt64
	}
	if n < 0 {
		d.invalid(f, "want non-negative integer, got "+string(text))
		return true
	}
	if n > max {
		d.invalid(f, "out of range: "+string(text))
		return true
	}
	switch f {
	case fASN:
		ev.ASN = uint32(n)
	case fStatus:
		ev.Status = int(n)
	case fInputTokens:
		ev.InputTokens = n
	case fOutputTokens:
		ev.OutputTokens = n
	}
	return true
}

// numFast decodes the common numbers, plain integers of up to 15 digits and
// decimals of up to 15 significant digits without exponent, when they are in
// range for f. It returns false, having consumed nothing, for anything else.
func (d *Native) numFast(p *parser, f fieldID, ev *keywatch.Event) bool {
	b := p.b
	i := p.i
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	var m uint64
	nd := 0 // digits in m
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for ; i < len(b) && isDigit(b[i]); i++ {
			m = m*10 + uint64(b[i]-'0')
			nd++
		}
	default:
		return false
	}
	frac := 0
	if i < len(b) && b[i] == '.' {
		i++
		for ; i < len(b) && isDigit(b[i]); i++ {
			m = m*10 + uint64(b[i]-'0')
			nd++
			frac++
		}
		if frac == 0 {
			return false
		}
	}
	if nd > 15 || (i < len(b) && (b[i] == 'e' || b[i] == 'E' || isDigit(b[i]))) {
		return false // a long or exponent number, or "0" followed by a digit
	}
	switch f {
	case fLatencyMS, fCostUSD:
		// Both operands are exact, so the quotient is correctly rounded,
		// as strconv.ParseFloat's result is.
		v := float64(m) / pow10f[frac]
		if neg {
			v = -v
		}
		if f == fLatencyMS {
			ev.LatencyMS = v
		} else {
			ev.CostUSD = v
		}
	case fInputTokens, fOutputTokens, fStatus, fASN:
		if frac != 0 || (neg && m != 0) {
			return false
		}
		switch f {
		case fInputTokens:
			ev.InputTokens = int64(m)
		case fOutputTokens:
			ev.OutputTokens = int64(m)
		case fStatus:
			if m > 999 {
				return false
			}
			ev.Status = int(m)
		case fASN:
			if m > math.MaxUint32 {
				return false
			}
			ev.ASN = uint32(m)
		}
	default:
		return false
	}
	d.pending &^= 1 << f
	p.i = i
	return true
}

// pow10f[k] is 10**k, exact as a float64.
var pow10f = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// intValue converts a number that is not a short plain integer: a long
// integer, or a float with a zero fraction such as 12.0 or 1e3.
func intValue(text []byte) (int64, string) {
	if n, err := strconv.ParseInt(unsafeString(text), 10, 64); err == nil {
		return n, ""
	}
	f, err := strconv.ParseFloat(unsafeString(text), 64)
	if err != nil || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, "out of range: " + string(text)
	}
	if f != math.Trunc(f) {
		return 0, "want integer, got " + string(text)
	}
	return int64(f), ""
}

// wrongType records a type error for field f whose value starts with c.
func (d *Native) wrongType(f fieldID, c byte) {
	want := "string"
	switch f {
	case fTime:
		want = "string or number"
	case fASN, fInputTokens, fOutputTokens, fStatus:
		want = "integer"
	case fLatencyMS, fCostUSD:
		want = "number"
	}
	d.invalid(f, "want "+want+", got "+kind(c))
}

// invalid records that the current value of field f is invalid. The error
// stands unless a later duplicate of the field is valid.
func (d *Native) invalid(f fieldID, reason string) {
	d.pending |= 1 << f
	d.reasons[f] = "field " + fieldNames[f] + ": " + reason
	d.order[f] = d.seq
	d.seq++
}

// firstPending returns the reason of the earliest pending field error.
func (d *Native) firstPending() string {
	best := fieldID(numFields)
	for m := d.pending; m != 0; m &= m - 1 {
		f := fieldID(bits.TrailingZeros32(m))
		if best == numFields || d.order[f] < d.order[best] {
			best = f
		}
	}
	return d.reasons[best]
}
