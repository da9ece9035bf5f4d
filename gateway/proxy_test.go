package gateway_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/gateway"
	"github.com/keywatch/keywatch/gateway/gatewaytest"
)

// rawUpstream is an upstream the test writes by hand, for the answers the
// fake API never gives.
func rawUpstream(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

// withUpstream is h's config with every upstream at base.
func withUpstream(h *harness, base string) gateway.Config {
	cfg := h.config()
	for i := range cfg.Upstreams {
		cfg.Upstreams[i].BaseURL = base + "/v1"
	}
	return cfg
}

// TestUpstreamAnswers covers what the fake API never does: failing,
// breaking off, sending its own headers.
func TestUpstreamAnswers(t *testing.T) { allFronts(t, testUpstreamAnswers) }

func testUpstreamAnswers(t *testing.T, fr frontKind) {
	t.Run("unreachable", func(t *testing.T) {
		h := newHarnessOn(t, fr, testKeys...)
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		dead := "http://" + ln.Addr().String()
		ln.Close()
		_, srv := h.gatewayWith(withUpstream(h, dead), nil)
		status, _, body := do(t, srv, "POST", "/v1/chat/completions", h.keys["open"], chatBody)
		if status != 502 || errorCode(t, body) != "upstream_error" {
			t.Errorf("got %d %s, want 502 upstream_error", status, body)
		}
		if ev := h.nextEvent(); ev.Status != 502 || ev.KeyID != "open" {
			t.Errorf("event status %d key %q", ev.Status, ev.KeyID)
		}
	})
	t.Run("headers pass, hop-by-hop ones stay", func(t *testing.T) {
		h := newHarnessOn(t, fr, testKeys...)
		up := rawUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.RawQuery != "limit=5" {
				t.Errorf("upstream query %q, want limit=5", r.URL.RawQuery)
			}
			w.Header().Set("X-Ratelimit-Remaining-Requests", "99")
			w.Header().Set("Keep-Alive", "timeout=5")
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"object":"list","data":[]}`)
		})
		_, srv := h.gatewayWith(withUpstream(h, up), nil)
		status, hdr, body := do(t, srv, "GET", "/v1/models?limit=5", h.keys["open"], "")
		if status != 200 || body != `{"object":"list","data":[]}` {
			t.Fatalf("got %d %s", status, body)
		}
		if hdr.Get("X-Ratelimit-Remaining-Requests") != "99" || hdr.Get("Keep-Alive") != "" ||
			hdr.Get("Content-Type") != "application/json" || hdr.Get("X-Request-Id") == "" {
			t.Errorf("headers %v", hdr)
		}
		h.nextEvent()
	})
	t.Run("upstream breaks off", func(t *testing.T) {
		h := newHarnessOn(t, fr, testKeys...)
		up := rawUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"chatcmpl-1","choices":[`)
			w.(http.Flusher).Flush()
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		})
		_, srv := h.gatewayWith(withUpstream(h, up), nil)
		req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
		req.Header.Set("Authorization", "Bearer "+h.keys["open"])
		// The client sees an error, never a complete answer: before the
		// headers (net/http had not sent them yet) or in the body.
		if resp, err := srv.Client().Do(req); err == nil {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				t.Errorf("a broken-off answer reached the client whole: %d %q", resp.StatusCode, b)
			}
		}
		if ev := h.nextEvent(); ev.Status != 200 || ev.InputTokens != 0 {
			t.Errorf("event %+v", ev)
		}
	})
	t.Run("client goes away mid-stream", func(t *testing.T) {
		h := newHarnessOn(t, fr, testKeys...)
		h.up.ChunkDelay = 200 * time.Millisecond
		_, srv := h.gateway(nil)
		req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","stream":true}`))
		req.Header.Set("Authorization", "Bearer "+h.keys["open"])
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
			t.Fatalf("first line %q: %v", line, err)
		}
		resp.Body.Close()
		srv.Client().CloseIdleConnections()
		if ev := h.nextEvent(); ev.Status != 200 || ev.KeyID != "open" {
			t.Errorf("event %+v", ev)
		}
	})
	t.Run("chunked request body", func(t *testing.T) {
		h := newHarnessOn(t, fr, testKeys...)
		_, srv := h.gateway(nil)
		// A reader of unknown length: the client sends the body chunked.
		req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions", io.MultiReader(strings.NewReader(chatBody)))
		req.Header.Set("Authorization", "Bearer "+h.keys["scoped"])
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		seen := h.up.Requests()
		if resp.StatusCode != 200 || len(seen) != 1 || seen[0].Body["model"] != "gpt-4o-mini" {
			t.Fatalf("status %d, upstream saw %+v", resp.StatusCode, seen)
		}
		h.nextEvent()
	})
	t.Run("body too large", func(t *testing.T) {
		h := newHarnessOn(t, fr, testKeys...)
		cfg := h.config()
		cfg.MaxBody = 1 << 10
		_, srv := h.gatewayWith(cfg, nil)
		big := `{"model":"gpt-4o-mini","input":"` + strings.Repeat("x", 2<<10) + `"}`
		status, _, body := do(t, srv, "POST", "/v1/embeddings", h.keys["open"], big)
		if status != 413 || errorCode(t, body) != "request_too_large" {
			t.Errorf("got %d %s, want 413 request_too_large", status, body)
		}
		if n := len(h.up.Requests()); n != 0 {
			t.Errorf("%d requests reached the upstream", n)
		}
		if ev := h.nextEvent(); ev.Status != 413 || ev.KeyID != "open" {
			t.Errorf("event status %d key %q, want 413 from open", ev.Status, ev.KeyID)
		}
		status, _, body = do(t, srv, "POST", "/v1/gateway/token", h.keys["open"], big)
		if status != 413 || errorCode(t, body) != "request_too_large" {
			t.Errorf("token endpoint: got %d %s, want 413 request_too_large", status, body)
		}
	})
}

func TestServeHealthz(t *testing.T) {
	h := newHarness(t, testKeys...)
	_, srv := h.gateway(nil)
	resp, err := srv.Client().Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok\n" {
		t.Errorf("healthz: %d %q", resp.StatusCode, b)
	}
}

// TestTokenCorrection checks that a key's TPM counter ends at the tokens
// the upstream reported, not at Admit's estimate: a request whose
// estimate fills most of the quota leaves room for another once settled,
// on both State backends.
func TestTokenCorrection(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, keywatch.Key{ID: "tpm", Quotas: keywatch.Quotas{TPM: 1100}})
			var st gateway.State = gateway.NewMemoryState()
			if backend == "redis" {
				rdb, prefix := redisState(t)
				st = gateway.NewRedisState(rdb, prefix)
			}
			_, srv := h.gateway(st)
			big := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}],"max_tokens":1000}`
			for i := range 3 {
				if status, _, body := do(t, srv, "POST", "/v1/chat/completions", h.keys["tpm"], big); status != 200 {
					t.Fatalf("request %d: %d %s (the estimate was not corrected to the usage)", i, status, body)
				}
				// The event reaches the sink after its correction.
				if ev := h.nextEvent(); ev.InputTokens != gatewaytest.PromptTokens || ev.OutputTokens != gatewaytest.CompletionTokens {
					t.Fatalf("event tokens %d/%d", ev.InputTokens, ev.OutputTokens)
				}
			}
		})
	}
}
