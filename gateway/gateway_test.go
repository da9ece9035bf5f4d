package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/gateway"
	"github.com/keywatch/keywatch/gateway/gatewaytest"
)

var testKeys = []keywatch.Key{
	{ID: "open", Service: "search", Env: "prod"},
	{ID: "scoped", Models: []string{"gpt-4o-mini"}, Operations: []string{"chat"}},
	{ID: "cidr", CIDRs: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}},
	{ID: "country", Countries: []string{"DE"}},
	{ID: "expired", Expires: t0.Add(-time.Minute)},
	{ID: "disabled", Status: keywatch.KeyDisabled},
	{ID: "revoked", Status: keywatch.KeyRevoked},
	{ID: "rpm2", Quotas: keywatch.Quotas{RPM: 2}},
	{ID: "tpm", Quotas: keywatch.Quotas{TPM: 40}},
}

func TestRefusals(t *testing.T) { allFronts(t, testRefusals) }

func testRefusals(t *testing.T, fr frontKind) {
	h := newHarnessOn(t, fr, testKeys...)
	_, srv := h.gateway(gateway.NewMemoryState())
	k := h.keys
	tests := []struct {
		name, method, path, cred, body string
		hdr                            []string
		status                         int
		code                           string
	}{
		{"no key", "POST", "/v1/chat/completions", "", chatBody, nil, 401, "invalid_api_key"},
		{"unknown key", "POST", "/v1/chat/completions", "kwk_notakey", chatBody, nil, 401, "invalid_api_key"},
		{"provider key", "POST", "/v1/chat/completions", "sk-proj-abcdef", chatBody, nil, 401, "invalid_api_key"},
		{"expired", "POST", "/v1/chat/completions", k["expired"], chatBody, nil, 401, "expired_api_key"},
		{"revoked", "POST", "/v1/chat/completions", k["revoked"], chatBody, nil, 401, "revoked_api_key"},
		{"disabled", "POST", "/v1/chat/completions", k["disabled"], chatBody, nil, 403, "key_disabled"},
		{"model", "POST", "/v1/chat/completions", k["scoped"], `{"model":"gpt-4o"}`, nil, 403, "model_not_allowed"},
		// Providers read JSON names case-sensitively and keep the last of
		// duplicates: the gateway must not check another model than the
		// one the upstream will run.
		{"model smuggled in another case", "POST", "/v1/chat/completions", k["scoped"], `{"model":"gpt-4o","MODEL":"gpt-4o-mini"}`, nil, 403, "model_not_allowed"},
		{"model given twice", "POST", "/v1/chat/completions", k["scoped"], `{"model":"gpt-4o-mini","model":"gpt-4o"}`, nil, 400, "invalid_request"},
		{"operation", "POST", "/v1/embeddings", k["scoped"], `{"model":"gpt-4o-mini","input":"x"}`, nil, 403, "operation_not_allowed"},
		{"cidr", "POST", "/v1/chat/completions", k["cidr"], chatBody, nil, 403, "source_not_allowed"},
		{"forwarded cidr", "POST", "/v1/chat/completions", k["cidr"], chatBody, []string{"X-Forwarded-For", "198.51.100.9"}, 403, "source_not_allowed"},
		{"country", "POST", "/v1/chat/completions", k["country"], chatBody, nil, 403, "source_not_allowed"},
		{"tpm estimate", "POST", "/v1/chat/completions", k["tpm"], `{"model":"gpt-4o-mini","max_tokens":100}`, nil, 429, "rate_limit_exceeded"},
		{"bad json", "POST", "/v1/chat/completions", k["open"], `{"model":`, nil, 400, "invalid_request"},
		{"unknown path", "POST", "/v1/images/generations", k["open"], `{}`, nil, 404, "unknown_url"},
		{"no route", "POST", "/v1/messages", k["open"], `{"model":"gpt-4o"}`, nil, 404, "model_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.up.Requests())
			status, _, body := do(t, srv, tt.method, tt.path, tt.cred, tt.body, tt.hdr...)
			if status != tt.status || errorCode(t, body) != tt.code {
				t.Errorf("got %d %s, want %d %s", status, body, tt.status, tt.code)
			}
			if n := len(h.up.Requests()); n != before {
				t.Errorf("a refused request reached the upstream")
			}
			if ev := h.nextEvent(); ev.Status != tt.status || ev.KeyID == "" {
				t.Errorf("event status %d key %q, want %d and a key id", ev.Status, ev.KeyID, tt.status)
			}
		})
	}
	// The CIDR key from an allowed address forwarded by a trusted proxy.
	if status, _, body := do(t, srv, "POST", "/v1/chat/completions", k["cidr"], chatBody, "X-Forwarded-For", "203.0.113.5"); status != 200 {
		t.Errorf("cidr key from 203.0.113.5: %d %s", status, body)
	}
}

func TestQuotaRetryAfter(t *testing.T) {
	h := newHarness(t, testKeys...)
	_, srv := h.gateway(gateway.NewMemoryState())
	for i := range 2 {
		if status, _, body := do(t, srv, "POST", "/v1/chat/completions", h.keys["rpm2"], chatBody); status != 200 {
			t.Fatalf("request %d: %d %s", i, status, body)
		}
	}
	status, hdr, body := do(t, srv, "POST", "/v1/chat/completions", h.keys["rpm2"], chatBody)
	if status != 429 || errorCode(t, body) != "rate_limit_exceeded" || hdr.Get("Retry-After") != "50" {
		t.Fatalf("third request: %d Retry-After %q %s; want 429 after 50s", status, hdr.Get("Retry-After"), body)
	}
	h.clock.Add(50 * time.Second) // the next minute
	if status, _, body := do(t, srv, "POST", "/v1/chat/completions", h.keys["rpm2"], chatBody); status != 200 {
		t.Fatalf("next minute: %d %s", status, body)
	}
}

func TestForwardsWithUpstreamCredentials(t *testing.T) {
	allFronts(t, testForwardsWithUpstreamCredentials)
}

func testForwardsWithUpstreamCredentials(t *testing.T, fr frontKind) {
	h := newHarnessOn(t, fr, testKeys...)
	_, srv := h.gateway(nil)
	status, _, body := do(t, srv, "POST", "/v1/chat/completions", h.keys["open"], chatBody,
		"Cookie", "session=1", "X-Forwarded-For", "198.51.100.7", "Connection", "X-Secret-Hop", "X-Secret-Hop", "1")
	if status != 200 {
		t.Fatalf("chat: %d %s", status, body)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/v1/messages", strings.NewReader(`{"model":"claude-sonnet-4","max_tokens":5}`))
	req.Header.Set("X-Api-Key", h.keys["open"])
	resp, err := srv.Client().Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("messages: %v %v", err, resp.Status)
	}
	resp.Body.Close()
	seen := h.up.Requests()
	if got := seen[0].Header.Get("Authorization"); got != "Bearer "+gatewaytest.OpenAIKey {
		t.Errorf("openai Authorization = %q", got)
	}
	if got := seen[1].Header.Get("X-Api-Key"); got != gatewaytest.AnthropicKey || seen[1].Header.Get("Anthropic-Version") == "" {
		t.Errorf("anthropic x-api-key = %q, version %q", got, seen[1].Header.Get("Anthropic-Version"))
	}
	for _, name := range []string{"Cookie", "X-Forwarded-For", "X-Secret-Hop"} {
		if v := seen[0].Header.Get(name); v != "" {
			t.Errorf("header %s forwarded: %q", name, v)
		}
	}
	ev := h.nextEvent()
	if ev.ClientIP.String() != "198.51.100.7" || ev.Service != "search" || ev.Env != "prod" || ev.Provider != "openai" {
		t.Errorf("event = %+v", ev)
	}
}

func TestUsageEvents(t *testing.T) { allFronts(t, testUsageEvents) }

func testUsageEvents(t *testing.T, fr frontKind) {
	h := newHarnessOn(t, fr, testKeys...)
	_, srv := h.gateway(nil)
	tests := []struct {
		name, path, body string
		op               string
		in, out          int64
		provider         string
	}{
		{"chat", "/v1/chat/completions", chatBody, "chat", gatewaytest.PromptTokens, gatewaytest.CompletionTokens, "openai"},
		{"chat stream", "/v1/chat/completions", `{"model":"gpt-4o-mini","stream":true}`, "chat", gatewaytest.PromptTokens, gatewaytest.CompletionTokens, "openai"},
		{"embeddings", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"x"}`, "embeddings", gatewaytest.EmbeddingTokens, 0, "openai"},
		{"responses", "/v1/responses", `{"model":"gpt-4o-mini","input":"x"}`, "responses", gatewaytest.PromptTokens, gatewaytest.CompletionTokens, "openai"},
		{"messages", "/v1/messages", `{"model":"claude-sonnet-4","max_tokens":5}`, "chat", gatewaytest.AnthropicInput, gatewaytest.AnthropicOutput, "anthropic"},
		{"messages stream", "/v1/messages", `{"model":"claude-sonnet-4","max_tokens":5,"stream":true}`, "chat", gatewaytest.AnthropicInput, gatewaytest.AnthropicOutput, "anthropic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := do(t, srv, "POST", tt.path, h.keys["open"], tt.body)
			if status != 200 {
				t.Fatalf("%d %s", status, body)
			}
			if tt.name == "chat stream" && (strings.Contains(body, `"usage"`) || !strings.Contains(body, "[DONE]")) {
				t.Errorf("stream: injected usage chunk not stripped, or stream cut:\n%s", body)
			}
			ev := h.nextEvent()
			if ev.InputTokens != tt.in || ev.OutputTokens != tt.out || ev.Operation != tt.op || ev.Provider != tt.provider ||
				ev.KeyID != "open" || ev.Status != 200 || ev.RequestID == "" || ev.UserAgent == "" {
				t.Errorf("event = %+v; want %s %s tokens %d/%d", ev, tt.provider, tt.op, tt.in, tt.out)
			}
		})
	}
}

// TestStreamingIsNotBuffered reads the first event of a slow stream long
// before the stream ends.
func TestStreamingIsNotBuffered(t *testing.T) { allFronts(t, testStreamingIsNotBuffered) }

func testStreamingIsNotBuffered(t *testing.T, fr frontKind) {
	h := newHarnessOn(t, fr, testKeys...)
	h.up.ChunkDelay = 300 * time.Millisecond
	_, srv := h.gateway(nil)
	req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","stream":true}`))
	req.Header.Set("Authorization", "Bearer "+h.keys["open"])
	start := time.Now()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("first line %q: %v", line, err)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("first event after %v: the stream is buffered", d)
	}
}

// TestStatusOnNextRequest checks that clamp and disable apply on the next
// request of every instance sharing state, and that enabling restores.
func TestStatusOnNextRequest(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, keywatch.Key{ID: "k", Quotas: keywatch.Quotas{RPM: 100}})
			var s1, s2 gateway.State
			if backend == "memory" {
				s1 = gateway.NewMemoryState()
				s2 = s1
			} else {
				rdb, prefix := redisState(t)
				s1, s2 = gateway.NewRedisState(rdb, prefix), gateway.NewRedisState(rdb, prefix)
			}
			gw1, srv1 := h.gateway(s1)
			_, srv2 := h.gateway(s2)
			key := h.keys["k"]
			for i, s := range []*front{srv1, srv2} {
				if status, _, body := do(t, s, "POST", "/v1/chat/completions", key, chatBody); status != 200 {
					t.Fatalf("before: instance %d: %d %s", i+1, status, body)
				}
			}
			if err := gw1.SetStatus(context.Background(), "k", keywatch.KeyDisabled); err != nil {
				t.Fatal(err)
			}
			if status, _, body := do(t, srv2, "POST", "/v1/chat/completions", key, chatBody); status != 403 || errorCode(t, body) != "key_disabled" {
				t.Fatalf("disabled via instance 1, instance 2 answered %d %s", status, body)
			}
			// Clamped: RPM 100 x 0.1 = 10, of which 2 are used this minute.
			if err := gw1.SetStatus(context.Background(), "k", keywatch.KeyClamped); err != nil {
				t.Fatal(err)
			}
			codes := map[int]int{}
			for range 12 {
				status, _, _ := do(t, srv2, "POST", "/v1/chat/completions", key, chatBody)
				codes[status]++
			}
			if codes[200] != 8 || codes[429] != 4 {
				t.Fatalf("clamped key: statuses %v, want 8 x 200 and 4 x 429", codes)
			}
			if err := gw1.SetStatus(context.Background(), "k", keywatch.KeyActive); err != nil {
				t.Fatal(err)
			}
			if status, _, body := do(t, srv2, "POST", "/v1/chat/completions", key, chatBody); status != 200 {
				t.Fatalf("enabled: %d %s", status, body)
			}
		})
	}
}

func TestRedisSharesQuota(t *testing.T) {
	rdb, prefix := redisState(t)
	h := newHarness(t, testKeys...)
	_, srv1 := h.gateway(gateway.NewRedisState(rdb, prefix))
	_, srv2 := h.gateway(gateway.NewRedisState(rdb, prefix))
	do(t, srv1, "POST", "/v1/chat/completions", h.keys["rpm2"], chatBody)
	do(t, srv2, "POST", "/v1/chat/completions", h.keys["rpm2"], chatBody)
	status, hdr, body := do(t, srv1, "POST", "/v1/chat/completions", h.keys["rpm2"], chatBody)
	if status != 429 || hdr.Get("Retry-After") != "50" {
		t.Fatalf("third request across instances: %d %q %s", status, hdr.Get("Retry-After"), body)
	}
}

func TestShortLivedTokens(t *testing.T) { allFronts(t, testShortLivedTokens) }

func testShortLivedTokens(t *testing.T, fr frontKind) {
	h := newHarnessOn(t, fr, testKeys...)
	_, srv := h.gateway(nil)
	status, _, body := do(t, srv, "POST", "/v1/gateway/token", h.keys["scoped"], "")
	var tok struct {
		Token     string `json:"token"`
		ExpiresIn int    `json:"expires_in"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &tok) != nil || !strings.HasPrefix(tok.Token, gateway.TokenPrefix) || tok.ExpiresIn != 900 {
		t.Fatalf("token exchange: %d %s", status, body)
	}
	if status, _, body := do(t, srv, "POST", "/v1/chat/completions", tok.Token, chatBody); status != 200 {
		t.Fatalf("with token: %d %s", status, body)
	}
	if status, _, body := do(t, srv, "POST", "/v1/chat/completions", tok.Token, `{"model":"gpt-4o"}`); status != 403 {
		t.Errorf("token outside the key's models: %d %s", status, body)
	}
	if status, _, _ := do(t, srv, "POST", "/v1/gateway/token", tok.Token, ""); status != 401 {
		t.Errorf("a token minted a token: %d", status)
	}
	if status, _, _ := do(t, srv, "POST", "/v1/chat/completions", tok.Token[:len(tok.Token)-2]+"AA", chatBody); status != 401 {
		t.Errorf("tampered token: %d", status)
	}
	h.clock.Add(16 * time.Minute)
	if status, _, body := do(t, srv, "POST", "/v1/chat/completions", tok.Token, chatBody); status != 401 || errorCode(t, body) != "expired_token" {
		t.Errorf("expired token: %d %s", status, body)
	}
}

// TestSecretsNeverLeak sends every kind of request, then searches logs,
// events and responses for client and provider secrets.
func TestSecretsNeverLeak(t *testing.T) { allFronts(t, testSecretsNeverLeak) }

func testSecretsNeverLeak(t *testing.T, fr frontKind) {
	h := newHarnessOn(t, fr, testKeys...)
	_, srv := h.gateway(nil)
	var out strings.Builder
	for id, sec := range h.keys {
		for _, path := range []string{"/v1/chat/completions", "/v1/gateway/token", "/v1/messages"} {
			_, hdr, body := do(t, srv, "POST", path, sec, chatBody)
			out.WriteString(id + body + strings.Join(hdr.Values("X-Request-Id"), ""))
		}
	}
	for range 3 * len(h.keys) {
		b, _ := json.Marshal(h.nextEvent())
		out.Write(b)
	}
	logMu.Lock()
	out.Write(h.logs.Bytes())
	logMu.Unlock()
	all := out.String()
	for id, sec := range h.keys {
		if strings.Contains(all, sec) || strings.Contains(all, sec[4:20]) {
			t.Errorf("secret of %s leaked", id)
		}
	}
	for _, sec := range []string{gatewaytest.OpenAIKey, gatewaytest.AnthropicKey, strings.Repeat("s", 32)} {
		if strings.Contains(all, sec) {
			t.Errorf("provider or signing secret leaked")
		}
	}
}
