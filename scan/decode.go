package scan

import (
	"encoding/base64"
	"unicode/utf8"
)

// The decoding layer finds keys that CI logs and artifacts carry in
// encoded form: base64 blobs (Kubernetes secrets, Docker auth, CI
// variables), percent-encoded query strings and JSON or source-code string
// escapes. It is driven by the same prefilter pass as the detectors:
//
//   - base64: every keyword of four or more bytes is also searched for in
//     its base64 rendering at each of the three byte alignments (the
//     characters that do not depend on neighbouring bytes, when there are at
//     least four of them: a four-byte keyword such as "xai-" has five at one
//     alignment and four at the other two), in both the standard and
//     URL-safe alphabets;
//   - percent-encoding: the escapes of '-', '_', '+', '/' and '=' (%2D,
//     %5F, %2B, %2F, %3D), the bytes keys are made of that encoders escape,
//     and of the quotes, colon and space that sit next to keys (%22, %27,
//     %3A, %20) and would glue an escape to the key's first byte;
//   - backslash escapes: \u00 (JSON's \u002d and friends), \/ and \x2d, \x5f.
//
// On a hit the region around it (bounded by the longest key an encoding can
// produce) is decoded once and scanned again, with every detector and every
// decoder, down to Options.MaxDepth. Each decoded byte remembers the offset
// of its encoded form, so findings report where the key sits in the input
// and the chain of encodings it was found under ("base64", "url/json").

// b64Stable is one base64 anchor: text is the part of a keyword's base64
// rendering that does not depend on neighbouring bytes, and quad is its
// offset from the start of a 4-character group.
type b64Stable struct {
	text string
	quad int
}

// base64Anchors returns the stable base64 renderings of word.
func base64Anchors(word string) []b64Stable {
	var out []b64Stable
	for align := 0; align < 3; align++ {
		in := make([]byte, align+len(word)+3)
		copy(in[align:], word)
		enc := base64.StdEncoding.EncodeToString(in)
		// Character j holds input bits [6j, 6j+6): bytes (6j)/8 .. (6j+5)/8.
		lo, hi := -1, -1
		for j := 0; j < len(enc); j++ {
			b0, b1 := 6*j/8, (6*j+5)/8
			if b0 >= align && b1 < align+len(word) {
				if lo < 0 {
					lo = j
				}
				hi = j + 1
			}
		}
		if lo < 0 || hi-lo < 4 {
			continue
		}
		text := enc[lo:hi]
		out = append(out, b64Stable{text: text, quad: lo % 4})
		if u := toURLSafe(text); u != text {
			out = append(out, b64Stable{text: u, quad: lo % 4})
		}
	}
	return out
}

func toURLSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch c {
		case '+':
			b[i] = '-'
		case '/':
			b[i] = '_'
		}
	}
	return string(b)
}

var (
	b64Run     = charset("A-Za-z0-9+/_-")
	urlRegion  = charset("A-Za-z0-9%._~+/=-")
	jsonRegion = charset("A-Za-z0-9%._~+/=\\-")
	b64Val     = func() (t [256]int8) {
		for i := range t {
			t[i] = -1
		}
		const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		for i := 0; i < len(std); i++ {
			t[std[i]] = int8(i)
		}
		t['-'], t['_'] = 62, 63
		return t
	}()
)

// decode decodes the region around a decoder hit at buf[start:] and scans
// the result one level deeper.
func (st *state) decode(buf []byte, start int, act action, lv *level) {
	reach := 3 * st.s.maxSecret
	set, name := urlRegion, "url"
	switch act.kind {
	case actJSON:
		set, name = jsonRegion, "json"
	case actBase64:
		set, name = b64Run, "base64"
		reach = 4*st.s.maxSecret/3 + 8
	}
	lo, hi := start, start
	for lo > 0 && lo > start-reach && set[buf[lo-1]] {
		lo--
	}
	for hi < len(buf) && hi < start+reach && set[buf[hi]] {
		hi++
	}
	lv.decodedTo[act.kind] = hi
	child := st.levels[lv.depth+1]
	dec, pos := lv.dec[:0], lv.pos[:0]
	switch act.kind {
	case actURL:
		dec, pos = urlDecode(dec, pos, buf[lo:hi], lo)
	case actJSON:
		dec, pos = jsonUnescape(dec, pos, buf[lo:hi], lo)
	case actBase64:
		// The anchor fixes where 4-character groups start.
		first := lo + ((start-act.quad-lo)%4+4)%4
		if first >= hi {
			return
		}
		dec, pos = base64Decode(dec, pos, buf[first:hi], first)
	}
	if len(dec) == 0 || (act.kind != actBase64 && len(dec) == hi-lo) {
		lv.dec, lv.pos = dec, pos
		return // nothing was decoded
	}
	pos = append(pos, int32(hi))
	for i, p := range pos {
		pos[i] = int32(lv.topOffset(int(p)))
	}
	lv.dec, lv.pos = dec, pos
	child.orig = pos
	child.up, child.upBuf, child.upLo, child.upHi = lv, buf, lo, hi
	child.enc = name
	if lv.enc != "" {
		child.enc = lv.enc + "/" + name
	}
	st.scanLevel(dec, child)
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// urlDecode appends the percent-decoding of src to dst, and to pos the
// offset (base + index in src) each decoded byte came from. Malformed
// escapes and '+' are kept as they are: keys contain '+' more often than
// query strings encode spaces in them.
func urlDecode(dst []byte, pos []int32, src []byte, base int) ([]byte, []int32) {
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '%' && i+2 < len(src) {
			if h, l := unhex(src[i+1]), unhex(src[i+2]); h >= 0 && l >= 0 {
				dst = append(dst, byte(h<<4|l))
				pos = append(pos, int32(base+i))
				i += 2
				continue
			}
		}
		dst = append(dst, c)
		pos = append(pos, int32(base+i))
	}
	return dst, pos
}

// jsonUnescape appends the unescaping of src to dst: JSON's \" \\ \/ \b
// \f \n \r \t and \uXXXX (with surrogate pairs), and \xHH as C, Python and
// JavaScript write it. Anything else, malformed escapes included, is kept
// as it is. pos is as for urlDecode.
func jsonUnescape(dst []byte, pos []int32, src []byte, base int) ([]byte, []int32) {
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c != '\\' || i+1 >= len(src) {
			dst = append(dst, c)
			pos = append(pos, int32(base+i))
			continue
		}
		at := int32(base + i)
		var r rune = -1
		n := 2 // bytes consumed
		switch e := src[i+1]; e {
		case '"', '\\', '/', '\'':
			r = rune(e)
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'x':
			if i+3 < len(src) {
				if h, l := unhex(src[i+2]), unhex(src[i+3]); h >= 0 && l >= 0 {
					dst = append(dst, byte(h<<4|l))
					pos = append(pos, at)
					i += 3
					continue
				}
			}
		case 'u':
			if u := hex4(src, i+2); u >= 0 {
				r, n = rune(u), 6
				if u >= 0xD800 && u < 0xDC00 && i+11 < len(src) && src[i+6] == '\\' && src[i+7] == 'u' {
					if l := hex4(src, i+8); l >= 0xDC00 && l < 0xE000 {
						r, n = 0x10000+(rune(u)-0xD800)<<10+(rune(l)-0xDC00), 12
					}
				}
			}
		}
		if r < 0 {
			dst = append(dst, c)
			pos = append(pos, at)
			continue
		}
		k := len(dst)
		dst = utf8.AppendRune(dst, r)
		for range len(dst) - k {
			pos = append(pos, at)
		}
		i += n - 1
	}
	return dst, pos
}

func hex4(src []byte, i int) int {
	if i+4 > len(src) {
		return -1
	}
	v := 0
	for _, c := range src[i : i+4] {
		h := unhex(c)
		if h < 0 {
			return -1
		}
		v = v<<4 | h
	}
	return v
}

// base64Decode appends the base64 decoding of src to dst, accepting the
// standard and URL-safe alphabets alike and stopping at the first byte of
// neither ('=' padding included). A final group of 2 or 3 characters gives
// 1 or 2 bytes; a lone final character is dropped. pos[i] is the offset of
// the character holding the first bits of decoded byte i.
func base64Decode(dst []byte, pos []int32, src []byte, base int) ([]byte, []int32) {
	var q [4]int8
	n := 0
	i := 0
	flush := func(at int) {
		v := uint32(0)
		for k := 0; k < 4; k++ {
			v <<= 6
			if k < n {
				v |= uint32(q[k])
			}
		}
		out := [3]byte{byte(v >> 16), byte(v >> 8), byte(v)}
		for k := 0; k < n-1; k++ {
			dst = append(dst, out[k])
			pos = append(pos, int32(base+at+k))
		}
	}
	for ; i < len(src); i++ {
		v := b64Val[src[i]]
		if v < 0 {
			break
		}
		q[n] = v
		n++
		if n == 4 {
			flush(i - 3)
			n = 0
		}
	}
	if n > 1 {
		flush(i - n)
	}
	return dst, pos
}
