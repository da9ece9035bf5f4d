// Package hexdigit reads one hexadecimal digit, for the parsers that
// decode hex numbers byte by byte without allocating (JSON \u escapes,
// HTTP chunk sizes). encoding/hex keeps its own unexported.
package hexdigit

// Value returns the value of hex digit c, either case, and whether c is
// one.
func Value(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
