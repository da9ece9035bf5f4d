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
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/keywatch/keywatch"
	"github.com/valyala/fasthttp"
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
	Sink   func(*keywatch.Event)
	Geo    Geo // nil: keys with a country allow-list are refused
	Logger *slog.Logger
	Now    func() time.Time
	Getenv func(string) string // reads provider keys; nil: os.Getenv
	// Dial connects to upstreams; nil dials directly, or through the
	// proxy HTTP_PROXY, HTTPS_PROXY and NO_PROXY name.
	Dial func(addr string) (net.Conn, error)
}

// Gateway is the proxy, safe for concurrent use: an http.Handler for
// net/http's server, a server of its own on event loops with ServeEvents
// (what keywatch gateway run uses; the least latency), or on fasthttp's
// server with Serve.
type Gateway struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	sink    func(*keywatch.Event)
	geo     Geo
	state   State
	ring    *keyring
	srvMu   sync.Mutex
	srv     *fasthttp.Server
	ups     upstreams
	loop    *loopFront // ServeEvents's
	tokens  *tokenIssuer
	events  chan answered
	dropped atomic.Int64
}

type upstreams []upstream

type upstream struct {
	Upstream
	path   string // the base URL's path, which request paths go under
	host   string
	secret string
	client *fasthttp.HostClient
}

// Stats are the gateway's counters.
type Stats struct {
	EventsDropped int64
	// ServeEvents's: requests read, those of them served on a goroutine
	// because something on their way could block (see loop.go), and
	// requests being read or answered now.
	LoopRequests, Offloaded, InFlight int64
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
		events: make(chan answered, cfg.EventBuffer)}
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
		up := upstream{Upstream: u, path: base.Path, host: base.Host, secret: getenv(u.APIKeyEnv),
			client: upstreamClient(base, opt.Dial)}
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
	return g, nil
}

// Run settles answered requests (their usage and token corrections; see
// answered) and delivers their events to the sink, and reloads the
// keyring every Config.Refresh, until ctx is done. A gateway needs it
// running.
func (g *Gateway) Run(ctx context.Context) error {
	t := time.NewTicker(g.cfg.Refresh)
	defer t.Stop()
	// Run takes what has gathered every settleEvery rather than waking
	// for each answer: on the event-loop front a wake-up costs a thread
	// hand-off (the loop's thread waits in epoll_wait).
	settle := time.NewTicker(settleEvery)
	defer settle.Stop()
	batch := make([]answered, 0, settleBatch)
	for {
		select {
		case <-ctx.Done():
			for {
				batch = g.drain(batch[:0])
				if len(batch) == 0 {
					return nil
				}
				g.settle(batch)
			}
		case <-settle.C:
			for {
				batch = g.drain(batch[:0])
				if len(batch) == 0 {
					break
				}
				g.settle(batch)
			}
		case <-t.C:
			if err := g.Refresh(ctx); err != nil {
				g.log.Warn("gateway keyring refresh failed; serving the last loaded keys", "err", err)
			}
		}
	}
}

// settleEvery is how often Run settles the requests answered since it
// last did: events reach the sink, and token counts are corrected, up to
// that much later.
const settleEvery = 5 * time.Millisecond

// settleBatch bounds how many answered requests Run settles at once.
const settleBatch = 256

// drain appends to b the answered requests waiting, up to settleBatch.
func (g *Gateway) drain(b []answered) []answered {
	for len(b) < settleBatch {
		select {
		case a := <-g.events:
			b = append(b, a)
		default:
			return b
		}
	}
	return b
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
func (g *Gateway) Stats() Stats {
	s := Stats{EventsDropped: g.dropped.Load()}
	g.srvMu.Lock()
	f := g.loop
	g.srvMu.Unlock()
	if f != nil {
		s.LoopRequests, s.Offloaded, s.InFlight = f.requests.Load(), f.offloaded.Load(), f.inflight.Load()
	}
	return s
}

// operations maps the served paths to event operations.
var operations = map[string]string{
	"/v1/chat/completions": "chat",
	"/v1/completions":      "completion",
	"/v1/embeddings":       "embeddings",
	"/v1/responses":        "responses",
	"/v1/models":           "models",
	"/v1/messages":         "chat",
}

// credential returns the secret the client presented.
func credential(x exchange) string {
	if a := x.header("Authorization"); a != "" {
		if t, ok := strings.CutPrefix(a, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if k := x.header("X-Api-Key"); k != "" {
		return k
	}
	return x.header("Api-Key")
}

// authenticate finds the key of the request's credential and checks its
// stored status and expiry. Unknown credentials are reported by
// fingerprint, never by value.
func (g *Gateway) authenticate(x exchange, ev *keywatch.Event, now time.Time) (*keywatch.StoredKey, *refusal) {
	cred := credential(x)
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
		var blocked bool
		if k, fp, ok, blocked = g.ring.lookup(x.context(), cred, now, x.mayBlock()); !ok {
			if blocked {
				return nil, &errWouldBlock
			}
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

// reqFields are the parts of a request body the gateway reads. They are
// decoded as providers read them: names case-sensitively and a name given
// twice refused, else {"model":"gpt-4o","MODEL":"gpt-4o-mini"} would pass
// the allow-list as gpt-4o-mini and run as gpt-4o. encoding/json matches
// names case-insensitively and keeps the last duplicate; the json v2
// prototype (go-json-experiment, what encoding/json/v2 is built from) does
// neither, and decodes faster.
type reqFields struct {
	Model               string         `json:"model"`
	Stream              bool           `json:"stream"`
	StreamOptions       jsontext.Value `json:"stream_options"`
	MaxTokens           int64          `json:"max_tokens"`
	MaxCompletionTokens int64          `json:"max_completion_tokens"`
	MaxOutputTokens     int64          `json:"max_output_tokens"`
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
func (g *Gateway) readBody(x exchange, f *reqFields) ([]byte, *refusal) {
	if x.method() == "GET" {
		return nil, nil
	}
	body, err := x.body(g.cfg.MaxBody)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return nil, &errTooLarge
	case err != nil:
		return nil, &errBadBody
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || jsonv2.Unmarshal(body, f) != nil {
		return nil, &errBadBody
	}
	return body, nil
}

// clientIP is RemoteAddr, or the X-Forwarded-For address closest to the
// gateway that is not a trusted proxy when RemoteAddr is one.
func (g *Gateway) clientIP(x exchange) netip.Addr {
	addr := x.remoteAddr()
	if !addr.IsValid() {
		return addr
	}
	trusted := func(a netip.Addr) bool {
		return slices.ContainsFunc(g.cfg.TrustedProxies, func(p netip.Prefix) bool { return p.Contains(a) })
	}
	if !trusted(addr) {
		return addr
	}
	hops := strings.Split(x.forwardedFor(), ",")
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

// copyBufferPool recycles the 32 KiB buffers responses are copied
// through: allocated per request they were over half of the gateway's
// allocation (measured with BenchmarkProxy -memprofile).
var copyBufferPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// newRequestID returns kwgw- and 96 random bits in hex. They come from
// math/rand/v2's runtime generator (ChaCha8, seeded from the system's),
// which needs no system call: crypto/rand's did, on every request. An id
// must be unique, for serve's de-duplication, not secret.
func newRequestID() string {
	var raw [12]byte
	binary.BigEndian.PutUint64(raw[:8], mrand.Uint64())
	binary.BigEndian.PutUint32(raw[8:], mrand.Uint32())
	var b [5 + 24]byte
	copy(b[:], "kwgw-")
	hex.Encode(b[5:], raw[:])
	return string(b[:])
}
