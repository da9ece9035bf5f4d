package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestVerify checks each provider's request (path and credential header)
// and the mapping of its answers to live, dead and unknown, against a
// local fake.
func TestVerify(t *testing.T) {
	tests := []struct {
		rule, provider, path string
		credential           func(r *http.Request) string // extracts the secret sent
		live, dead           int
	}{
		{"openai-project-key", "openai", "/v1/me", bearerOf, 200, 401},
		{"openai-admin-key", "openai", "/v1/organization/admin_api_keys", bearerOf, 200, 401},
		{"anthropic-api-key", "anthropic", "/v1/models", anthropicOf, 200, 404},
		{"google-api-key", "google", "/v1beta/models", headerOf("x-goog-api-key"), 403, 400},
		{"huggingface-access-token", "huggingface", "/api/whoami-v2", bearerOf, 200, 401},
		{"groq-api-key", "groq", "/v1/models", bearerOf, 200, 401},
		{"xai-api-key", "xai", "/v1/api-key", bearerOf, 200, 400},
		{"replicate-api-token", "replicate", "/v1/predictions", tokenOf, 201, 401},
		{"openrouter-api-key", "openrouter", "/v1/key", bearerOf, 200, 401},
		{"langsmith-personal-token", "langsmith", "/api/v1/api-key", headerOf("X-API-Key"), 200, 403},
		{"cerebras-api-key", "cerebras", "/v1/models", bearerOf, 200, 403},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			key := reportKey(t, tt.rule, 21)
			ctx := ""
			if RuleByID(tt.rule).contextual || len(RuleByID(tt.rule).Context) > 0 {
				ctx = tt.provider + " "
			}
			f := findOne(t, "f", ctx+"key="+key+"\n")
			status := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != tt.path || r.Method != http.MethodGet || tt.credential(r) != key {
					t.Errorf("request %s %s without the expected credential", r.Method, r.URL.Path)
				}
				if strings.Contains(r.URL.RawQuery, key) {
					t.Error("secret in the query string")
				}
				w.WriteHeader(status)
			}))
			defer srv.Close()
			v := &Verifier{Bases: map[string]string{tt.provider: srv.URL + "/"}}
			for _, c := range []struct {
				status int
				want   Liveness
			}{{tt.live, Live}, {tt.dead, Dead}, {429, Unknown}, {500, Unknown}, {302, Unknown}} {
				status = c.status
				got := v.Verify(context.Background(), &f)
				if got.Result != c.want || got.HTTPStatus != c.status {
					t.Errorf("status %d: %+v, want %s", c.status, got, c.want)
				}
				b, _ := json.Marshal(got)
				if bytes.Contains(b, []byte(key)) {
					t.Errorf("verification holds the secret: %s", b)
				}
			}
		})
	}
}

func bearerOf(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}
func tokenOf(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Token ")
}
func headerOf(name string) func(*http.Request) string {
	return func(r *http.Request) string { return r.Header.Get(name) }
}
func anthropicOf(r *http.Request) string {
	if r.Header.Get("anthropic-version") == "" {
		return ""
	}
	return r.Header.Get("x-api-key")
}

// TestVerifyNoRedirect checks that a redirect is not followed: the secret
// goes to the configured base only.
func TestVerifyNoRedirect(t *testing.T) {
	hit := false
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit = true }))
	defer elsewhere.Close()
	srv := httptest.NewServer(http.RedirectHandler(elsewhere.URL, http.StatusTemporaryRedirect))
	defer srv.Close()
	f := findOne(t, "f", "k="+reportKey(t, "anthropic-api-key", 3)+"\n")
	got := (&Verifier{Bases: map[string]string{"anthropic": srv.URL}}).Verify(context.Background(), &f)
	if got.Result != Unknown || hit {
		t.Errorf("redirect followed: %+v, hit %v", got, hit)
	}
}

// TestVerifyErrorsHoldNoSecret checks the unknown results of failures: no
// rule check, an unreachable host, a bad base URL.
func TestVerifyErrorsHoldNoSecret(t *testing.T) {
	key := reportKey(t, "groq-api-key", 4)
	f := findOne(t, "f", "k="+key+"\n")
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(prev)
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there now
	for name, v := range map[string]*Verifier{
		"unreachable": {Bases: map[string]string{"groq": srv.URL}},
		"bad base":    {Bases: map[string]string{"groq": "http://[::1"}},
	} {
		got := v.Verify(context.Background(), &f)
		b, _ := json.Marshal(got)
		if got.Result != Unknown || got.Detail == "" || bytes.Contains(b, []byte(key)) {
			t.Errorf("%s: %s", name, b)
		}
	}
	if logs.Len() > 0 && strings.Contains(logs.String(), key) {
		t.Error("a log line holds the secret")
	}
	p := findOne(t, "f", "k="+reportKey(t, "perplexity-api-key", 5)+"\n")
	if got := (&Verifier{}).Verify(context.Background(), &p); got.Result != Unknown || got.Endpoint != "" {
		t.Errorf("perplexity (no free check): %+v", got)
	}
}

// TestVerifyChecksNameRules keeps the check table in step with the rules.
func TestVerifyChecksNameRules(t *testing.T) {
	for id, c := range checks {
		if RuleByID(id) == nil {
			t.Errorf("check for unknown rule %s", id)
		}
		if DefaultVerifyBases[c.provider] == "" || RuleByID(id) != nil && RuleByID(id).Provider != c.provider {
			t.Errorf("check %s: provider %s has no base or is not the rule's", id, c.provider)
		}
	}
}
