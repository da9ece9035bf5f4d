package gateway

import (
	"bytes"
	"errors"

	"github.com/keywatch/keywatch/internal/hexdigit"
)

// chunked decodes a chunked message body (RFC 9112, 7.1) as its bytes
// arrive, for the event-loop front, which cannot block in a reader: each
// decode call takes what has come and keeps its place between calls.
// Chunk extensions and trailer fields are read and dropped.
type chunked struct {
	state int
	left  int64 // data bytes left in the current chunk
}

const (
	chunkSize = iota
	chunkData
	chunkDataEnd // the CRLF after a chunk's data
	chunkTrailer
	chunkDone
)

// maxChunkLine bounds a chunk-size line (with its extensions) and a
// trailer line; longer ones are refused, as net/http's reader does.
const maxChunkLine = 4096

var errChunked = errors.New("malformed chunked encoding")

// decode reads what it can of in, passing each run of data to emit, and
// returns the bytes it consumed; the rest must be given again, with more,
// to the next call. done reports the end of the body (the last chunk and
// the trailer section), err a malformed body.
func (c *chunked) decode(in []byte, emit func([]byte)) (n int, done bool, err error) {
	for n < len(in) {
		switch c.state {
		case chunkSize:
			line, ok, err := chunkLine(in[n:])
			if err != nil || !ok {
				return n, false, err
			}
			n += len(line)
			size, err := chunkSizeOf(line)
			if err != nil {
				return n, false, err
			}
			c.left = size
			c.state = chunkData
			if size == 0 {
				c.state = chunkTrailer
			}
		case chunkData:
			k := int(min(c.left, int64(len(in)-n)))
			emit(in[n : n+k])
			n += k
			if c.left -= int64(k); c.left == 0 {
				c.state = chunkDataEnd
			}
		case chunkDataEnd:
			if len(in)-n < 2 {
				if in[n] != '\r' {
					return n, false, errChunked
				}
				return n, false, nil
			}
			if in[n] != '\r' || in[n+1] != '\n' {
				return n, false, errChunked
			}
			n += 2
			c.state = chunkSize
		case chunkTrailer:
			line, ok, err := chunkLine(in[n:])
			if err != nil || !ok {
				return n, false, err
			}
			n += len(line)
			if len(line) == 2 {
				c.state = chunkDone
				return n, true, nil
			}
		case chunkDone:
			return n, true, nil
		}
	}
	return n, c.state == chunkDone, nil
}

// chunkLine returns the line at the start of b, CRLF included, or ok
// false when b does not hold a whole one yet.
func chunkLine(b []byte) (line []byte, ok bool, err error) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if len(b) > maxChunkLine {
			return nil, false, errChunked
		}
		return nil, false, nil
	}
	// A CR anywhere but before the LF is refused, as net/http does: a
	// proxy and a server that disagree on where a line ends disagree on
	// where a request ends (request smuggling).
	if i == 0 || b[i-1] != '\r' || i >= maxChunkLine || bytes.IndexByte(b[:i-1], '\r') >= 0 {
		return nil, false, errChunked
	}
	return b[:i+1], true, nil
}

// chunkSizeOf parses a chunk-size line: hex digits, then optional
// whitespace and extensions after ';'.
func chunkSizeOf(line []byte) (int64, error) {
	line = line[:len(line)-2]
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimRight(line, " \t")
	if len(line) == 0 || len(line) > 15 { // 15 hex digits: under 2^60
		return 0, errChunked
	}
	var n int64
	for _, b := range line {
		d, ok := hexdigit.Value(b)
		if !ok {
			return 0, errChunked
		}
		n = n<<4 | int64(d)
	}
	return n, nil
}

// appendChunk appends p as one chunk of a chunked body; nothing for an
// empty p, which would end the body.
func appendChunk(dst, p []byte) []byte {
	if len(p) == 0 {
		return dst
	}
	dst = appendHex(dst, len(p))
	dst = append(dst, '\r', '\n')
	dst = append(dst, p...)
	return append(dst, '\r', '\n')
}

func appendHex(dst []byte, n int) []byte {
	const digits = "0123456789abcdef"
	var b [16]byte
	i := len(b)
	for {
		i--
		b[i] = digits[n&15]
		if n >>= 4; n == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

// lastChunk ends a chunked body.
const lastChunk = "0\r\n\r\n"
