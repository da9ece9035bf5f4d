package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/keywatch/keywatch/gateway/gatewaytest"
)

// The fuzz tests below check the usage readers against a reference: a
// full JSON parse of each event (or body) that finds usage as the field
// names of usageFields say, and that owes nothing to the readers' byte
// searches, buffering or reads. The reference speaks only for
// well-formed input: SSE lines ending in \n or \r\n, data that is valid
// JSON with the line breaks the SSE spec puts between data lines, no
// escapes in it (so that a key is spelled as it reads), no member names
// that differ from a usage field only in case or appear twice, no empty
// array written with space inside ([ ], which sseBody does not take for
// OpenAI's empty choices), and (bodies) "usage" only as a member name.
// Everything else must still pass through unchanged and never panic.

// chunkReader returns at most n bytes per Read, so that reads end
// anywhere in an event.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// readSSE reads in through an sseBody reading bufSize
// bytes at a time (production reads 16 KiB), from
// a source returning srcChunk bytes per read, into reads of readSize.
func readSSE(t *testing.T, in []byte, strip bool, bufSize, srcChunk, readSize int) ([]byte, usage) {
	t.Helper()
	var u usage
	src := io.NopCloser(&chunkReader{r: bytes.NewReader(in), n: srcChunk})
	s := newSSEBody(src, strip, &u)
	s.buf = make([]byte, bufSize)
	var out []byte
	p := make([]byte, readSize)
	for i := 0; ; i++ {
		n, err := s.Read(p)
		if n < 0 || n > len(p) {
			t.Fatalf("Read returned %d for a %d-byte buffer", n, len(p))
		}
		out = append(out, p[:n]...)
		if len(out) > len(in) {
			t.Fatalf("read %d bytes of a %d-byte stream", len(out), len(in))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if i > 4*len(in)+16 {
			t.Fatalf("no end after %d reads", i)
		}
	}
	return out, u
}

func FuzzSSEBody(f *testing.F) {
	for _, s := range sseSeeds(f) {
		f.Add([]byte(s), true, uint8(0), uint8(255), uint16(32<<10))
		f.Add([]byte(s), false, uint8(1), uint8(7), uint16(5))
	}
	f.Fuzz(func(t *testing.T, in []byte, strip bool, buf, chunk uint8, readSize uint16) {
		bufSize := 16 << 10 // production
		if buf%4 != 0 {
			bufSize = 16 + int(buf)%48 // lines longer than the buffer arrive in pieces
		}
		srcChunk, rs := int(chunk)+1, int(readSize)%(64<<10)+1
		out, u := readSSE(t, in, strip, bufSize, srcChunk, rs)
		if !strip && !bytes.Equal(out, in) {
			t.Fatalf("not stripping, the stream changed:\nin  %q\nout %q", in, out)
		}
		// Usage does not depend on stripping.
		if _, u2 := readSSE(t, in, !strip, bufSize, srcChunk, rs); u2 != u {
			t.Fatalf("usage %+v with strip=%v, %+v without", u, strip, u2)
		}
		want, wantOut, ok := refSSE(in, strip)
		if !ok {
			return
		}
		if u != want {
			t.Fatalf("usage %+v, reference %+v\nin %q", u, want, in)
		}
		if !bytes.Equal(out, wantOut) {
			t.Fatalf("stripped stream differs from the reference:\nin   %q\nout  %q\nwant %q", in, out, wantOut)
		}
	})
}

// FuzzSSEUsage builds well-formed provider streams (OpenAI chat with the
// usage chunk the gateway asks for, Anthropic messages, OpenAI responses)
// from fuzzed token counts and layout: line ends, data split over lines,
// a padded event as long as the fuzzer likes, small buffers. Every input
// is one the reference speaks for, so usage and stripping are compared on
// each, with the counts the stream was built from.
func FuzzSSEUsage(f *testing.F) {
	f.Add(int64(gatewaytest.PromptTokens), int64(gatewaytest.CompletionTokens), uint8(0), false, false, uint16(0), uint8(0), uint8(255))
	f.Add(int64(gatewaytest.AnthropicInput), int64(gatewaytest.AnthropicOutput), uint8(1), true, false, uint16(300), uint8(1), uint8(3))
	f.Add(int64(21), int64(34), uint8(2), false, true, uint16(16<<10-36), uint8(0), uint8(200))
	f.Add(int64(-5), int64(1<<40), uint8(0), true, true, uint16(40), uint8(2), uint8(0))
	f.Fuzz(func(t *testing.T, in, out int64, shape uint8, crlf, split bool, pad uint16, buf, chunk uint8) {
		stream, usageChunk, want := buildStream(shape%3, in, out, crlf, split, int(pad))
		bufSize := 16 << 10
		if buf%2 == 1 {
			bufSize = 16 + int(buf)%48
		}
		for _, strip := range []bool{false, true} {
			got, u := readSSE(t, []byte(stream), strip, bufSize, int(chunk)+1, 4096)
			if u != want {
				t.Fatalf("usage %+v, built with %+v\n%q", u, want, stream)
			}
			wantOut := stream
			if strip {
				wantOut = strings.Replace(stream, usageChunk, "", 1)
			}
			if string(got) != wantOut {
				t.Fatalf("strip=%v: got\n%q\nwant\n%q", strip, got, wantOut)
			}
			ru, rout, ok := refSSE([]byte(stream), strip)
			if !ok || ru != want || string(rout) != wantOut {
				t.Fatalf("the reference disagrees with the stream's construction: %+v (well-formed %v)", ru, ok)
			}
		}
	})
}

// buildStream returns a stream of shape (0 OpenAI chat, 1 Anthropic
// messages, 2 OpenAI responses) reporting in and out tokens, the event
// sseBody drops when stripping ("" if none), and the usage to read.
func buildStream(shape uint8, in, out int64, crlf, split bool, pad int) (stream, usageChunk string, want usage) {
	nl := "\n"
	if crlf {
		nl = "\r\n"
	}
	var b strings.Builder
	event := func(name string, data ...string) string {
		var e strings.Builder
		if name != "" {
			e.WriteString("event: " + name + nl)
		}
		for _, d := range data {
			e.WriteString("data: " + d + nl)
		}
		e.WriteString(nl)
		b.WriteString(e.String())
		return e.String()
	}
	// data splits a JSON object over two data lines after its first
	// member when split is set.
	data := func(obj string) []string {
		if i := strings.Index(obj, ","); split && i > 0 {
			return []string{obj[:i+1], obj[i+1:]}
		}
		return []string{obj}
	}
	padding := strings.Repeat("x", pad)
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	switch shape {
	case 0:
		event("", data(`{"id":"c","choices":[{"index":0,"delta":{"content":"a"}}],"usage":null}`)...)
		event("", data(`{"id":"c","choices":[{"index":0,"delta":{"content":"`+padding+`"}}],"usage":null}`)...)
		usageChunk = event("", data(`{"id":"c","choices":[],"usage":{"prompt_tokens":`+n(in)+`,"completion_tokens":`+n(out)+`,"total_tokens":0}}`)...)
		event("", "[DONE]")
		want = usage{true, max(0, in), max(0, out)}
	case 1:
		event("message_start", data(`{"type":"message_start","message":{"id":"m","usage":{"input_tokens":`+n(in)+`,"output_tokens":1}}}`)...)
		event("content_block_delta", data(`{"type":"content_block_delta","delta":{"type":"text_delta","text":"`+padding+`"}}`)...)
		event("message_delta", data(`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":`+n(out)+`}}`)...)
		event("message_stop", `{"type":"message_stop"}`)
		want = usage{true, max(0, in), max(1, out)}
	default:
		event("response.output_text.delta", data(`{"type":"response.output_text.delta","delta":"`+padding+`"}`)...)
		event("response.completed", data(`{"type":"response.completed","response":{"id":"r","usage":{"input_tokens":`+n(in)+`,"output_tokens":`+n(out)+`}}}`)...)
		want = usage{true, max(0, in), max(0, out)}
	}
	return b.String(), usageChunk, want
}

func FuzzTailBody(f *testing.F) {
	for _, s := range bodySeeds(f) {
		f.Add([]byte(s), uint8(255), uint8(0))
		f.Add([]byte(s), uint8(2), uint8(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8, pad uint8) {
		// pad pushes bodies past the kept tail (whitespace before a JSON
		// value changes nothing), in whole 48 KiB steps.
		in = append(bytes.Repeat([]byte{' '}, int(pad%4)*48<<10), in...)
		tb := &tailBody{src: io.NopCloser(&chunkReader{r: bytes.NewReader(in), n: int(chunk)*64 + 1})}
		out, err := io.ReadAll(tb)
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("the body changed (err %v)", err)
		}
		if !bytes.HasSuffix(in, tb.tail) || len(tb.tail) < min(len(in), tailSize) || len(tb.tail) > 2*tailSize {
			t.Fatalf("kept %d bytes of %d, not its last %d..%d", len(tb.tail), len(in), min(len(in), tailSize), 2*tailSize)
		}
		var u usage
		tb.usage(&u)
		if want, ok := refTail(in); ok && u != want {
			t.Fatalf("usage %+v, reference %+v\nin %q", u, want, bytes.TrimLeft(in, " "))
		}
	})
}

// TestUsageReference checks the reference on the seeds themselves, so that
// the fuzz tests compare something: the fake upstream's answers are
// well-formed and give its token counts.
func TestUsageReference(t *testing.T) {
	up := upstreamAnswers(t)
	sse := []struct {
		name    string
		in      string
		strip   bool
		want    usage
		dropped string // what stripping removes
	}{
		{"openai stream, usage asked", up.chatStreamUsage, true,
			usage{true, gatewaytest.PromptTokens, gatewaytest.CompletionTokens}, `"choices":[],"usage"`},
		{"openai stream, usage asked, not stripped", up.chatStreamUsage, false,
			usage{true, gatewaytest.PromptTokens, gatewaytest.CompletionTokens}, ""},
		{"openai stream without usage", up.chatStream, true, usage{}, ""},
		{"anthropic stream", up.messagesStream, true, usage{true, gatewaytest.AnthropicInput, gatewaytest.AnthropicOutput}, ""},
		{"responses stream", responsesStream, true, usage{true, 21, 34}, ""},
	}
	for _, tt := range sse {
		u, out, ok := refSSE([]byte(tt.in), tt.strip)
		if !ok || u != tt.want {
			t.Errorf("%s: reference %+v (well-formed %v), want %+v", tt.name, u, ok, tt.want)
		}
		if gone := strings.TrimPrefix(tt.in, string(out)); len(out)+len(tt.dropped) == len(tt.in) && tt.dropped == "" && gone != "" {
			t.Errorf("%s: reference dropped %q", tt.name, gone)
		}
		if tt.dropped != "" && (strings.Contains(string(out), tt.dropped) || len(out) >= len(tt.in)) {
			t.Errorf("%s: reference kept the usage chunk:\n%s", tt.name, out)
		}
		if !tt.strip && string(out) != tt.in {
			t.Errorf("%s: reference changed an unstripped stream", tt.name)
		}
	}
	bodies := []struct {
		name string
		in   string
		want usage
	}{
		{"chat", up.chat, usage{true, gatewaytest.PromptTokens, gatewaytest.CompletionTokens}},
		{"embeddings", up.embeddings, usage{true, gatewaytest.EmbeddingTokens, 0}},
		{"responses", up.responses, usage{true, gatewaytest.PromptTokens, gatewaytest.CompletionTokens}},
		{"messages", up.messages, usage{true, gatewaytest.AnthropicInput, gatewaytest.AnthropicOutput}},
		{"models", up.models, usage{}},
	}
	for _, tt := range bodies {
		if u, ok := refTail([]byte(tt.in)); !ok || u != tt.want {
			t.Errorf("%s: reference %+v (well-formed %v), want %+v", tt.name, u, ok, tt.want)
		}
	}
}

// upstreamAnswerSet holds the fake upstream's answers, as the gateway receives
// them.
type upstreamAnswerSet struct {
	chat, embeddings, responses, messages, models string
	chatStream, chatStreamUsage, messagesStream   string
}

func upstreamAnswers(tb testing.TB) upstreamAnswerSet {
	up := gatewaytest.NewUpstream(tb)
	call := func(path, body string) string {
		method := http.MethodPost
		if body == "" {
			method = http.MethodGet
		}
		req, _ := http.NewRequest(method, up.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+gatewaytest.OpenAIKey)
		req.Header.Set("X-Api-Key", gatewaytest.AnthropicKey)
		resp, err := up.Client().Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	return upstreamAnswerSet{
		chat:            call("/v1/chat/completions", `{"model":"gpt-4o-mini"}`),
		embeddings:      call("/v1/embeddings", `{"model":"text-embedding-3-small","input":"x"}`),
		responses:       call("/v1/responses", `{"model":"gpt-4o-mini","input":"x"}`),
		messages:        call("/v1/messages", `{"model":"claude-sonnet-4","max_tokens":5}`),
		models:          call("/v1/models", ""),
		chatStream:      call("/v1/chat/completions", `{"model":"gpt-4o-mini","stream":true}`),
		chatStreamUsage: call("/v1/chat/completions", `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}`),
		messagesStream:  call("/v1/messages", `{"model":"claude-sonnet-4","max_tokens":5,"stream":true}`),
	}
}

// responsesStream is the end of an OpenAI responses stream.
const responsesStream = "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"hi\"}\n\n" +
	"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"status\":\"completed\"," +
	"\"usage\":{\"input_tokens\":21,\"output_tokens\":34,\"total_tokens\":55}}}\n\n"

// sseSeeds are the fake upstream's streams and variations on what
// providers send.
func sseSeeds(tb testing.TB) []string {
	up := upstreamAnswers(tb)
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	long := strings.Repeat("x", 16<<10)
	return []string{
		up.chatStream, up.chatStreamUsage, up.messagesStream, responsesStream,
		crlf(up.chatStreamUsage), crlf(up.messagesStream),
		// OpenAI chunks carry "usage":null until the last one.
		"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"usage\":null}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\ndata: [DONE]\n\n",
		// A usage chunk that still has a choice is passed through.
		"data: {\"choices\":[{\"delta\":{}}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n",
		// Comments, retry fields, data split over lines, no final blank line.
		": ping\n\nretry: 1000\ndata: {\"choices\":[],\ndata: \"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6}}\n\ndata: {\"usage\":{\"completion_tokens\":9}}",
		"data:{\"message\":{\"usage\":{\"input_tokens\":8}}}\n\ndata:{\"usage\":{\"output_tokens\":2}}\n\n",
		// Lines longer than the reader's buffer.
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2},\"pad\":\"" + long + "\"}\n\n",
		// A first data line of exactly 16 KiB, the reader's buffer: its
		// newline arrives alone and once ended the event early (found
		// by FuzzSSEBody with small buffers).
		"event: e\ndata: {\"pad\":\"" + long[:16<<10-len("data: {\"pad\":\"\",")] + "\",\ndata: \"usage\":{\"prompt_tokens\":7},\"choices\":[]}\n\ndata: [DONE]\n\n",
		"",
		"\n\n\n",
		"data: {\"usage\":",
	}
}

// bodySeeds are the fake upstream's JSON answers and variations.
func bodySeeds(tb testing.TB) []string {
	up := upstreamAnswers(tb)
	return []string{
		up.chat, up.embeddings, up.responses, up.messages, up.models,
		`{"usage":{"prompt_tokens":1,"completion_tokens":2},"choices":[{"message":{"content":"the word usage"}}]}`,
		`{"id":"x","usage":null}`,
		`{"usage":{"input_tokens":4,"output_tokens":5,"cache_read_input_tokens":100}}`,
		`{"data":[{"usage":{"prompt_tokens":9}}]}`,
		`{"usage" : { "prompt_tokens" : 12 } }`,
		`{"error":{"message":"bad key","type":"invalid_request_error"}}`,
		``,
	}
}

// refUsage accumulates usage as usage.merge does: each field keeps its
// largest value, never below zero.
func (u *usage) refAdd(f refFields) {
	u.known = true
	u.input = max(u.input, f.prompt, f.input)
	u.output = max(u.output, f.completion, f.output)
}

type refFields struct{ prompt, completion, input, output int64 }

// refSSE is the reference reading of an SSE stream: its usage, and what
// sseBody should pass on when strip is set (the stream without the
// usage-only chunks of OpenAI's streams). ok is false for input it does
// not speak for.
func refSSE(in []byte, strip bool) (u usage, out []byte, ok bool) {
	// Lines end at \n; a lone \r also ends one in the SSE spec, which
	// sseBody does not implement.
	if bytes.Contains(bytes.ReplaceAll(in, []byte("\r\n"), nil), []byte("\r")) {
		return usage{}, nil, false
	}
	var ev []string
	flush := func() bool {
		whole := strings.Join(ev, "")
		ev = ev[:0]
		var data []string
		for _, l := range strings.SplitAfter(whole, "\n") {
			if d, isData := strings.CutPrefix(l, "data:"); isData {
				data = append(data, strings.TrimSpace(d))
			}
		}
		if len(data) == 0 {
			out = append(out, whole...)
			return true
		}
		spec := strings.Join(data, "\n") // as the SSE spec joins data lines
		if !json.Valid([]byte(spec)) {
			if json.Valid([]byte(strings.Join(data, ""))) {
				return false // valid only with the line breaks removed
			}
			out = append(out, whole...)
			return true
		}
		if strings.Contains(spec, `\`) {
			return false
		}
		v, _ := parseJSON([]byte(spec))
		doc, wf := refStreamDoc(v)
		if !wf {
			return false
		}
		for _, f := range doc.usages {
			u.refAdd(f)
		}
		if !(strip && doc.usageOnly) {
			out = append(out, whole...)
		}
		return true
	}
	for _, l := range strings.SplitAfter(string(in), "\n") {
		if l == "" {
			continue
		}
		ev = append(ev, l)
		if strings.TrimRight(l, "\r\n") == "" {
			if !flush() {
				return usage{}, nil, false
			}
		}
	}
	if len(ev) > 0 && !flush() {
		return usage{}, nil, false
	}
	if out == nil {
		out = []byte{}
	}
	return u, out, true
}

// refDoc is what the reference reads of one event's data.
type refDoc struct {
	usages    []refFields
	usageOnly bool // a usage object and an empty choices array
}

// refStreamDoc reads usage at the top level, in message (Anthropic's
// message_start) and in response (OpenAI's response.completed). A member
// of the wrong type makes the whole event carry nothing, as a JSON
// decoding error would. wf is false where the reference does not speak.
func refStreamDoc(v jvalue) (d refDoc, wf bool) {
	if v.kind != 'o' {
		return refDoc{}, true
	}
	top, wf := members(v, "usage", "message", "response", "choices")
	if !wf {
		return refDoc{}, false
	}
	var fs []refFields
	bad := false
	add := func(u *jvalue) bool {
		if u == nil || u.kind == 'z' {
			return true
		}
		f, typed, wf := refUsageFields(*u)
		if !wf {
			return false
		}
		if !typed {
			bad = true
			return true
		}
		fs = append(fs, f)
		return true
	}
	if !add(top["usage"]) {
		return refDoc{}, false
	}
	for _, name := range []string{"message", "response"} {
		m := top[name]
		switch {
		case m == nil || m.kind == 'z':
		case m.kind != 'o':
			bad = true
		default:
			inner, wf := members(*m, "usage")
			if !wf || !add(inner["usage"]) {
				return refDoc{}, false
			}
		}
	}
	if bad {
		return refDoc{}, true
	}
	d.usages = fs
	u, c := top["usage"], top["choices"]
	d.usageOnly = u != nil && u.kind == 'o' && c != nil && c.kind == 'a' && len(c.elems) == 0
	return d, true
}

// refUsageFields reads a usage object: typed is false when a field (or
// the object itself) has a type usageFields cannot hold.
func refUsageFields(v jvalue) (f refFields, typed, wf bool) {
	if v.kind != 'o' {
		return refFields{}, false, true
	}
	m, wf := members(v, "prompt_tokens", "completion_tokens", "input_tokens", "output_tokens")
	if !wf {
		return refFields{}, false, false
	}
	typed = true
	num := func(name string) int64 {
		x := m[name]
		if x == nil || x.kind == 'z' {
			return 0
		}
		n, err := strconv.ParseInt(x.str, 10, 64)
		if x.kind != 'n' || err != nil {
			typed = false
		}
		return n
	}
	f = refFields{prompt: num("prompt_tokens"), completion: num("completion_tokens"), input: num("input_tokens"), output: num("output_tokens")}
	return f, typed, true
}

// members returns the named members of object o. wf is false when a name
// appears twice or another member's name differs from one only in case:
// the reference does not say which of them a decoder should take.
func members(o jvalue, names ...string) (map[string]*jvalue, bool) {
	m := map[string]*jvalue{}
	for i := range o.members {
		mem := &o.members[i]
		for _, n := range names {
			switch {
			case mem.key == n && m[n] != nil:
				return nil, false
			case mem.key == n:
				m[n] = &mem.val
			case strings.EqualFold(mem.key, n):
				return nil, false
			}
		}
	}
	return m, true
}

// refTail is the reference reading of a JSON body: the last member named
// usage, anywhere in the document. ok is false for input it does not
// speak for, and where "usage" is a string value, which a byte search for
// the member cannot tell apart.
func refTail(in []byte) (u usage, ok bool) {
	if !json.Valid(in) || bytes.Contains(in, []byte(`\`)) {
		return usage{}, false
	}
	v, err := parseJSON(in)
	if err != nil {
		return usage{}, false
	}
	var last *jvalue
	wf := true
	var walk func(v *jvalue)
	walk = func(v *jvalue) {
		switch v.kind {
		case 's':
			if v.str == "usage" {
				wf = false
			}
		case 'a':
			for i := range v.elems {
				walk(&v.elems[i])
			}
		case 'o':
			for i := range v.members {
				if v.members[i].key == "usage" {
					last = &v.members[i].val
				}
				walk(&v.members[i].val)
			}
		}
	}
	walk(&v)
	if !wf {
		return usage{}, false
	}
	if last == nil || last.kind != 'o' {
		return usage{}, true
	}
	f, typed, wf := refUsageFields(*last)
	if !wf {
		return usage{}, false
	}
	if typed {
		u.refAdd(f)
	}
	return u, true
}

// jvalue is a parsed JSON value that keeps object members in order,
// duplicates included.
type jvalue struct {
	kind    byte // o object, a array, s string, n number, b bool, z null
	str     string
	members []jmember
	elems   []jvalue
}

type jmember struct {
	key string
	val jvalue
}

func parseJSON(b []byte) (jvalue, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := parseValue(dec)
	if err != nil {
		return jvalue{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return jvalue{}, fmt.Errorf("data after the value")
	}
	return v, nil
}

func parseValue(dec *json.Decoder) (jvalue, error) {
	tok, err := dec.Token()
	if err != nil {
		return jvalue{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := jvalue{kind: 'o'}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return jvalue{}, err
				}
				val, err := parseValue(dec)
				if err != nil {
					return jvalue{}, err
				}
				v.members = append(v.members, jmember{key: k.(string), val: val})
			}
			_, err := dec.Token()
			return v, err
		case '[':
			v := jvalue{kind: 'a'}
			for dec.More() {
				e, err := parseValue(dec)
				if err != nil {
					return jvalue{}, err
				}
				v.elems = append(v.elems, e)
			}
			_, err := dec.Token()
			return v, err
		}
		return jvalue{}, fmt.Errorf("unexpected %v", t)
	case string:
		return jvalue{kind: 's', str: t}, nil
	case json.Number:
		return jvalue{kind: 'n', str: t.String()}, nil
	case bool:
		return jvalue{kind: 'b'}, nil
	case nil:
		return jvalue{kind: 'z'}, nil
	}
	return jvalue{}, fmt.Errorf("unexpected token %v", tok)
}
