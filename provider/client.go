// Package provider imports keys from where they already live: the admin APIs
// of LLM providers (OpenAI, Anthropic) and the key list of an LLM gateway
// (LiteLLM). Each adapter implements Lister and maps the provider's key
// objects to keywatch.StoredKey without ever seeing a key's secret.
//
// All adapters share one HTTP behaviour: every page is fetched until the
// provider says there is no more, a server that repeats a cursor is an error
// rather than an endless loop, 429 and 5xx answers are retried with
// exponential backoff and jitter (honouring Retry-After), 401 and 403 become
// EUNAUTHORIZED and EFORBIDDEN *keywatch.Error values, and response bodies
// are capped. The admin or master key never appears in an error: provider
// messages on auth failures are dropped (providers echo part of the key) and
// every other message is scrubbed of it.
package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keywatch/keywatch"
)

// Lister lists the keys a provider account holds, without secrets.
type Lister interface {
	ListKeys(ctx context.Context) ([]keywatch.StoredKey, error)
}

// Defaults for Options.
const (
	DefaultMaxRetries = 4
	DefaultMaxBody    = 16 << 20 // 16 MiB per response
	// MaxRetryWait caps one wait between attempts, whatever Retry-After asks.
	MaxRetryWait = 60 * time.Second
	baseBackoff  = 500 * time.Millisecond
)

// Option configures an adapter.
type Option func(*config)

type config struct {
	client     *http.Client
	pageSize   int
	maxRetries int
	maxBody    int64
	sleep      func(context.Context, time.Duration) error
	now        func() time.Time
	jitter     func() float64 // in [0, 1)
}

func newConfig(opts []Option) config {
	c := config{
		client:     http.DefaultClient,
		maxRetries: DefaultMaxRetries,
		maxBody:    DefaultMaxBody,
		sleep:      sleepCtx,
		now:        time.Now,
		jitter:     rand.Float64,
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithHTTPClient sets the HTTP client; the default is http.DefaultClient.
func WithHTTPClient(c *http.Client) Option { return func(cf *config) { cf.client = c } }

// WithPageSize sets how many objects to ask for per page. Values outside
// the provider's documented range are clamped to it; 0 uses the provider's
// maximum.
func WithPageSize(n int) Option { return func(cf *config) { cf.pageSize = n } }

// WithMaxRetries sets how many times a request is retried after a 429, a
// 5xx or a transport error (0: never).
func WithMaxRetries(n int) Option { return func(cf *config) { cf.maxRetries = max(n, 0) } }

// WithMaxBody caps the size of one response body in bytes.
func WithMaxBody(n int64) Option { return func(cf *config) { cf.maxBody = n } }

// WithSleep replaces the wait between retries; tests pass a function that
// records the duration and returns at once. It must return ctx.Err() when
// ctx ends first.
func WithSleep(f func(ctx context.Context, d time.Duration) error) Option {
	return func(cf *config) { cf.sleep = f }
}

// WithClock sets the clock used to read Retry-After HTTP dates.
func WithClock(now func() time.Time) Option { return func(cf *config) { cf.now = now } }

// WithJitter sets the source of backoff jitter, a function returning values
// in [0, 1); tests pass a constant.
func WithJitter(f func() float64) Option { return func(cf *config) { cf.jitter = f } }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// client is the HTTP machinery one adapter uses.
type client struct {
	provider string // openai, anthropic, litellm
	base     string // without trailing slash
	secret   string // never shown; scrubbed from messages
	cfg      config
	auth     func(h http.Header)
	// errMessage extracts the provider's error type and message from an
	// error body; either may be empty.
	errMessage func(body []byte) (typ, msg string)
}

// get fetches base+path with query q and decodes the JSON answer into v,
// with the adapters' retry policy (see request).
func (c *client) get(ctx context.Context, path string, q url.Values, v any) error {
	return c.request(ctx, http.MethodGet, path, q, nil, v)
}

// backoff is full-jitter exponential backoff: a random wait in
// [d/2, d) with d = base x 2^attempt.
func (c *client) backoff(attempt int) time.Duration {
	d := baseBackoff << min(attempt, 10)
	return d/2 + time.Duration(c.cfg.jitter()*float64(d/2))
}

type bodyTooLargeError struct{ limit int64 }

func (e *bodyTooLargeError) Error() string {
	return fmt.Sprintf("response body larger than %d bytes", e.limit)
}

// statusText describes an error status with the provider's own message,
// scrubbed and shortened.
func (c *client) statusText(status int, body []byte) string {
	typ, msg := c.errMessage(body)
	s := fmt.Sprintf("HTTP %d%s", status, typeSuffix(typ))
	if msg != "" {
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		s += ": " + msg
	}
	return s
}

func typeSuffix(typ string) string {
	if typ == "" {
		return ""
	}
	return ", " + typ
}

// wrap builds the error for a GET of path (see sendErr).
func (c *client) wrap(code, path, what string, cause error) error {
	return c.sendErr(code, http.MethodGet, path, what, cause)
}

func (c *client) scrub(s string) string {
	if c.secret == "" {
		return s
	}
	return strings.ReplaceAll(s, c.secret, "[REDACTED]")
}

// invalid reports a response that decoded but broke the documented shape.
func (c *client) invalid(path, format string, args ...any) error {
	return c.wrap(keywatch.EINTERNAL, path, "invalid response: "+fmt.Sprintf(format, args...), nil)
}

// retryAfter reads a Retry-After value: delay-seconds or an HTTP date
// (RFC 9110 section 10.2.3). It returns 0 when absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, int64(MaxRetryWait/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// cursorPage is the list envelope OpenAI and Anthropic share:
// {data, first_id, last_id, has_more}.
type cursorPage[T any] struct {
	Data    []T     `json:"data"`
	FirstID *string `json:"first_id"`
	LastID  *string `json:"last_id"`
	HasMore *bool   `json:"has_more"`
}

// cursorList fetches every page of a cursor-paginated list, passing the
// last id of each page as cursorParam of the next. id returns an item's id,
// used when last_id is null.
func cursorList[T any](ctx context.Context, c *client, path string, q url.Values, cursorParam string, id func(T) string) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	for {
		var p cursorPage[T]
		if err := c.get(ctx, path, q, &p); err != nil {
			return nil, err
		}
		if p.Data == nil {
			return nil, c.invalid(path, "missing field data")
		}
		if p.HasMore == nil {
			return nil, c.invalid(path, "missing field has_more")
		}
		all = append(all, p.Data...)
		if !*p.HasMore {
			return all, nil
		}
		next := ""
		if p.LastID != nil {
			next = *p.LastID
		}
		if next == "" && len(p.Data) > 0 {
			next = id(p.Data[len(p.Data)-1])
		}
		if next == "" {
			return nil, c.invalid(path, "has_more is true but the page gives no cursor")
		}
		if seen[next] {
			return nil, c.invalid(path, "server repeated cursor %q", next)
		}
		seen[next] = true
		q = cloneValues(q)
		q.Set(cursorParam, next)
	}
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q)+1)
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// pageSize clamps the configured page size to [1, hi]; 0 means hi.
func (cf config) pageSizeIn(hi int) int {
	if cf.pageSize <= 0 || cf.pageSize > hi {
		return hi
	}
	return cf.pageSize
}

// last4 derives the last four characters of a secret from its redacted
// form when that form ends in at least four clear characters
// ("sk-abc...wxyz" gives "wxyz"; "sk-...***" gives "").
func last4(redacted string) string {
	if len(redacted) < 4 {
		return ""
	}
	tail := redacted[len(redacted)-4:]
	for _, r := range tail {
		if r == '*' || r == '.' || r == '…' || r > 0x7e || r <= ' ' {
			return ""
		}
	}
	// The four must follow a mask, or the string is not redacted at all.
	rest := redacted[:len(redacted)-4]
	if !strings.ContainsAny(rest, ".*…") {
		return ""
	}
	return tail
}

// unixTime converts Unix seconds, 0 or absent meaning unknown.
func unixTime(s *int64) time.Time {
	if s == nil || *s == 0 {
		return time.Time{}
	}
	return time.Unix(*s, 0).UTC()
}

// openAIStyleError reads {"error":{"message","type","code"}}, the shape
// OpenAI documents (ErrorResponse in openai-openapi.yaml) and LiteLLM's
// ProxyException follows.
func openAIStyleError(body []byte) (typ, msg string) {
	var e struct {
		Error struct {
			Message json.RawMessage `json:"message"`
			Type    string          `json:"type"`
		} `json:"error"`
		Detail json.RawMessage `json:"detail"` // FastAPI validation errors (LiteLLM)
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	msg = rawText(e.Error.Message)
	if msg == "" && len(e.Detail) > 0 {
		msg = rawText(e.Detail)
	}
	return e.Error.Type, msg
}

// rawText returns a JSON string's value, or the raw JSON of anything else
// (LiteLLM sometimes sends a dict as message).
func rawText(r json.RawMessage) string {
	if len(r) == 0 || string(r) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	return string(r)
}
