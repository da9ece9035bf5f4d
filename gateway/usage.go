package gateway

import (
	"bufio"
	"bytes"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"io"
	"sync"
)

// usage is the token count a response reported.
type usage struct {
	known         bool
	input, output int64
}

// lenient decodes an upstream's usage as encoding/json would, but with
// names matched case-sensitively: another member given twice or invalid
// UTF-8 elsewhere does not hide the usage. (Request bodies, which the
// client writes, are read strictly; see reqFields.)
var lenient = jsonv2.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

// usageFields covers OpenAI's chat and completions (prompt_tokens,
// completion_tokens), OpenAI's responses and Anthropic's messages
// (input_tokens, output_tokens).
type usageFields struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	InputTokens      int64 `json:"input_tokens"`
	OutputTokens     int64 `json:"output_tokens"`
}

// merge raises u to what f reports. Anthropic streams report input tokens
// in message_start and the cumulative output in message_delta, so each
// field keeps its largest value.
func (u *usage) merge(f *usageFields) {
	if f == nil {
		return
	}
	u.known = true
	u.input = max(u.input, f.PromptTokens, f.InputTokens)
	u.output = max(u.output, f.CompletionTokens, f.OutputTokens)
}

// streamDoc is the part of an SSE data payload that may carry usage.
type streamDoc struct {
	Usage   *usageFields `json:"usage"`
	Message *struct {
		Usage *usageFields `json:"usage"`
	} `json:"message"` // Anthropic message_start
	Response *struct {
		Usage *usageFields `json:"usage"`
	} `json:"response"` // OpenAI responses: response.completed
	Choices jsontext.Value `json:"choices"`
}

// sseBody passes a text/event-stream through one event at a time, so that
// the proxy flushes each event as it comes, and reads usage from the
// events that carry it. When strip is set it drops OpenAI's usage-only
// chunk (empty choices), which the gateway asked for on the client's
// behalf.
type sseBody struct {
	src   io.Reader
	br    *bufio.Reader
	strip bool
	u     *usage
	out   []byte // the current event, not yet read
	ev    []byte
	err   error
}

func newSSEBody(src io.Reader, strip bool, u *usage) *sseBody {
	return &sseBody{src: src, br: bufio.NewReaderSize(src, 16<<10), strip: strip, u: u}
}

func (s *sseBody) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		s.next()
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

// next reads one event (lines up to a blank line) into s.out.
func (s *sseBody) next() {
	s.ev = s.ev[:0]
	rest := false // line ends one longer than the buffer: never blank
	for {
		line, err := s.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			s.ev = append(s.ev, line...)
			rest = true
			continue
		}
		s.ev = append(s.ev, line...)
		if err != nil {
			s.err = err
			break
		}
		if !rest && len(bytes.TrimRight(line, "\r\n")) == 0 {
			break
		}
		rest = false
	}
	if s.inspect(s.ev) {
		s.out = s.ev
	}
}

// inspect reads usage from an event's data and reports whether to pass it.
func (s *sseBody) inspect(ev []byte) bool {
	if !bytes.Contains(ev, []byte(`"usage"`)) {
		return true
	}
	var data []byte
	for line := range bytes.Lines(ev) {
		if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			data = append(data, bytes.TrimSpace(d)...)
		}
	}
	var doc streamDoc
	if jsonv2.Unmarshal(data, &doc, lenient) != nil {
		return true
	}
	s.u.merge(doc.Usage)
	if doc.Message != nil {
		s.u.merge(doc.Message.Usage)
	}
	if doc.Response != nil {
		s.u.merge(doc.Response.Usage)
	}
	return !(s.strip && doc.Usage != nil && doc.Choices != nil && emptyArray(doc.Choices))
}

// emptyArray reports whether b is an empty JSON array, blanks allowed.
func emptyArray(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) >= 2 && b[0] == '[' && b[len(b)-1] == ']' && len(bytes.TrimSpace(b[1:len(b)-1])) == 0
}

// tailSize bounds what is kept of a JSON response to find its usage,
// which providers put at the end.
const tailSize = 64 << 10

// tailBody passes a response through unchanged and keeps its last
// tailSize bytes.
type tailBody struct {
	src  io.Reader
	tail []byte
}

// tailBufs recycles tails: most answers are short, and a tail allocated
// per request was a third of the gateway's allocation.
var tailBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

func (t *tailBody) Read(p []byte) (int, error) {
	n, err := t.src.Read(p)
	if n > 0 {
		if t.tail == nil {
			t.tail = (*tailBufs.Get().(*[]byte))[:0]
		}
		t.tail = append(t.tail, p[:n]...)
		if len(t.tail) > 2*tailSize {
			t.tail = append(t.tail[:0], t.tail[len(t.tail)-tailSize:]...)
		}
	}
	return n, err
}

// release returns the tail's buffer; t keeps nothing.
func (t *tailBody) release() {
	if t.tail != nil && cap(t.tail) <= 4*tailSize {
		b := t.tail[:0]
		tailBufs.Put(&b)
	}
	t.tail = nil
}

// usage reads the last "usage" object of the kept tail.
func (t *tailBody) usage(u *usage) {
	i := bytes.LastIndex(t.tail, []byte(`"usage"`))
	if i < 0 {
		return
	}
	rest := bytes.TrimLeft(t.tail[i+len(`"usage"`):], " \t\r\n")
	rest, ok := bytes.CutPrefix(rest, []byte(":"))
	if !ok {
		return
	}
	// "usage": null reports nothing, as it does in streams, rather than
	// zero tokens.
	if bytes.HasPrefix(bytes.TrimLeft(rest, " \t\r\n"), []byte("null")) {
		return
	}
	var f usageFields
	if end := objectEnd(rest); end > 0 && jsonv2.Unmarshal(rest[:end], &f, lenient) == nil {
		u.merge(&f)
	}
}

// objectEnd returns the length of the JSON object b starts with (after
// blanks), or 0 when b does not hold a whole one; strings are skipped, so
// braces inside them do not count. Unmarshal still validates it.
func objectEnd(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	if i == len(b) || b[i] != '{' {
		return 0
	}
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return 0
}
