package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/server"
	"github.com/keywatch/keywatch/server/servertest"
	"github.com/keywatch/keywatch/store"
)

// instance is a running server on a loopback port.
type instance struct {
	url    string
	tokens map[keywatch.Role]string
	store  keywatch.Store
	stop   func()
}

// start runs a server over the store and data directory in dir.
func start(t *testing.T, dir string) *instance {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "kw.db"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Checkpoint = server.Duration(50 * time.Millisecond)
	srv, err := server.New(ctx, cfg, server.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	hs, tokens, stop := servertest.Start(t, srv, st, "test",
		keywatch.RoleIngest, keywatch.RoleViewer, keywatch.RoleResponder, keywatch.RoleAdmin)
	inst := &instance{url: hs.URL, tokens: tokens, store: st}
	var once sync.Once
	inst.stop = func() { once.Do(func() { stop(); st.Close() }) }
	t.Cleanup(inst.stop)
	waitFor(t, "healthz", func() bool {
		resp, err := http.Get(hs.URL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return inst
}

// running serves srv for the test (servertest.Start) with an admin token
// named name in st, returned.
func running(tb testing.TB, srv *server.Server, st keywatch.Store, name string) (*httptest.Server, string) {
	tb.Helper()
	hs, toks, _ := servertest.Start(tb, srv, st, name, keywatch.RoleAdmin)
	return hs, toks[keywatch.RoleAdmin]
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second) // an upper bound for slow machines, not a timing check
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (in *instance) do(t *testing.T, method, path string, role keywatch.Role, body io.Reader, hdr ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, in.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+in.tokens[role])
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// events returns n native lines for key, one a second from at, with
// request ids id-0, id-1...
func events(key string, at time.Time, n int, extra string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"time":%q,"key_id":%q,"model":"gpt-4o-mini","input_tokens":100,"status":200,"request_id":"%s-%d"%s}`+"\n",
			at.Add(time.Duration(i)*time.Second).UTC().Format(time.RFC3339Nano), key, key, i, extra)
	}
	return b.String()
}

func TestAuthAndRoles(t *testing.T) {
	in := start(t, t.TempDir())
	tests := []struct {
		name   string
		method string
		path   string
		role   keywatch.Role
		want   int
	}{
		{"health needs no token", "GET", "/healthz", "", 200},
		{"alerts need a token", "GET", "/api/alerts", "", 401},
		{"metrics need a token", "GET", "/metrics", "", 401},
		{"ingest token cannot read", "GET", "/api/alerts", keywatch.RoleIngest, 403},
		{"viewer reads", "GET", "/api/alerts", keywatch.RoleViewer, 200},
		{"viewer reads metrics", "GET", "/metrics", keywatch.RoleViewer, 200},
		{"viewer cannot ingest", "POST", "/v1/events", keywatch.RoleViewer, 403},
		{"viewer cannot confirm", "POST", "/api/alerts/x/confirm", keywatch.RoleViewer, 403},
		{"responder confirms unknown alert", "POST", "/api/alerts/x/confirm", keywatch.RoleResponder, 404},
		{"admin ingests", "POST", "/v1/events", keywatch.RoleAdmin, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, body := in.do(t, tt.method, tt.path, tt.role, strings.NewReader("")); code != tt.want {
				t.Errorf("%s %s as %q: %d %s, want %d", tt.method, tt.path, tt.role, code, body, tt.want)
			}
		})
	}
	req, _ := http.NewRequest("GET", in.url+"/api/alerts", nil)
	req.Header.Set("Authorization", "Bearer kwt_not-a-real-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("unknown token: %d, want 401", resp.StatusCode)
	}
}

func TestIngestFormatsAndErrors(t *testing.T) {
	in := start(t, t.TempDir())
	at := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(events("k-gz", at, 3, "")))
	zw.Close()
	array := `[{"time":"2026-09-01T10:00:00Z","key_id":"k-arr"},{"time":"2026-09-01T10:00:01Z","key_id":"k-arr","input_tokens":"x"}]`
	tests := []struct {
		name     string
		body     io.Reader
		hdr      []string
		want     int
		accepted int
		rejected int
	}{
		{"jsonl", strings.NewReader(events("k1", at, 5, "")), nil, 200, 5, 0},
		{"gzip", &gz, []string{"Content-Encoding", "gzip"}, 200, 3, 0},
		{"array with a bad item", strings.NewReader(array), []string{"Content-Type", "application/json"}, 200, 1, 1},
		{"all bad", strings.NewReader("nope\n{}\n"), nil, 400, 0, 2},
		{"bad gzip", strings.NewReader("plain"), []string{"Content-Encoding", "gzip"}, 400, 0, 0},
		{"too large", strings.NewReader(strings.Repeat(events("k2", at, 1, ""), 400000)), nil, 413, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := in.do(t, "POST", "/v1/events", keywatch.RoleIngest, tt.body, tt.hdr...)
			if code != tt.want {
				t.Fatalf("status %d %s, want %d", code, body, tt.want)
			}
			if code != 200 && tt.accepted == 0 && tt.rejected == 0 {
				return
			}
			var res struct {
				Accepted, Rejected int
				Errors             []struct {
					Position int
					Reason   string
				}
			}
			if err := json.Unmarshal(body, &res); err != nil {
				t.Fatal(err)
			}
			if res.Accepted != tt.accepted || res.Rejected != tt.rejected || len(res.Errors) != tt.rejected {
				t.Errorf("result %s, want %d accepted, %d rejected with reasons", body, tt.accepted, tt.rejected)
			}
		})
	}
}

// processed reads /api/stats.
func (in *instance) processed(t *testing.T) int64 {
	t.Helper()
	code, body := in.do(t, "GET", "/api/stats", keywatch.RoleViewer, nil)
	if code != 200 {
		t.Fatalf("stats: %d %s", code, body)
	}
	var s struct{ Processed int64 }
	json.Unmarshal(body, &s)
	return s.Processed
}

func TestIngestOTLPAndLiteLLM(t *testing.T) {
	in := start(t, t.TempDir())
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "ingest", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name, path, ctype string
		body              []byte
		status            int
		respType          string
	}{
		{"otlp traces json", "/v1/traces", "application/json", read("otlp/traces.json"), 200, "application/json"},
		{"otlp logs json", "/v1/logs", "application/json", read("otlp/logs.json"), 200, "application/json"},
		{"otlp wrong type", "/v1/traces", "text/plain", read("otlp/traces.json"), 415, ""},
		{"otlp garbage", "/v1/traces", "application/x-protobuf", []byte("\xff\xff\xff"), 400, ""},
		{"litellm array", "/v1/litellm", "application/json", read("litellm/array.json"), 200, "application/json"},
		{"litellm ndjson", "/v1/litellm", "application/x-ndjson", read("litellm/batch.ndjson"), 200, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", in.url+tt.path, bytes.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+in.tokens[keywatch.RoleIngest])
			req.Header.Set("Content-Type", tt.ctype)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, body, tt.status)
			}
			if tt.respType != "" && resp.Header.Get("Content-Type") != tt.respType {
				t.Errorf("response Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.respType)
			}
		})
	}
	// Each fixture's events are in its golden file; spans and their detail
	// log records share request ids, so duplicates are dropped.
	want := int64(len(goldenIDs(t, "otlp/traces.golden", "otlp/logs.golden", "litellm/array.json.golden", "litellm/batch.ndjson.golden")))
	waitFor(t, "OTLP and LiteLLM events to be processed", func() bool { return in.processed(t) == want })
}

// goldenIDs returns the request ids of the events in ingest golden files.
func goldenIDs(t *testing.T, files ...string) map[string]bool {
	ids := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", "ingest", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			var ev struct {
				KeyID     string `json:"key_id"`
				RequestID string `json:"request_id"`
			}
			if json.Unmarshal([]byte(line), &ev) == nil && ev.KeyID != "" {
				ids[ev.RequestID] = true
			}
		}
	}
	return ids
}

func TestOverloadAnswers503(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "kw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := server.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Ingest.MaxBody, cfg.Ingest.MaxPending = 64<<10, 128<<10
	srv, err := server.New(ctx, cfg, server.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	tok, secret, hash, _ := server.NewToken("t", keywatch.RoleIngest, time.Now())
	st.CreateToken(ctx, tok, hash, keywatch.Change{Actor: "test"})
	// Run is not called: detection does not consume, so the lag grows.
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	body := events("k", time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), 200, "")
	for i := 0; i < 100; i++ {
		req, _ := http.NewRequest("POST", hs.URL+"/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			if resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			return
		}
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	t.Fatal("a full log never answered 503")
}
