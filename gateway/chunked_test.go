package gateway

import (
	"bytes"
	"io"
	"net/http/httputil"
	"testing"
)

// decodeAll feeds in to a chunked decoder step bytes at a time, as an
// event loop would, and returns the body, whether it ended, and the
// bytes after it.
func decodeAll(in []byte, step int) (body []byte, done bool, rest []byte, err error) {
	var c chunked
	var pending []byte
	for off := 0; ; {
		end := min(len(in), off+step)
		pending = append(pending, in[off:end]...)
		off = end
		n, d, err := c.decode(pending, func(p []byte) { body = append(body, p...) })
		if n < 0 || n > len(pending) {
			panic("decode consumed outside its input")
		}
		pending = pending[n:]
		if err != nil || d {
			return body, d, append(pending, in[off:]...), err
		}
		if off == len(in) {
			return body, false, pending, nil
		}
	}
}

func TestChunked(t *testing.T) {
	for _, tc := range []struct {
		name, in, body, rest string
		done, bad            bool
	}{
		{name: "empty body", in: "0\r\n\r\n", done: true},
		{name: "chunks", in: "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", body: "hello world", done: true},
		{name: "upper hex and extensions", in: "A;name=v\r\n0123456789\r\n0;x\r\n\r\n", body: "0123456789", done: true},
		{name: "trailers", in: "3\r\nabc\r\n0\r\nX-Usage: 5\r\nY: z\r\n\r\n", body: "abc", done: true},
		{name: "bytes after the body stay", in: "1\r\na\r\n0\r\n\r\nGET /", body: "a", rest: "GET /", done: true},
		{name: "unfinished", in: "5\r\nhel", body: "hel", rest: ""},
		{name: "unfinished size line", in: "5", rest: "5"},
		{name: "not hex", in: "zz\r\nab\r\n", bad: true},
		{name: "no size", in: "\r\n", bad: true},
		{name: "bare LF", in: "1\na\r\n0\r\n\r\n", bad: true},
		{name: "bare CR in an extension", in: "0;a\rb\r\n\r\n", bad: true},
		{name: "bare CR in a trailer", in: "0\r\nX: a\rb\r\n\r\n", bad: true},
		{name: "data longer than its size", in: "1\r\nab\r\n", body: "a", bad: true},
		{name: "size overflow", in: "fffffffffffffffff\r\n", bad: true},
		{name: "negative", in: "-1\r\n", bad: true},
	} {
		for _, step := range []int{1, 2, 3, 1 << 20} {
			body, done, rest, err := decodeAll([]byte(tc.in), step)
			if (err != nil) != tc.bad {
				t.Errorf("%s (step %d): err %v, want bad %v", tc.name, step, err, tc.bad)
				continue
			}
			if tc.bad {
				continue
			}
			if string(body) != tc.body || done != tc.done || string(rest) != tc.rest {
				t.Errorf("%s (step %d): body %q done %v rest %q, want %q %v %q", tc.name, step, body, done, rest, tc.body, tc.done, tc.rest)
			}
		}
	}
}

// FuzzChunked checks the decoder against net/http's reader: a body the
// decoder reads whole, however its bytes arrive, net/http reads too, and
// the same. (The decoder is the stricter: a bare LF ends no line.) And it
// never panics or consumes outside its input.
func FuzzChunked(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), uint8(1))
	f.Add([]byte("3;a=b\r\nabc\r\n0\r\nT: v\r\n\r\n"), uint8(2))
	f.Add([]byte(appendChunk(appendChunk(nil, []byte("data: {}\n\n")), []byte("x"))), uint8(7))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		body, done, _, err := decodeAll(in, int(step)+1)
		want, werr := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(in)))
		if !done || err != nil {
			return
		}
		if werr != nil {
			t.Fatalf("decoded a whole body %q from input net/http refuses (%v)", body, werr)
		}
		if !bytes.Equal(body, want) {
			t.Fatalf("decoded %q, net/http reads %q", body, want)
		}
	})
}

func TestAppendChunk(t *testing.T) {
	var b []byte
	b = appendChunk(b, []byte("hello"))
	b = appendChunk(b, nil)
	b = appendChunk(b, bytes.Repeat([]byte("x"), 300))
	b = append(b, lastChunk...)
	got, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(b)))
	if err != nil || string(got) != "hello"+string(bytes.Repeat([]byte("x"), 300)) {
		t.Fatalf("net/http reads %q, %v", got, err)
	}
}

// BenchmarkChunked decodes a 16 KiB answer sent in 1 KiB chunks, as the
// event loop reads an upstream's chunked body.
func BenchmarkChunked(b *testing.B) {
	var in []byte
	piece := bytes.Repeat([]byte("x"), 1<<10)
	for range 16 {
		in = appendChunk(in, piece)
	}
	in = append(in, lastChunk...)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var c chunked
		n, done, err := c.decode(in, func([]byte) {})
		if n != len(in) || !done || err != nil {
			b.Fatal(n, done, err)
		}
	}
}

// BenchmarkSSESplitter cuts an OpenAI stream of 200 chunks and its usage
// chunk into events as they come, in 4 KiB reads.
func BenchmarkSSESplitter(b *testing.B) {
	var in []byte
	for range 200 {
		in = append(in, `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hello"}}]}`+"\n\n"...)
	}
	in = append(in, `data: {"id":"c","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":200}}`+"\n\ndata: [DONE]\n\n"...)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var u usage
		s := sseSplitter{strip: true, u: &u}
		for p := in; len(p) > 0; {
			k := min(len(p), 4<<10)
			s.feed(p[:k], func([]byte) {})
			p = p[k:]
		}
		s.finish(func([]byte) {})
		if u.output != 200 {
			b.Fatal("usage not read")
		}
	}
}
