package ingest

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/keywatch/keywatch/internal/hexdigit"
)

// maxDepth is encoding/json's nesting limit, kept so that both accept the same
// lines.
const maxDepth = 10000

// parser scans one line. It lives on the stack of Native.decode.
type parser struct {
	b   []byte
	i   int
	err string // syntax error; set once
}

// fail records a syntax error at byte offset at and returns false.
func (p *parser) fail(at int, what string) bool {
	if p.err == "" {
		p.err = "invalid JSON at byte " + strconv.Itoa(at+1) + ": " + what
	}
	return false
}

// failHere reports an unexpected byte, or the end of the line, at p.i.
func (p *parser) failHere(context string) bool {
	if p.i >= len(p.b) {
		return p.fail(p.i, "unexpected end of line "+context)
	}
	return p.fail(p.i, "unexpected "+quoteByte(p.b[p.i])+" "+context)
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return "byte 0x" + strconv.FormatUint(uint64(c), 16)
}

// ws skips JSON whitespace.
func (p *parser) ws() {
	if p.i < len(p.b) && p.b[p.i] > ' ' {
		return
	}
	p.wsSlow()
}

func (p *parser) wsSlow() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

// peek returns the byte at p.i, or 0 at the end.
func (p *parser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// kind names the JSON type of the value starting with c, for messages.
func kind(c byte) string {
	switch c {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// Word-at-a-time tests used to skip plain string bytes 8 at a time.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// specials returns a mask whose lowest set bit is the high bit of the first
// byte of w (in memory order) that is '"', '\\', a control character or
// non-ASCII, or 0 when there is none. Bits above the lowest may be spurious
// (borrows between bytes), so only the lowest is meaningful.
func specials(w uint64) uint64 {
	q := w ^ (lsb * '"')
	s := w ^ (lsb * '\\')
	return ((q-lsb)&^q | (s-lsb)&^s | (w - lsb*0x20) | w) & msb
}

// plain[c] is true for bytes that may appear in a JSON string unescaped and
// need no UTF-8 check.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanPlain returns the index of the first byte of b at or after i that is
// not plain, or len(b). It reads 8 bytes at a time and finds the byte in the
// same pass, so a string is scanned once.
func scanPlain(b []byte, i int) int {
	for i+8 <= len(b) {
		if m := specials(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(b) && plain[b[i]] {
		i++
	}
	return i
}

// str scans the string starting at p.i (a '"') and returns its decoded
// bytes. The result aliases the line, or d.scratch when the string has
// escapes or non-ASCII bytes, and is valid until the next call.
func (p *parser) str(d *Native) ([]byte, bool) {
	b := p.b
	start := p.i + 1
	i := scanPlain(b, start)
	if i < len(b) && b[i] == '"' {
		p.i = i + 1
		return b[start:i], true
	}
	return p.strSlow(d, start, i)
}

// strSlow decodes a string with escapes or non-ASCII bytes into d.scratch,
// as encoding/json does: invalid UTF-8 and lone surrogates become U+FFFD.
func (p *parser) strSlow(d *Native, start, i int) ([]byte, bool) {
	b := p.b
	out := append(d.scratch[:0], b[start:i]...)
	defer func() { d.scratch = out[:0] }()
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			p.i = i + 1
			return out, true
		case c == '\\':
			if i+1 >= len(b) {
				return nil, p.fail(i+1, "unexpected end of line in string escape")
			}
			switch e := b[i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(b, i+2)
				if !ok {
					return nil, p.fail(i+2, "invalid \\u escape in string")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if r2, ok := hex4(b, i+2); ok && i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							out = utf8.AppendRune(out, dec)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
				continue
			default:
				return nil, p.fail(i+1, "invalid escape "+quoteByte(e)+" in string")
			}
			i += 2
		case c < 0x20:
			return nil, p.fail(i, "control character in string")
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, b[i:i+size]...)
			}
			i += size
		}
	}
	return nil, p.fail(i, "unterminated string")
}

// hex4 decodes 4 hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		d, ok := hexdigit.Value(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// number scans a JSON number at p.i and returns its text. isInt reports a
// plain integer (no fraction or exponent) of at most 18 digits, whose value
// is then in n.
func (p *parser) number() (text []byte, n int64, isInt, ok bool) {
	b := p.b
	start := p.i
	i := start
	neg := false
	digits := 0 // more than 18 when n is incomplete
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		first := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			if i-first < 18 {
				n = n*10 + int64(b[i]-'0')
			}
			i++
		}
		if i-first > 18 {
			digits = i - first
		}
	default:
		p.i = i
		return nil, 0, false, p.failHere("in number")
	}
	isInt = digits <= 18
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			p.i = i
			return nil, 0, false, p.failHere("after decimal point in number")
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		isInt = false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			p.i = i
			return nil, 0, false, p.failHere("in number exponent")
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		isInt = false
	}
	if neg {
		n = -n
	}
	p.i = i
	return b[start:i], n, isInt, true
}

// literal scans true, false or null at p.i.
func (p *parser) literal() bool {
	var want string
	switch p.peek() {
	case 't':
		want = "true"
	case 'f':
		want = "false"
	case 'n':
		want = "null"
	default:
		return p.failHere("looking for beginning of value")
	}
	for k := 0; k < len(want); k++ {
		if p.i+k >= len(p.b) || p.b[p.i+k] != want[k] {
			p.i += k
			return p.failHere("in literal " + want)
		}
	}
	p.i += len(want)
	return true
}

// skipValue scans any JSON value at p.i (after whitespace), checking its
// syntax, without recursion. depth is the nesting depth of the value's
// container.
func (p *parser) skipValue(d *Native, depth int) bool {
	stack := d.stack[:0]
	defer func() { d.stack = stack[:0] }()
	for {
		// A value.
		p.ws()
		switch p.peek() {
		case '{', '[':
			c := p.b[p.i]
			if depth+len(stack)+1 > maxDepth {
				return p.fail(p.i, "exceeded max depth")
			}
			stack = append(stack, c)
			p.i++
			p.ws()
			if c == '{' {
				if p.peek() == '}' {
					p.i++
					stack = stack[:len(stack)-1]
					break
				}
				if !p.skipKey(d) {
					return false
				}
			} else if p.peek() == ']' {
				p.i++
				stack = stack[:len(stack)-1]
				break
			}
			continue // the first member's value
		case '"':
			if _, ok := p.str(d); !ok {
				return false
			}
		case 't', 'f', 'n':
			if !p.literal() {
				return false
			}
		default:
			if _, _, _, ok := p.number(); !ok {
				return false
			}
		}
		// After a value: close containers or move to the next member.
		for {
			if len(stack) == 0 {
				return true
			}
			p.ws()
			top := stack[len(stack)-1]
			c := p.peek()
			if c == ',' {
				p.i++
				if top == '{' {
					p.ws()
					if !p.skipKey(d) {
						return false
					}
				}
				break
			}
			if (top == '{' && c == '}') || (top == '[' && c == ']') {
				p.i++
				stack = stack[:len(stack)-1]
				continue
			}
			if top == '{' {
				return p.failHere("after object key:value pair")
			}
			return p.failHere("after array element")
		}
	}
}

// skipKey scans an object key and its colon.
func (p *parser) skipKey(d *Native) bool {
	if p.peek() != '"' {
		return p.failHere("looking for beginning of object key string")
	}
	if _, ok := p.str(d); !ok {
		return false
	}
	p.ws()
	if p.peek() != ':' {
		return p.failHere("after object key")
	}
	p.i++
	return true
}

// unsafeString returns b's bytes as a string without copying. The caller
// guarantees that b is never modified afterwards or that the string does not
// outlive the call it is passed to.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
