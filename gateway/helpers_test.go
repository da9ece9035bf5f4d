package gateway_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/gateway"
	"github.com/keywatch/keywatch/gateway/gatewaytest"
	"github.com/keywatch/keywatch/sqlite"
	"github.com/redis/go-redis/v9"
)

var t0 = time.Date(2026, 7, 1, 12, 0, 10, 0, time.UTC)

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type geoUS struct{}

func (geoUS) Country(netip.Addr) string { return "US" }

var pepper = bytes.Repeat([]byte{7}, 32)

// harness is a store with issued keys, a fake upstream and gateways.
type harness struct {
	t      testing.TB
	store  *sqlite.Store
	up     *gatewaytest.Upstream
	clock  *clock
	keys   map[string]string // key id to secret
	logs   *bytes.Buffer
	events chan *keywatch.Event
	front  frontKind
}

// frontKind is the front end a harness serves its gateways through.
type frontKind int

const (
	frontFast    frontKind = iota // Gateway.Serve, fasthttp's server
	frontNetHTTP                  // an http.Handler on net/http's server, as serve runs it
	frontLoop                     // Gateway.ServeEvents, the event loops, as keywatch gateway run does
)

// allFronts runs test once per front end, the harnesses it makes with
// newHarnessOn serving through it.
func allFronts(t *testing.T, test func(t *testing.T, fr frontKind)) {
	t.Run("fasthttp", func(t *testing.T) { test(t, frontFast) })
	t.Run("net-http", func(t *testing.T) { test(t, frontNetHTTP) })
	t.Run("loop", func(t *testing.T) { test(t, frontLoop) })
}

// front is a gateway serving over HTTP on loopback.
type front struct {
	URL    string
	client *http.Client
}

// Client returns an HTTP client for the front.
func (f *front) Client() *http.Client { return f.client }

func newHarness(t testing.TB, keys ...keywatch.Key) *harness {
	t.Helper()
	return newHarnessOn(t, frontLoop, keys...)
}

// newHarnessOn is newHarness serving through front fr.
func newHarnessOn(t testing.TB, fr frontKind, keys ...keywatch.Key) *harness {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, store: st, up: gatewaytest.NewUpstream(t), clock: &clock{t: t0}, keys: map[string]string{},
		logs: &bytes.Buffer{}, events: make(chan *keywatch.Event, 1000), front: fr}
	for _, k := range keys {
		status := k.Status
		k.Status = ""
		sec, err := gateway.Issue(context.Background(), st, pepper, k, t0.Add(-time.Hour), keywatch.Change{Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if status != "" {
			if err := st.SetKeyStatus(context.Background(), k.ID, status, keywatch.Change{Actor: "test"}); err != nil {
				t.Fatal(err)
			}
		}
		h.keys[k.ID] = sec
	}
	return h
}

func (h *harness) config() gateway.Config {
	c := gateway.DefaultConfig()
	c.Upstreams = []gateway.Upstream{
		{Name: "openai", Provider: "openai", BaseURL: h.up.URL + "/v1", APIKeyEnv: "OPENAI_API_KEY", Default: true},
		{Name: "anthropic", Provider: "anthropic", BaseURL: h.up.URL + "/v1", APIKeyEnv: "ANTHROPIC_API_KEY", Models: []string{"claude-"}},
	}
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	c.Token.SigningKeyEnv = "SIGNING"
	return c
}

var logMu sync.Mutex

type lockedWriter struct{ w io.Writer }

func (l lockedWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return l.w.Write(p)
}

// gateway starts a gateway (and its Run loop) on state, serving over HTTP.
func (h *harness) gateway(state gateway.State) (*gateway.Gateway, *front) {
	h.t.Helper()
	return h.gatewayWith(h.config(), state)
}

// gatewayWith is gateway with config cfg.
func (h *harness) gatewayWith(cfg gateway.Config, state gateway.State) (*gateway.Gateway, *front) {
	h.t.Helper()
	env := map[string]string{"OPENAI_API_KEY": gatewaytest.OpenAIKey, "ANTHROPIC_API_KEY": gatewaytest.AnthropicKey,
		"SIGNING": strings.Repeat("s", 32)}
	gw, err := gateway.New(context.Background(), cfg, gateway.Options{
		Store: h.store, Pepper: pepper, State: state, Geo: geoUS{}, Now: h.clock.Now,
		Getenv: func(k string) string { return env[k] },
		Logger: slog.New(slog.NewJSONHandler(lockedWriter{h.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Sink:   func(ev *keywatch.Event) { h.events <- ev },
	})
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { gw.Run(ctx); close(done) }()
	switch h.front {
	case frontNetHTTP:
		hs := httptest.NewServer(gw)
		h.t.Cleanup(func() { hs.Close(); cancel(); <-done })
		return gw, &front{URL: hs.URL, client: hs.Client()}
	case frontLoop:
		return gw, h.serveEvents(gw, cancel, done)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- gw.Serve(ln) }()
	return gw, h.served(gw, ln.Addr(), served, cancel, done)
}

// served returns a front on gw served at addr, which at the test's end
// shuts gw down (failing the test when requests are still in flight after
// 5 s), waits for its serving (served) to end, then stops Run (cancel,
// done).
func (h *harness) served(gw *gateway.Gateway, addr net.Addr, served chan error, cancel func(), done chan struct{}) *front {
	tr := &http.Transport{}
	h.t.Cleanup(func() {
		tr.CloseIdleConnections()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		if err := gw.Shutdown(sctx); err != nil {
			h.t.Errorf("gateway shutdown: %v", err)
		}
		if err := <-served; err != nil {
			h.t.Errorf("gateway serving: %v", err)
		}
		cancel()
		<-done
	})
	return &front{URL: "http://" + addr.String(), client: &http.Client{Transport: tr}}
}

// serveEvents serves gw with ServeEvents on a loopback port.
func (h *harness) serveEvents(gw *gateway.Gateway, cancel func(), done chan struct{}) *front {
	h.t.Helper()
	addr := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- gw.ServeEvents("127.0.0.1:0", func(a net.Addr) { addr <- a }) }()
	select {
	case a := <-addr:
		return h.served(gw, a, served, cancel, done)
	case err := <-served:
		h.t.Fatalf("gateway ServeEvents: %v", err)
		return nil
	}
}

// do sends a request with a credential and returns status, headers and body.
func do(t testing.TB, srv *front, method, path, cred, body string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// errorCode decodes an OpenAI-style error body and checks its shape.
func errorCode(t testing.TB, body string) string {
	t.Helper()
	var e struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == nil {
		t.Fatalf("body is not an OpenAI error: %s", body)
	}
	for _, f := range []string{"message", "type", "param", "code"} {
		if _, ok := e.Error[f]; !ok {
			t.Errorf("error body lacks %q: %s", f, body)
		}
	}
	c, _ := e.Error["code"].(string)
	return c
}

// nextEvent waits for the sink's next event.
func (h *harness) nextEvent() *keywatch.Event {
	h.t.Helper()
	select {
	case ev := <-h.events:
		return ev
	case <-time.After(5 * time.Second):
		h.t.Fatal("no usage event within 5s")
		return nil
	}
}

// redisState returns a RedisState on the machine's Redis under a prefix
// unique to the test, removed at the end. It fails (never skips) when
// Redis is unreachable.
func redisState(t testing.TB) (*redis.Client, string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at 127.0.0.1:6379 is unreachable (%v): these tests need it; start it with "+
			"`redis-server --daemonize yes` or `docker run -d -p 6379:6379 redis:7`", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "kwgwtest:" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := rdb.Keys(ctx, prefix+":*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		rdb.Close()
	})
	return rdb, prefix
}

const chatBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}],"max_tokens":10}`
