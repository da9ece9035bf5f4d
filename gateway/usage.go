package gateway

import (
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

// sseSplitter cuts a text/event-stream into events as its bytes come,
// reads usage from the events that carry it and, when strip is set, drops
// OpenAI's usage-only chunk (empty choices), which the gateway asked for
// on the client's behalf. The event-loop front feeds it what each read
// brings; sseBody reads through it.
type sseSplitter struct {
	strip bool
	u     *usage
	ev    []byte // the event being gathered
	line  int    // where its current line starts
	// midLine: ev was passed on whole (over maxSSEEvent) in the middle of
	// a line, whose end is then no blank line.
	midLine bool
}

// maxSSEEvent bounds the event the splitter gathers: a longer one is
// passed on as it comes, uninspected (usage events are small).
const maxSSEEvent = 1 << 20

// feed cuts p into events, calling emit with each one to pass on; emit
// must copy what it keeps.
func (s *sseSplitter) feed(p []byte, emit func([]byte)) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.ev = append(s.ev, p...)
			s.overflow(emit)
			return
		}
		s.ev = append(s.ev, p[:i+1]...)
		p = p[i+1:]
		blank := len(bytes.TrimRight(s.ev[s.line:], "\r\n")) == 0 && !(s.line == 0 && s.midLine)
		s.midLine = false
		if !blank {
			s.line = len(s.ev)
			s.overflow(emit)
			continue
		}
		if s.inspect(s.ev) {
			emit(s.ev)
		}
		s.ev, s.line = s.ev[:0], 0
	}
}

// overflow passes on an event grown past maxSSEEvent.
func (s *sseSplitter) overflow(emit func([]byte)) {
	if len(s.ev) <= maxSSEEvent {
		return
	}
	emit(s.ev)
	s.midLine = s.ev[len(s.ev)-1] != '\n'
	s.ev, s.line = s.ev[:0], 0
}

// finish passes on what is left when the stream ends: an event without
// its blank line.
func (s *sseSplitter) finish(emit func([]byte)) {
	if len(s.ev) > 0 && s.inspect(s.ev) {
		emit(s.ev)
	}
	s.ev, s.line = s.ev[:0], 0
}

// sseBody reads a text/event-stream through an sseSplitter, so that the
// proxy flushes the events each read brings as they come.
type sseBody struct {
	src   io.Reader
	split sseSplitter
	buf   []byte
	out   []byte // events not yet read
	off   int
	err   error
}

func newSSEBody(src io.Reader, strip bool, u *usage) *sseBody {
	return &sseBody{src: src, split: sseSplitter{strip: strip, u: u}, buf: make([]byte, 16<<10)}
}

func (s *sseBody) Read(p []byte) (int, error) {
	for s.off == len(s.out) {
		if s.err != nil {
			return 0, s.err
		}
		s.out, s.off = s.out[:0], 0
		n, err := s.src.Read(s.buf)
		s.split.feed(s.buf[:n], s.keep)
		if err != nil {
			s.split.finish(s.keep)
			s.err = err
		}
	}
	n := copy(p, s.out[s.off:])
	s.off += n
	return n, nil
}

func (s *sseBody) keep(ev []byte) { s.out = append(s.out, ev...) }

// inspect reads usage from an event's data and reports whether to pass it.
func (s *sseSplitter) inspect(ev []byte) bool {
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
