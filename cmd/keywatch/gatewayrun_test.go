package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/gateway"
	"github.com/keywatch/keywatch/gateway/gatewaytest"
	"github.com/keywatch/keywatch/ingest"
	"github.com/keywatch/keywatch/server"
	"github.com/keywatch/keywatch/server/servertest"
	"github.com/keywatch/keywatch/store"
	"github.com/redis/go-redis/v9"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a
// running command and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is `keywatch gateway run` started in-process.
type running struct {
	addr, metrics string
	logs          *syncBuffer
	cancel        context.CancelFunc
	exit          chan int
}

var (
	servingAddr    = regexp.MustCompile(`msg="keywatch gateway serving" addr=(\S+) metrics=(\S+)`)
	metricsPattern = `(?m)^%s(\{[^}]*\})? (\S+)$`
)

// startGatewayRun runs `keywatch gateway run ARGS` until the test ends (or
// stop) and waits until it serves.
func startGatewayRun(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{logs: &syncBuffer{}, cancel: cancel, exit: make(chan int, 1)}
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: r.logs}
	go func() { r.exit <- run(ctx, e, append([]string{"gateway", "run"}, args...)) }()
	t.Cleanup(func() { r.stop(t) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := servingAddr.FindStringSubmatch(r.logs.String()); m != nil {
			r.addr, r.metrics = m[1], m[2]
			return r
		}
		select {
		case code := <-r.exit:
			r.exit <- code
			t.Fatalf("gateway run exited %d before serving:\n%s", code, r.logs.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway run not serving within 30s:\n%s", r.logs.String())
		}
	}
}

// stop sends the equivalent of SIGTERM and returns the exit status.
func (r *running) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case code := <-r.exit:
		r.exit <- code
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("gateway run did not stop within 30s:\n%s", r.logs.String())
		return -1
	}
}

// metric reads one sample of the running instance's metrics, -1 if absent.
func (r *running) metric(t *testing.T, name, labels string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + r.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, m := range regexp.MustCompile(fmt.Sprintf(metricsPattern, regexp.QuoteMeta(name))).FindAllStringSubmatch(string(b), -1) {
		if labels == "" || m[1] == "{"+labels+"}" {
			v, _ := strconv.ParseFloat(m[2], 64)
			return v
		}
	}
	return -1
}

// eventually polls cond for up to 30 s (a bound for slow machines, not a
// timing check).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fakeServe is serve's ingest endpoint: it records the events it is sent.
type fakeServe struct {
	*httptest.Server
	mu     sync.Mutex
	auth   []string
	events []keywatch.Event
}

func newFakeServe(t *testing.T) *fakeServe {
	f := &fakeServe{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/v1/events" {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		dec := ingest.NewNative(bytes.NewReader(body))
		f.mu.Lock()
		defer f.mu.Unlock()
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		n := 0
		for {
			var ev keywatch.Event
			if dec.Next(&ev) != nil {
				break
			}
			f.events = append(f.events, ev)
			n++
		}
		fmt.Fprintf(w, `{"accepted":%d,"rejected":0}`, n)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServe) received() ([]keywatch.Event, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]keywatch.Event(nil), f.events...), append([]string(nil), f.auth...)
}

// realServe runs keywatch serve's server on storeURL with an ingest and a
// viewer token.
func realServe(t *testing.T, storeURL string) (url, ingestTok, viewerTok string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	srv, err := server.New(ctx, cfg, server.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // after the server stops
	hs, toks, _ := servertest.Start(t, srv, st, "gateway-run-test", keywatch.RoleIngest, keywatch.RoleViewer)
	return hs.URL, toks[keywatch.RoleIngest], toks[keywatch.RoleViewer]
}

// processed asks a real serve how many events detection has processed.
func processed(t *testing.T, url, viewer string) int64 {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/api/stats", nil)
	req.Header.Set("Authorization", "Bearer "+viewer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct{ Processed int64 }
	json.NewDecoder(resp.Body).Decode(&s)
	return s.Processed
}

// closedURL is an http URL nothing listens on.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// gatewayRunSetup is a store with an issued gateway key, a fake upstream
// and a config file whose gateway section points at it.
type gatewayRunSetup struct {
	storeURL, config, secret, prefix string
	upstream                         *gatewaytest.Upstream
}

func newGatewayRunSetup(t *testing.T) *gatewayRunSetup {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("KEYWATCH_PEPPER_FILE", filepath.Join(dir, "pepper"))
	t.Setenv("KW_TEST_UPSTREAM_KEY", gatewaytest.OpenAIKey)
	s := &gatewayRunSetup{storeURL: "sqlite://" + filepath.Join(dir, "kw.db"), config: filepath.Join(dir, "keywatch.yaml"),
		upstream: gatewaytest.NewUpstream(t)}
	b := make([]byte, 6)
	rand.Read(b)
	s.prefix = "kwgwtest:" + hex.EncodeToString(b)
	cfg := fmt.Sprintf(`version: 1
data_dir: %s
gateway:
  version: 1
  upstreams:
    - {name: openai, provider: openai, base_url: %q, api_key_env: KW_TEST_UPSTREAM_KEY, default: true}
  redis: {prefix: %q}
`, filepath.Join(dir, "data"), s.upstream.URL+"/v1", s.prefix)
	if err := os.WriteFile(s.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runIn(t, "", "gateway", "issue", "--store", s.storeURL, "--id", "gw-1", "--service", "search", "--env", "prod")
	if code != 0 {
		t.Fatalf("issue: exit %d: %s", code, errOut)
	}
	s.secret = strings.TrimSpace(out)
	return s
}

// chat sends one chat completion through the gateway at addr.
func chat(t *testing.T, addr, key string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Request-Id"), string(b)
}

// TestGatewayRun runs `keywatch gateway run` in-process against a fake
// upstream, sends a request with an issued key, and follows its usage
// event to serve (a real one, a fake ingest, an unreachable one, or none).
func TestGatewayRun(t *testing.T) {
	tests := []struct {
		name     string
		serve    string // real, fake, down or none
		disabled bool   // disable the key in Redis first (--redis)
		status   int    // of the request
		// after the request, while running
		forwarded float64 // keywatch_gateway_events_forwarded_total; -1: not exported
		failures  bool    // keywatch_gateway_forward_failures_total > 0
		// after stopping
		logs []string
	}{
		{name: "real serve", serve: "real", status: 200, forwarded: 1,
			logs: []string{"usage=\"forwarded to http://127.0.0.1:", "forwarded=1 rejected=0 dropped=0 lost=0"}},
		{name: "fake ingest", serve: "fake", status: 200, forwarded: 1,
			logs: []string{"forwarded=1 rejected=0 dropped=0 lost=0"}},
		{name: "redis status shared", serve: "fake", disabled: true, status: 403, forwarded: 1,
			logs: []string{"state=\"redis redis://127.0.0.1:6379/0\""}},
		{name: "serve unreachable", serve: "down", status: 200, forwarded: 0, failures: true,
			logs: []string{"keywatch serve is not reachable yet", "will retry", "gateway usage events lost", "lost=1"}},
		{name: "no serve", serve: "none", status: 200, forwarded: -1,
			logs: []string{"usage events are not recorded", "requests=1", "usage=\"not recorded\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newGatewayRunSetup(t)
			args := []string{"--store", s.storeURL, "--config", s.config, "--listen", "127.0.0.1:0",
				"--metrics-listen", "127.0.0.1:0", "--shutdown-timeout", "500ms"}
			var fake *fakeServe
			var serveURL, viewer string
			t.Setenv("KEYWATCH_TOKEN", "")
			switch tt.serve {
			case "real":
				var ingestTok string
				serveURL, ingestTok, viewer = realServe(t, s.storeURL)
				t.Setenv("KEYWATCH_TOKEN", ingestTok)
			case "fake":
				fake = newFakeServe(t)
				serveURL = fake.URL
				t.Setenv("KEYWATCH_TOKEN", "ingest-token-for-test")
			case "down":
				serveURL = closedURL(t)
				t.Setenv("KEYWATCH_TOKEN", "ingest-token-for-test")
			}
			if serveURL != "" {
				args = append(args, "--serve", serveURL)
			}
			if tt.disabled {
				args = append(args, "--redis", "redis://127.0.0.1:6379/0")
				rdb := redisClient(t, s.prefix)
				if err := gateway.NewRedisState(rdb, s.prefix).SetStatus(context.Background(), "gw-1", keywatch.KeyDisabled); err != nil {
					t.Fatal(err)
				}
			}
			r := startGatewayRun(t, args...)

			resp, err := http.Get("http://" + r.addr + "/healthz")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("healthz: %v %v", err, resp)
			}
			resp.Body.Close()
			status, reqID, body := chat(t, r.addr, s.secret)
			if status != tt.status {
				t.Fatalf("chat: %d %s, want %d", status, body, tt.status)
			}
			seen := s.upstream.Requests()
			if wantUp := tt.status == 200; (len(seen) == 1) != wantUp || len(seen) > 1 {
				t.Fatalf("upstream received %d requests; want the request forwarded: %v", len(seen), wantUp)
			}
			if len(seen) == 1 && seen[0].Header.Get("Authorization") != "Bearer "+gatewaytest.OpenAIKey {
				t.Errorf("upstream Authorization %q", seen[0].Header.Get("Authorization"))
			}

			if tt.forwarded >= 0 {
				eventually(t, "forwarded metric", func() bool {
					return r.metric(t, "keywatch_gateway_events_forwarded_total", "") == tt.forwarded &&
						(!tt.failures || r.metric(t, "keywatch_gateway_forward_failures_total", "") > 0)
				})
			} else if v := r.metric(t, "keywatch_gateway_events_forwarded_total", ""); v != -1 {
				t.Errorf("forwarded metric exported without --serve: %v", v)
			}
			eventually(t, "requests metric", func() bool { return r.metric(t, "keywatch_gateway_requests_total", "") == 1 })
			eventually(t, "loop metrics", func() bool { // /healthz and the chat
				return r.metric(t, "keywatch_gateway_loop_requests_total", "") == 2 &&
					r.metric(t, "keywatch_gateway_in_flight_requests", "") == 0 &&
					r.metric(t, "keywatch_gateway_loop_offloaded_total", "") >= 0
			})
			if tt.failures {
				if v := r.metric(t, "keywatch_gateway_forward_pending_events", ""); v != 1 {
					t.Errorf("pending events %v while serve is down, want 1", v)
				}
			}
			switch tt.serve {
			case "real":
				eventually(t, "serve processed the event", func() bool { return processed(t, serveURL, viewer) == 1 })
			case "fake":
				evs, auth := fake.received()
				if len(evs) != 1 {
					t.Fatalf("serve received %d events, want 1", len(evs))
				}
				ev := evs[0]
				wantIn, wantOut := int64(gatewaytest.PromptTokens), int64(gatewaytest.CompletionTokens)
				if tt.status != 200 {
					wantIn, wantOut = 0, 0
				}
				if ev.KeyID != "gw-1" || ev.Service != "search" || ev.Env != "prod" || ev.Status != tt.status || ev.RequestID != reqID ||
					ev.Model != "gpt-4o-mini" || ev.InputTokens != wantIn || ev.OutputTokens != wantOut {
					t.Errorf("event = %+v; want key gw-1, status %d, request id %s, tokens %d/%d", ev, tt.status, reqID, wantIn, wantOut)
				}
				for _, a := range auth {
					if a != "Bearer ingest-token-for-test" {
						t.Errorf("ingest Authorization %q", a)
					}
				}
			}

			if code := r.stop(t); code != 0 {
				t.Errorf("exit %d after SIGTERM:\n%s", code, r.logs.String())
			}
			logs := r.logs.String()
			for _, want := range append(tt.logs, "keywatch gateway stopped") {
				if !strings.Contains(logs, want) {
					t.Errorf("logs lack %q:\n%s", want, logs)
				}
			}
			if (tt.serve == "real" || tt.serve == "fake") && (strings.Contains(logs, "not reachable") || strings.Contains(logs, "will retry")) {
				t.Errorf("forwarding to a working serve logged a failure:\n%s", logs)
			}
			for _, secret := range []string{s.secret, gatewaytest.OpenAIKey, "ingest-token-for-test"} {
				if strings.Contains(logs, secret) {
					t.Errorf("a secret appears in the logs")
				}
			}
		})
	}
}

// redisClient connects to the machine's Redis (failing, never skipping,
// when it is down) and removes prefix's keys when the test ends.
func redisClient(t *testing.T, prefix string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at 127.0.0.1:6379 is unreachable (%v): this test needs it", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		if keys, _ := rdb.Keys(ctx, prefix+":*").Result(); len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		rdb.Close()
	})
	return rdb
}

// TestGatewayRunUsageErrors checks --help and the refusals before serving.
func TestGatewayRunUsageErrors(t *testing.T) {
	s := newGatewayRunSetup(t)
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer refusing.Close()
	base := []string{"gateway", "run", "--store", s.storeURL, "--config", s.config, "--listen", "127.0.0.1:0", "--metrics-listen", ""}
	tests := []struct {
		name  string
		token string
		args  []string
		code  int
		want  string
	}{
		{"help", "", []string{"gateway", "run", "--help"}, 0, "Example:"},
		{"gateway help lists run", "", []string{"gateway", "--help"}, 0, "run      run a gateway instance alone"},
		{"serve without token", "", append(base, "--serve", "http://127.0.0.1:8080"), 2, "KEYWATCH_TOKEN"},
		{"serve not a URL", "tok", append(base, "--serve", "127.0.0.1:8080"), 2, "serve URL"},
		{"serve refuses the token", "tok", append(base, "--serve", refusing.URL), 2, "serve refused the ingest token"},
		{"bad redis URL", "", append(base, "--redis", "http://nope"), 2, "redis"},
		{"unexpected argument", "", append(base, "extra"), 2, "unexpected argument"},
		{"unknown flag", "", append(base, "--nope"), 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KEYWATCH_TOKEN", tt.token)
			code, _, errOut := runIn(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, want %d; stderr lacks %q:\n%s", code, tt.code, tt.want, errOut)
			}
		})
	}
}

// TestServeGatewayListen runs `keywatch serve --gateway-listen`: the
// gateway answers on its own listener and on serve's, the usage of both
// reaches detection, and serve stops cleanly.
func TestServeGatewayListen(t *testing.T) {
	s := newGatewayRunSetup(t)
	admin := strings.Repeat("a", 40)
	t.Setenv("KEYWATCH_BOOTSTRAP_TOKEN", admin)
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: logs}
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, e, []string{"serve", "--store", s.storeURL, "--config", s.config,
			"--listen", "127.0.0.1:0", "--gateway-listen", "127.0.0.1:0"})
	}()
	serving := regexp.MustCompile(`msg="keywatch serving" addr=(\S+) .*gateway_addr=(\S+)`)
	var m []string
	eventually(t, "serve to listen", func() bool {
		m = serving.FindStringSubmatch(logs.String())
		return m != nil
	})
	api, gw := m[1], m[2]
	for _, addr := range []string{gw, api} {
		if code, id, body := chat(t, addr, s.secret); code != 200 || id == "" {
			t.Fatalf("chat through %s: %d %s", addr, code, body)
		}
	}
	eventually(t, "both requests to be processed", func() bool { return processed(t, "http://"+api, admin) >= 2 })
	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("serve exited %d:\n%s", code, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop:\n%s", logs.String())
	}
}
