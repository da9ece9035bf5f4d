package scan

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Liveness is what a provider said of a secret.
type Liveness string

// Liveness results. Unknown covers every answer that is neither a clear
// yes nor a clear no: no verifier for the rule, a network error, a 429 or
// 5xx, a redirect.
const (
	Live    Liveness = "live"
	Dead    Liveness = "dead"
	Unknown Liveness = "unknown"
)

// Verification is the result of one liveness check.
type Verification struct {
	Result Liveness `json:"result"`
	// HTTPStatus is the provider's status code, 0 when no answer came.
	HTTPStatus int `json:"http_status,omitempty"`
	// Endpoint is the URL asked (it never holds the secret).
	Endpoint string `json:"endpoint,omitempty"`
	// Detail explains an unknown result or a qualified live one.
	Detail string `json:"detail,omitempty"`
}

// check is how one kind of key is verified: a request to a free identity
// or listing endpoint that costs nothing and changes nothing, and the
// statuses that mean live and dead (KEY-FORMATS.md section 1b).
type check struct {
	provider string // names the base URL, as --verify-base does
	method   string
	path     string
	auth     func(h http.Header, secret string)
	live     []int // any 2xx when empty
	dead     []int
	// liveDetail qualifies a live answer by status (Google's 403: a valid
	// key without access to the Gemini API).
	liveDetail map[int]string
}

func bearer(h http.Header, s string) { h.Set("Authorization", "Bearer "+s) }
func header(name string) func(http.Header, string) {
	return func(h http.Header, s string) { h.Set(name, s) }
}

// DefaultVerifyBases are the providers' public API base URLs, by the
// provider names of the rules. Verifier.Bases overrides them.
var DefaultVerifyBases = map[string]string{
	"openai":      "https://api.openai.com",
	"anthropic":   "https://api.anthropic.com",
	"google":      "https://generativelanguage.googleapis.com",
	"huggingface": "https://huggingface.co",
	"groq":        "https://api.groq.com/openai",
	"xai":         "https://api.x.ai",
	"replicate":   "https://api.replicate.com",
	"openrouter":  "https://openrouter.ai/api",
	"deepseek":    "https://api.deepseek.com",
	"langsmith":   "https://api.smith.langchain.com",
	"mistral":     "https://api.mistral.ai",
	"cohere":      "https://api.cohere.com",
	"cerebras":    "https://api.cerebras.ai",
	"together":    "https://api.together.xyz",
}

// checks by rule id. Rules without one (Perplexity's only check is a
// billable completion; Azure needs the resource host; Bedrock needs AWS
// signing) verify as unknown.
var checks = func() map[string]check {
	openai := check{provider: "openai", method: "GET", path: "/v1/me", auth: bearer, live: []int{200}, dead: []int{401}}
	openaiAdmin := openai
	openaiAdmin.path = "/v1/organization/admin_api_keys"
	anth := func(h http.Header, s string) {
		h.Set("x-api-key", s)
		h.Set("anthropic-version", "2023-06-01")
	}
	anthropic := check{provider: "anthropic", method: "GET", path: "/v1/models", auth: anth, live: []int{200}, dead: []int{401, 404}}
	anthropicAdmin := anthropic
	anthropicAdmin.path = "/v1/organizations/api_keys"
	hf := check{provider: "huggingface", method: "GET", path: "/api/whoami-v2", auth: bearer, dead: []int{401}}
	langsmith := check{provider: "langsmith", method: "GET", path: "/api/v1/api-key", auth: header("X-API-Key"), live: []int{200}, dead: []int{401, 403}}
	ok := func(provider, path string, dead ...int) check {
		if len(dead) == 0 {
			dead = []int{401}
		}
		return check{provider: provider, method: "GET", path: path, auth: bearer, live: []int{200}, dead: dead}
	}
	return map[string]check{
		"openai-project-key":         openai,
		"openai-service-account-key": openai,
		"openai-legacy-key":          openai,
		"openai-admin-key":           openaiAdmin,
		"anthropic-api-key":          anthropic,
		"anthropic-admin-key":        anthropicAdmin,
		"google-api-key": {provider: "google", method: "GET", path: "/v1beta/models", auth: header("x-goog-api-key"),
			live: []int{200, 403}, dead: []int{400},
			liveDetail: map[int]string{403: "valid Google API key without Gemini API access"}},
		"huggingface-access-token": hf,
		"huggingface-org-token":    hf,
		"groq-api-key":             ok("groq", "/v1/models"),
		"xai-api-key":              ok("xai", "/v1/api-key", 400, 401),
		"replicate-api-token": {provider: "replicate", method: "GET", path: "/v1/predictions",
			auth: func(h http.Header, s string) { h.Set("Authorization", "Token "+s) }, dead: []int{401}},
		"openrouter-api-key":       ok("openrouter", "/v1/key"),
		"deepseek-api-key":         ok("deepseek", "/user/balance"),
		"langsmith-personal-token": langsmith,
		"langsmith-service-key":    langsmith,
		"mistral-api-key":          ok("mistral", "/v1/models"),
		"cohere-api-key":           ok("cohere", "/v1/connectors"),
		"cerebras-api-key":         ok("cerebras", "/v1/models", 401, 403),
		"together-api-key":         ok("together", "/v1/models"),
	}
}()

// Verifier checks whether leaked secrets still work, each with its
// provider's free identity or model-listing endpoint. It calls providers,
// so it runs only when asked (keywatch scan --verify). It follows no
// redirects, so a secret is only ever sent to the configured base URL, and
// no result, error or log line holds the secret. The zero value uses
// http.DefaultTransport, a 10 second timeout and the public APIs. A
// Verifier is safe for concurrent use once configured.
type Verifier struct {
	// Client sends the requests; its CheckRedirect is replaced so that no
	// redirect is followed. Nil means a client over http.DefaultTransport.
	Client *http.Client
	// Bases override DefaultVerifyBases by provider name.
	Bases map[string]string
	// Timeout bounds each check; 0 means 10 seconds.
	Timeout time.Duration
}

// HasCheck reports whether rule id has a liveness check.
func HasCheck(ruleID string) bool { _, ok := checks[ruleID]; return ok }

// Verify checks f's secret with its provider.
func (v *Verifier) Verify(ctx context.Context, f *Finding) Verification {
	c, ok := checks[f.Rule]
	if !ok {
		return Verification{Result: Unknown, Detail: "no free liveness check for " + f.Rule}
	}
	base := v.Bases[c.provider]
	if base == "" {
		base = DefaultVerifyBases[c.provider]
	}
	endpoint := strings.TrimSuffix(base, "/") + c.path
	res := Verification{Result: Unknown, Endpoint: endpoint}
	sec := string(f.secret)
	scrub := func(s string) string { return strings.ReplaceAll(s, sec, f.Redacted) }

	timeout := v.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, c.method, endpoint, nil)
	if err != nil {
		res.Detail = scrub(fmt.Sprintf("bad base URL for %s: %v", c.provider, err))
		return res
	}
	c.auth(req.Header, sec)
	req.Header.Set("User-Agent", "keywatch-scan-verify")
	client := http.Client{Timeout: timeout}
	if v.Client != nil {
		client = *v.Client
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		res.Detail = scrub(fmt.Sprintf("request failed: %v", err))
		return res
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	res.HTTPStatus = resp.StatusCode
	switch {
	case contains(c.dead, resp.StatusCode):
		res.Result = Dead
	case contains(c.live, resp.StatusCode) || len(c.live) == 0 && resp.StatusCode/100 == 2:
		res.Result = Live
		res.Detail = c.liveDetail[resp.StatusCode]
	default:
		res.Detail = fmt.Sprintf("unexpected status %d", resp.StatusCode)
	}
	return res
}

func contains(codes []int, c int) bool {
	for _, x := range codes {
		if x == c {
			return true
		}
	}
	return false
}
