// Package gateway is keywatch's OpenAI-compatible reverse proxy. Clients
// call it with a keywatch key (kwk_...) or a short-lived gateway token
// (kwt_...) in place of a provider key; the gateway authenticates the key
// by its fingerprint, enforces the inventory's status, expiry, allow-lists,
// sources and quotas, forwards the request with the provider key from its
// own environment, and reports every request as a keywatch.Event.
//
// Status changes made with Gateway.SetStatus (containment) apply to the
// next request; with RedisState they apply to the next request on every
// instance sharing the Redis.
package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keywatch/keywatch"
)

// Geo resolves a client address to an ISO 3166-1 alpha-2 country, "" when
// unknown. enrich's geo database satisfies it through a small adapter.
type Geo interface {
	Country(addr netip.Addr) string
}

// Options are the gateway's collaborators; the zero value of each optional
// field works.
type Options struct {
	Store  keywatch.KeyStore // required: the inventory
	Pepper []byte            // required: the fingerprint pepper
	State  State             // nil: a MemoryState
	// Sink receives every request as an Event, from Run's goroutine, one at
	// a time; it owns the Event. Events that cannot wait (the buffer is
	// full) are dropped and counted in Stats.
	Sink      func(*keywatch.Event)
	Geo       Geo // nil: keys with a country allow-list are refused
	Logger    *slog.Logger
	Now       func() time.Time
	Getenv    func(string) string // reads provider keys; nil: os.Getenv
	Transport http.RoundTripper   // nil: a keep-alive transport (see upstreamTransport)
}

// Gateway is the proxy; it is an http.Handler safe for concurrent use.
type Gateway struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	sink    func(*keywatch.Event)
	geo     Geo
	state   State
	ring    *keyring
	proxy   *httputil.ReverseProxy
	ups     []upstream
	tokens  *tokenIssuer
	events  chan *keywatch.Event
	dropped atomic.Int64
}

type upstream struct {
	Upstream
	base   *url.URL
	secret string
}

// Stats are the gateway's counters.
type Stats struct {
	EventsDropped int64
}

// New builds a gateway and loads the keyring from the store.
func New(ctx context.Context, cfg Config, opt Options) (*Gateway, error) {
	cfg.fill()
	if err := cfg.Validate(); err != nil {
		return nil, keywatch.Errorf(keywatch.EINVALID, "gateway config: %v", err)
	}
	if opt.Store == nil || len(opt.Pepper) == 0 {
		return nil, keywatch.Errorf(keywatch.EINVALID, "gateway: a store and a pepper are required")
	}
	g := &Gateway{cfg: cfg, log: opt.Logger, now: opt.Now, sink: opt.Sink, geo: opt.Geo, state: opt.State,
		events: make(chan *keywatch.Event, cfg.EventBuffer)}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.state == nil {
		g.state = NewMemoryState()
	}
	getenv := opt.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var errs []error
	for _, u := range cfg.Upstreams {
		base, _ := url.Parse(u.BaseURL)
		up := upstream{Upstream: u, base: base, secret: getenv(u.APIKeyEnv)}
		if up.secret == "" {
			errs = append(errs, fmt.Errorf("upstream %s: environment variable %s is empty", u.Name, u.APIKeyEnv))
		}
		g.ups = append(g.ups, up)
	}
	tok, err := newTokenIssuer(cfg.Token, getenv)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, keywatch.Errorf(keywatch.EINVALID, "gateway: %v", err)
	}
	g.tokens = tok
	g.ring = &keyring{store: opt.Store, pepper: opt.Pepper, grace: cfg.Rotation.Grace}
	if err := g.ring.load(ctx, g.now()); err != nil {
		return nil, err
	}
	transport := opt.Transport
	if transport == nil {
		transport = upstreamTransport()
	}
	g.proxy = &httputil.ReverseProxy{Rewrite: g.rewrite, ModifyResponse: g.modifyResponse,
		ErrorHandler: g.proxyError, Transport: transport, BufferPool: copyBuffers{}}
	return g, nil
}

// Run delivers usage events to the sink and reloads the keyring every
// Config.Refresh until ctx is done.
// upstreamTransport keeps many idle connections to each upstream:
// http.DefaultTransport keeps 2, so under load every further request dials
// a new TCP connection (measured: a quarter of the gateway's CPU at 5,000
// requests/s, and thousands of sockets in TIME_WAIT).
func upstreamTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 256
	return t
}

func (g *Gateway) Run(ctx context.Context) error {
	t := time.NewTicker(g.cfg.Refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case ev := <-g.events:
					g.deliver(ev)
				default:
					return nil
				}
			}
		case ev := <-g.events:
			g.deliver(ev)
		case <-t.C:
			if err := g.Refresh(ctx); err != nil {
				g.log.Warn("gateway keyring refresh failed; serving the last loaded keys", "err", err)
			}
		}
	}
}

func (g *Gateway) deliver(ev *keywatch.Event) {
	if g.sink != nil {
		g.sink(ev)
	}
}

// Refresh reloads the keyring from the store now.
func (g *Gateway) Refresh(ctx context.Context) error { return g.ring.load(ctx, g.now()) }

// SetStatus sets key id's live status (containment calls it after, or
// instead of, Store.SetKeyStatus). Disabling or clamping applies to the
// next request; with RedisState, on every instance. Setting KeyActive
// clears the live status: the key then follows its stored status, which
// this instance reloads at once and others at their next refresh.
func (g *Gateway) SetStatus(ctx context.Context, id string, st keywatch.KeyStatus) error {
	if err := g.state.SetStatus(ctx, id, st); err != nil {
		return err
	}
	if st == keywatch.KeyActive || st == "" {
		return g.Refresh(ctx)
	}
	return nil
}

// Stats returns the gateway's counters.
func (g *Gateway) Stats() Stats { return Stats{EventsDropped: g.dropped.Load()} }

func (g *Gateway) emit(ev *keywatch.Event) {
	select {
	case g.events <- ev:
	default:
		g.dropped.Add(1)
	}
}

// call is one request's state, shared with the proxy callbacks through
// the request context.
type call struct {
	up       *upstream
	injected bool
	status   int
	u        usage
	tail     *tailBody
}

type callKey struct{}

// operations maps the served paths to event operations.
var operations = map[string]string{
	"/v1/chat/completions": "chat",
	"/v1/completions":      "completion",
	"/v1/embeddings":       "embeddings",
	"/v1/responses":        "responses",
	"/v1/models":           "models",
	"/v1/messages":         "chat",
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := g.now()
	ev := &keywatch.Event{Time: start, ClientIP: g.clientIP(r), UserAgent: r.UserAgent(), RequestID: newRequestID()}
	w.Header().Set("X-Request-Id", ev.RequestID)
	if r.URL.Path == "/v1/gateway/token" {
		g.serveToken(w, r, ev)
		return
	}
	c := &call{}
	defer func() {
		// The proxy aborts with http.ErrAbortHandler when the client goes
		// away mid-response: the request is still reported.
		if p := recover(); p != nil {
			ev.Status = c.status
			ev.InputTokens, ev.OutputTokens = c.u.input, c.u.output
			ev.LatencyMS = float64(g.now().Sub(start).Microseconds()) / 1000
			g.emit(ev)
			panic(p)
		}
	}()
	if ref := g.handle(w, r, ev, c, start); ref != nil {
		ref.write(w)
		ev.Status = ref.status
	} else {
		ev.Status = c.status
	}
	ev.LatencyMS = float64(g.now().Sub(start).Microseconds()) / 1000
	g.emit(ev)
}

// handle checks and forwards one request; it returns the refusal to send,
// or nil when the proxy has answered.
func (g *Gateway) handle(w http.ResponseWriter, r *http.Request, ev *keywatch.Event, c *call, now time.Time) *refusal {
	op, ok := operations[r.URL.Path]
	ev.Operation = op
	k, ref := g.authenticate(r, ev, now)
	if ref != nil {
		return ref
	}
	if !ok || (op == "models") != (r.Method == http.MethodGet) {
		return &errUnknownURL
	}
	var f reqFields
	body, ref := g.readBody(w, r, &f)
	if ref != nil {
		return ref
	}
	ev.Model = f.Model
	anthropic := r.URL.Path == "/v1/messages"
	if ref := g.authorize(k, ev); ref != nil {
		return ref
	}
	if c.up = g.route(anthropic, f.Model); c.up == nil {
		return &errNoRoute
	}
	ev.Provider = c.up.Provider
	// Ask OpenAI streams for their usage; see Config.StripInjectedUsage.
	if f.Stream && !anthropic && f.StreamOptions == nil && (op == "chat" || op == "completion") {
		body = append([]byte(`{"stream_options":{"include_usage":true},`), bytes.TrimLeft(body, " \t\r\n")[1:]...)
		c.injected = true
	}
	est := f.estimate(len(body), op, g.cfg.DefaultMaxTokens)
	q, cq := k.Quotas, g.clamp(k.Quotas)
	if k.Status == keywatch.KeyClamped {
		q = cq
	}
	v, err := g.state.Admit(r.Context(), k.ID, q, cq, est, now)
	switch {
	case err != nil:
		g.log.Error("gateway quota check failed; refusing", "key_id", k.ID, "err", err)
		return &errState
	case v.Status == keywatch.KeyRevoked:
		return &errRevokedKey
	case v.Status == keywatch.KeyDisabled:
		return &errDisabledKey
	case v.Limit != LimitNone:
		ref := rateLimited(v.Limit, v.RetryAfter)
		return &ref
	}
	out := r.WithContext(context.WithValue(r.Context(), callKey{}, c))
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	g.proxy.ServeHTTP(w, out)
	if c.tail != nil {
		c.tail.usage(&c.u)
	}
	if c.u.known {
		ev.InputTokens, ev.OutputTokens = c.u.input, c.u.output
		if d := c.u.input + c.u.output - est; d != 0 {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
			if err := g.state.AddTokens(ctx, k.ID, d, now); err != nil {
				g.log.Warn("gateway token correction failed", "key_id", k.ID, "err", err)
			}
			cancel()
		}
	}
	return nil
}

// credential returns the secret the client presented.
func credential(r *http.Request) string {
	if a := r.Header.Get("Authorization"); a != "" {
		if t, ok := strings.CutPrefix(a, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if k := r.Header.Get("X-Api-Key"); k != "" {
		return k
	}
	return r.Header.Get("Api-Key")
}

// authenticate finds the key of the request's credential and checks its
// stored status and expiry. Unknown credentials are reported by
// fingerprint, never by value.
func (g *Gateway) authenticate(r *http.Request, ev *keywatch.Event, now time.Time) (*keywatch.StoredKey, *refusal) {
	cred := credential(r)
	if cred == "" {
		ev.KeyID = "unauthenticated"
		return nil, &errMissingKey
	}
	var k *keywatch.StoredKey
	if strings.HasPrefix(cred, TokenPrefix) {
		id, exp, ok := g.tokens.verify(cred)
		if !ok {
			ev.KeyID = "unauthenticated"
			return nil, &errInvalidKey
		}
		ev.KeyID = id
		if !now.Before(exp) {
			return nil, &errExpiredToken
		}
		if k, ok = g.ring.byKeyID(id); !ok {
			return nil, &errInvalidKey
		}
	} else {
		var fp string
		var ok bool
		if k, fp, ok = g.ring.lookup(r.Context(), cred, now); !ok {
			ev.KeyID = "fp:" + fp[:16]
			return nil, &errInvalidKey
		}
	}
	ev.KeyID, ev.Service, ev.Env = k.ID, k.Service, k.Env
	switch {
	case k.Status == keywatch.KeyRevoked:
		return k, &errRevokedKey
	case k.Status == keywatch.KeyDisabled:
		return k, &errDisabledKey
	case !k.Expires.IsZero() && !now.Before(k.Expires):
		return k, &errExpiredKey
	}
	return k, nil
}

// authorize checks the key's source, operation and model allow-lists.
func (g *Gateway) authorize(k *keywatch.StoredKey, ev *keywatch.Event) *refusal {
	if len(k.CIDRs) > 0 && !slices.ContainsFunc(k.CIDRs, func(p netip.Prefix) bool { return p.Contains(ev.ClientIP) }) {
		return &errSource
	}
	if g.geo != nil && ev.ClientIP.IsValid() {
		ev.Country = g.geo.Country(ev.ClientIP)
	}
	if len(k.Countries) > 0 && (ev.Country == "" || !slices.Contains(k.Countries, ev.Country)) {
		return &errSource
	}
	// Listing models costs nothing and SDKs do it on their own; a token
	// carries the key's allow-lists to the requests made with it.
	if ev.Operation != "models" && ev.Operation != "token" && !k.AllowsOperation(ev.Operation) {
		return &errOperation
	}
	if !k.AllowsModel(ev.Model) {
		return &errModel
	}
	return nil
}

// route picks the upstream for a model: the first of the right API whose
// prefixes match, else the default one.
func (g *Gateway) route(anthropic bool, model string) *upstream {
	var def *upstream
	for i := range g.ups {
		u := &g.ups[i]
		if (u.Provider == ProviderAnthropic) != anthropic {
			continue
		}
		if model != "" && (len(u.Models) == 0 || slices.ContainsFunc(u.Models, func(p string) bool { return strings.HasPrefix(model, p) })) {
			return u
		}
		if def == nil && (u.Default || model == "") {
			def = u
		}
	}
	return def
}

// clamp returns the quotas of a clamped key; see ClampConfig.
func (g *Gateway) clamp(q keywatch.Quotas) keywatch.Quotas {
	c := g.cfg.Clamp
	one := func(declared, fixed int64) int64 {
		if declared <= 0 {
			return fixed
		}
		v := max(1, int64(float64(declared)*c.Factor))
		if fixed > 0 {
			v = min(v, fixed)
		}
		return v
	}
	return keywatch.Quotas{RPM: one(q.RPM, c.RPM), TPM: one(q.TPM, c.TPM), TokensPerDay: one(q.TokensPerDay, c.TokensPerDay)}
}

// reqFields are the parts of a request body the gateway reads.
type reqFields struct {
	Model               string          `json:"model"`
	Stream              bool            `json:"stream"`
	StreamOptions       json.RawMessage `json:"stream_options"`
	MaxTokens           int64           `json:"max_tokens"`
	MaxCompletionTokens int64           `json:"max_completion_tokens"`
	MaxOutputTokens     int64           `json:"max_output_tokens"`
}

// estimate guesses a request's tokens for TPM admission: a token per 4
// bytes of body, plus the output it may generate.
func (f *reqFields) estimate(bodyLen int, op string, def int64) int64 {
	in := int64(bodyLen / 4)
	switch op {
	case "embeddings", "models":
		return in
	}
	out := max(f.MaxTokens, f.MaxCompletionTokens, f.MaxOutputTokens)
	if out <= 0 {
		out = def
	}
	return in + out
}

// readBody reads the body (bounded by MaxBody) and decodes its fields.
func (g *Gateway) readBody(w http.ResponseWriter, r *http.Request, f *reqFields) ([]byte, *refusal) {
	if r.Method == http.MethodGet {
		return nil, nil
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, g.cfg.MaxBody), r.ContentLength, g.cfg.MaxBody)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &errTooLarge
	case err != nil:
		return nil, &errBadBody
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(body, f) != nil {
		return nil, &errBadBody
	}
	return body, nil
}

// readAll reads r whole; a declared length within limit sizes the buffer
// at once instead of growing it from 512 bytes (net/http's body of a
// request with a Content-Length ends at that length).
func readAll(r io.Reader, declared, limit int64) ([]byte, error) {
	if declared <= 0 || declared > limit {
		return io.ReadAll(r)
	}
	b := make([]byte, declared)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// clientIP is RemoteAddr, or the X-Forwarded-For address closest to the
// gateway that is not a trusted proxy when RemoteAddr is one.
func (g *Gateway) clientIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := ap.Addr().Unmap()
	trusted := func(a netip.Addr) bool {
		return slices.ContainsFunc(g.cfg.TrustedProxies, func(p netip.Prefix) bool { return p.Contains(a) })
	}
	if !trusted(addr) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr
		}
		addr = a.Unmap()
		if !trusted(addr) {
			return addr
		}
	}
	return addr
}

// copyBuffers recycles the proxy's response copy buffers: without a pool
// httputil.ReverseProxy allocates 32 KiB per request, over half of the
// gateway's allocation (measured with BenchmarkProxy -memprofile).
type copyBuffers struct{}

var copyBufferPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (copyBuffers) Get() []byte  { return *copyBufferPool.Get().(*[]byte) }
func (copyBuffers) Put(b []byte) { copyBufferPool.Put(&b) }

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "kwgw-" + hex.EncodeToString(b)
}

// stripped are request headers never forwarded: the client's credentials
// and what would reveal the client to the provider.
var stripped = []string{"Authorization", "X-Api-Key", "Api-Key", "Proxy-Authorization", "Cookie",
	"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "X-Real-Ip", "Accept-Encoding"}

// rewrite points the outgoing request at the upstream with its key. The
// proxy has already removed hop-by-hop headers. Accept-Encoding is left to
// the transport so that responses arrive decoded and usage can be read.
func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	c := pr.In.Context().Value(callKey{}).(*call)
	u := c.up
	pr.Out.URL = &url.URL{Scheme: u.base.Scheme, Host: u.base.Host,
		Path: u.base.Path + strings.TrimPrefix(pr.In.URL.Path, "/v1"), RawQuery: pr.In.URL.RawQuery}
	pr.Out.Host = ""
	h := pr.Out.Header
	for _, name := range stripped {
		h.Del(name)
	}
	if u.Provider == ProviderAnthropic {
		h.Set("X-Api-Key", u.secret)
		if h.Get("Anthropic-Version") == "" {
			h.Set("Anthropic-Version", "2023-06-01")
		}
	} else {
		h.Set("Authorization", "Bearer "+u.secret)
	}
}

// modifyResponse wraps the upstream body to read its usage.
func (g *Gateway) modifyResponse(resp *http.Response) error {
	c := resp.Request.Context().Value(callKey{}).(*call)
	c.status = resp.StatusCode
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		strip := c.injected && (g.cfg.StripInjectedUsage == nil || *g.cfg.StripInjectedUsage)
		resp.Body = newSSEBody(resp.Body, strip, &c.u)
		return nil
	}
	c.tail = &tailBody{src: resp.Body}
	resp.Body = c.tail
	return nil
}

// proxyError answers when the upstream cannot be reached.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	c := r.Context().Value(callKey{}).(*call)
	if c.status != 0 { // the response had begun: nothing more to send
		return
	}
	c.status = errUpstream.status
	g.log.Warn("gateway upstream failed", "upstream", c.up.Name, "err", err)
	errUpstream.write(w)
}
