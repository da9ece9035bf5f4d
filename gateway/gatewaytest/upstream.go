// Package gatewaytest is a fake OpenAI- and Anthropic-compatible API for
// testing the gateway: fixed answers with usage, and SSE streams that
// pause between events so that tests can prove nothing buffers them.
package gatewaytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Token counts the fake reports.
const (
	PromptTokens      = 11 // OpenAI chat and completions
	CompletionTokens  = 7
	EmbeddingTokens   = 5
	AnthropicInput    = 13
	AnthropicOutput   = 9
	StreamChunks      = 3 // content events in each stream
	OpenAIKey         = "sk-upstream-openai-0123456789abcdef"
	AnthropicKey      = "sk-ant-upstream-0123456789abcdef"
	DefaultChunkDelay = 0
)

// Seen is one request the fake received.
type Seen struct {
	Path   string
	Header http.Header
	Body   map[string]any
}

// Upstream is the fake API. Set ChunkDelay before requests to pause
// between stream events.
type Upstream struct {
	*httptest.Server
	ChunkDelay time.Duration

	mu   sync.Mutex
	seen []Seen
}

// NewUpstream starts the fake; it stops when the test ends. It answers
// 401 unless requests carry OpenAIKey (Authorization: Bearer) or
// AnthropicKey (x-api-key on /v1/messages).
func NewUpstream(t testing.TB) *Upstream {
	u := &Upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.Close)
	return u
}

// Requests returns what the fake has received.
func (u *Upstream) Requests() []Seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]Seen(nil), u.seen...)
}

func (u *Upstream) serve(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	b, _ := io.ReadAll(r.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			http.Error(w, `{"error":{"message":"bad json"}}`, 400)
			return
		}
	}
	u.mu.Lock()
	u.seen = append(u.seen, Seen{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	u.mu.Unlock()
	anthropic := r.URL.Path == "/v1/messages"
	if (anthropic && r.Header.Get("X-Api-Key") != AnthropicKey) ||
		(!anthropic && r.Header.Get("Authorization") != "Bearer "+OpenAIKey) {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":{"message":"bad upstream key","type":"invalid_request_error","code":"invalid_api_key"}}`)
		return
	}
	model, _ := body["model"].(string)
	stream, _ := body["stream"].(bool)
	switch r.URL.Path {
	case "/v1/models":
		writeJSON(w, map[string]any{"object": "list", "data": []any{map[string]any{"id": "gpt-4o-mini", "object": "model"}}})
	case "/v1/chat/completions", "/v1/completions":
		if stream {
			u.openAIStream(w, model, body)
			return
		}
		writeJSON(w, map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "model": model,
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": "hi"}}},
			"usage":   map[string]any{"prompt_tokens": PromptTokens, "completion_tokens": CompletionTokens, "total_tokens": PromptTokens + CompletionTokens}})
	case "/v1/embeddings":
		writeJSON(w, map[string]any{"object": "list", "model": model,
			"data":  []any{map[string]any{"object": "embedding", "index": 0, "embedding": []float64{0.1, 0.2}}},
			"usage": map[string]any{"prompt_tokens": EmbeddingTokens, "total_tokens": EmbeddingTokens}})
	case "/v1/responses":
		writeJSON(w, map[string]any{"id": "resp_1", "object": "response", "model": model,
			"usage": map[string]any{"input_tokens": PromptTokens, "output_tokens": CompletionTokens}})
	case "/v1/messages":
		if stream {
			u.anthropicStream(w, model)
			return
		}
		writeJSON(w, map[string]any{"id": "msg_1", "type": "message", "model": model,
			"content": []any{map[string]any{"type": "text", "text": "hi"}},
			"usage":   map[string]any{"input_tokens": AnthropicInput, "output_tokens": AnthropicOutput}})
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (u *Upstream) event(w http.ResponseWriter, name, data string) {
	if name != "" {
		fmt.Fprintf(w, "event: %s\n", name)
	}
	fmt.Fprintf(w, "data: %s\n\n", data)
	w.(http.Flusher).Flush()
	if u.ChunkDelay > 0 {
		time.Sleep(u.ChunkDelay)
	}
}

func (u *Upstream) openAIStream(w http.ResponseWriter, model string, body map[string]any) {
	w.Header().Set("Content-Type", "text/event-stream")
	for i := range StreamChunks {
		u.event(w, "", fmt.Sprintf(`{"id":"c","object":"chat.completion.chunk","model":%q,"choices":[{"index":0,"delta":{"content":"tok%d"}}]}`, model, i))
	}
	if so, _ := body["stream_options"].(map[string]any); so["include_usage"] == true {
		u.event(w, "", fmt.Sprintf(`{"id":"c","object":"chat.completion.chunk","model":%q,"choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`,
			model, PromptTokens, CompletionTokens, PromptTokens+CompletionTokens))
	}
	u.event(w, "", "[DONE]")
}

func (u *Upstream) anthropicStream(w http.ResponseWriter, model string) {
	w.Header().Set("Content-Type", "text/event-stream")
	u.event(w, "message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":"msg_1","model":%q,"usage":{"input_tokens":%d,"output_tokens":1}}}`, model, AnthropicInput))
	for i := range StreamChunks {
		u.event(w, "content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"tok%d"}}`, i))
	}
	u.event(w, "message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":%d}}`, AnthropicOutput))
	u.event(w, "message_stop", `{"type":"message_stop"}`)
}
