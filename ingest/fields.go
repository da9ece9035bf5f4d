package ingest

import (
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
	for {
		if p.peek() != '"' {
			return p.failHere("looking for beginning of object key string")
		}
		var name []byte
		k := p.i + 1
		for k < len(p.b) && plain[p.b[k]] { // names are short and plain
			k++
		}
		if k < len(p.b) && p.b[k] == '"' {
			name = p.b[p.i+1 : k]
			p.i = k + 1
		} else {
			var ok bool
			if name, ok = p.str(d); !ok {
				return false
			}
		}
		f := lookupField(name)
		p.ws()
		if p.peek() != ':' {
			return p.failHere("after object key")
		}
		p.i++
		p.ws()
		if f == fUnknown {
			if !p.skipValue(d, 1) {
				return false
			}
		} else if !d.field(p, f, ev) {
			return false
		}
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
			p.ws()
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
			a, ok := d.addr(s)
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

func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// timeField scans a time: an RFC 3339 string or a Unix-milliseconds number.
func (d *Native) timeField(p *parser, ev *keywatch.Event) bool {
	const bad = "not RFC 3339 or Unix ms"
	d.pending &^= 1 << fTime
	ev.Time = time.Time{}
	switch c := p.peek(); {
	case c == '"':
		s, ok := p.str(d)
		if !ok {
			return false
		}
		t, ok := parseTime(s)
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
