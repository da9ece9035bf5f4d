package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/gateway"
	"github.com/keywatch/keywatch/ingest"
)

// fakeIngest is serve's POST /v1/events: it answers from a script, then
// 200 with every line accepted, and records what it received.
type fakeIngest struct {
	*httptest.Server
	mu     sync.Mutex
	script []answer
	posts  []post
}

type answer struct {
	status int
	body   string
	header []string
}

type post struct {
	auth, contentType string
	ids               []string // request ids of the events, in order
	ok                bool     // answered 200
}

func newFakeIngest(t *testing.T, script ...answer) *fakeIngest {
	f := &fakeIngest{script: script}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/events" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		p := post{auth: r.Header.Get("Authorization"), contentType: r.Header.Get("Content-Type")}
		dec := ingest.NewNative(bytes.NewReader(body))
		var ev keywatch.Event
		for dec.Next(&ev) == nil {
			p.ids = append(p.ids, ev.RequestID)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		a := answer{status: 200, body: fmt.Sprintf(`{"accepted":%d,"rejected":0}`, len(p.ids))}
		if len(f.script) > 0 {
			a, f.script = f.script[0], f.script[1:]
		}
		p.ok = a.status == 200
		f.posts = append(f.posts, p)
		for i := 0; i+1 < len(a.header); i += 2 {
			w.Header().Set(a.header[i], a.header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeIngest) received() []post {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]post(nil), f.posts...)
}

// delivered returns the request ids of the batches answered 200, in order.
func (f *fakeIngest) delivered() []string {
	var ids []string
	for _, p := range f.received() {
		if p.ok {
			ids = append(ids, p.ids...)
		}
	}
	return ids
}

func events(n int) []*keywatch.Event {
	evs := make([]*keywatch.Event, n)
	for i := range evs {
		evs[i] = &keywatch.Event{Time: t0.Add(time.Duration(i) * time.Second), KeyID: "k", Operation: "chat",
			Model: "gpt-4o-mini", Status: 200, InputTokens: 11, OutputTokens: 7, RequestID: fmt.Sprintf("kwgw-%03d", i)}
	}
	return evs
}

func TestForwarder(t *testing.T) {
	tests := []struct {
		name       string
		script     []answer
		down       bool // serve is unreachable
		events     int
		maxPending int
		// want
		posts                                int // requests serve received
		forwarded, rejected, dropped, lost   int64
		failures                             int64
		delivered                            int // events in batches answered 200, first ones in order
		logs                                 string
		flushErr                             bool
		minFailures                          int64
		deliveredFrom                        int // index of the first delivered event
		sameBodyRetried, contentTypeAndToken bool
	}{
		{name: "batches of three", events: 7, posts: 3, forwarded: 7, delivered: 7, contentTypeAndToken: true},
		{name: "overloaded then taken", events: 2, script: []answer{{503, `{"error":{"code":"overloaded"}}`, []string{"Retry-After", "0"}}, {500, "", nil}},
			posts: 3, forwarded: 2, failures: 2, delivered: 2, sameBodyRetried: true, logs: "will retry"},
		{name: "token refused then accepted", events: 2, script: []answer{{401, `{"error":{"code":"unauthorized"}}`, nil}},
			posts: 2, forwarded: 2, failures: 1, delivered: 2, sameBodyRetried: true, logs: "serve refused the ingest token"},
		{name: "invalid batch dropped, next sent", events: 5, script: []answer{{400, `{"accepted":0,"rejected":3}`, nil}},
			posts: 2, forwarded: 2, rejected: 3, delivered: 2, deliveredFrom: 3, logs: "serve rejected gateway usage events"},
		{name: "partly rejected", events: 3, script: []answer{{200, `{"accepted":2,"rejected":1}`, nil}},
			posts: 1, forwarded: 2, rejected: 1, delivered: 3, logs: "serve rejected some"},
		{name: "unreachable: lost at shutdown", events: 4, down: true, minFailures: 1, lost: 4, flushErr: true,
			logs: "lost"},
		{name: "queue full", events: 8, maxPending: 5, down: true, dropped: 3, lost: 5, minFailures: 1, flushErr: true,
			logs: "queue full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serve := newFakeIngest(t, tt.script...)
			if tt.down {
				serve.Close()
			}
			var logs bytes.Buffer
			fw, err := gateway.NewForwarder(gateway.ForwarderOptions{URL: serve.URL, Token: "kwt-ingest-secret",
				Logger:      slog.New(slog.NewTextHandler(lockedWriter{&logs}, nil)),
				BatchEvents: 3, MaxPending: tt.maxPending, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range events(tt.events) {
				fw.Add(ev)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			if err := fw.Flush(ctx); (err != nil) != tt.flushErr {
				t.Errorf("Flush = %v, want error %v", err, tt.flushErr)
			}
			st := fw.Stats()
			if st.Forwarded != tt.forwarded || st.Rejected != tt.rejected || st.Dropped != tt.dropped || st.Lost != tt.lost ||
				st.Pending != 0 || (tt.failures > 0 && st.Failures != tt.failures) || st.Failures < tt.minFailures {
				t.Errorf("stats = %+v", st)
			}
			if (st.Forwarded > 0) == st.LastSuccess.IsZero() {
				t.Errorf("LastSuccess %v after %d forwarded", st.LastSuccess, st.Forwarded)
			}
			logMu.Lock()
			l := logs.String()
			logMu.Unlock()
			if tt.logs != "" && !strings.Contains(l, tt.logs) {
				t.Errorf("logs lack %q:\n%s", tt.logs, l)
			}
			if strings.Contains(l, "kwt-ingest-secret") {
				t.Error("the ingest token was logged")
			}
			if tt.down {
				return
			}
			got := serve.received()
			if len(got) != tt.posts {
				t.Errorf("serve received %d requests, want %d", len(got), tt.posts)
			}
			ids := serve.delivered()
			want := make([]string, tt.delivered)
			for i := range want {
				want[i] = fmt.Sprintf("kwgw-%03d", tt.deliveredFrom+i)
			}
			if strings.Join(ids, ",") != strings.Join(want, ",") {
				t.Errorf("delivered %v, want %v", ids, want)
			}
			for _, p := range got {
				if p.auth != "Bearer kwt-ingest-secret" || p.contentType != "application/x-ndjson" || len(p.ids) > 3 || len(p.ids) == 0 {
					t.Errorf("request: auth %q, type %q, %d events", p.auth, p.contentType, len(p.ids))
				}
			}
			if tt.sameBodyRetried && strings.Join(got[0].ids, ",") != strings.Join(got[len(got)-1].ids, ",") {
				t.Errorf("retry sent %v, first attempt %v", got[len(got)-1].ids, got[0].ids)
			}
		})
	}
}

// TestForwarderRun checks that Run sends a partial batch after BatchDelay
// and keeps going after serve comes back, without a Flush.
func TestForwarderRun(t *testing.T) {
	serve := newFakeIngest(t, answer{503, "", nil}, answer{503, "", nil})
	fw, err := gateway.NewForwarder(gateway.ForwarderOptions{URL: serve.URL + "/", Token: "tok", BatchEvents: 100,
		BatchDelay: 10 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- fw.Run(ctx) }()
	for _, ev := range events(2) {
		fw.Add(ev)
	}
	deadline := time.Now().Add(5 * time.Second)
	for fw.Stats().Forwarded < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := serve.delivered(); len(got) != 2 {
		t.Fatalf("delivered %v within 5s", got)
	}
	if st := fw.Stats(); st.Forwarded != 2 || st.Failures != 2 || st.Pending != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestForwarderCheck(t *testing.T) {
	tests := []struct {
		name      string
		answer    answer
		down      bool
		wantErr   bool
		wantToken bool
	}{
		{"accepted", answer{200, `{"accepted":0,"rejected":0}`, nil}, false, false, false},
		{"token refused", answer{401, `{}`, nil}, false, true, true},
		{"token lacks the role", answer{403, `{}`, nil}, false, true, true},
		{"overloaded", answer{503, `{}`, nil}, false, true, false},
		{"unreachable", answer{}, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serve := newFakeIngest(t, tt.answer)
			if tt.down {
				serve.Close()
			}
			fw, err := gateway.NewForwarder(gateway.ForwarderOptions{URL: serve.URL, Token: "tok"})
			if err != nil {
				t.Fatal(err)
			}
			err = fw.Check(context.Background())
			if (err != nil) != tt.wantErr || errors.Is(err, gateway.ErrIngestToken) != tt.wantToken {
				t.Errorf("Check = %v; want error %v, token error %v", err, tt.wantErr, tt.wantToken)
			}
			if !tt.down {
				if got := serve.received(); len(got) != 1 || len(got[0].ids) != 0 {
					t.Errorf("serve received %+v, want one empty batch", got)
				}
			}
		})
	}
}

func TestNewForwarderValidates(t *testing.T) {
	for _, opt := range []gateway.ForwarderOptions{
		{URL: "", Token: "t"},
		{URL: "127.0.0.1:8080", Token: "t"},
		{URL: "ftp://serve", Token: "t"},
		{URL: "http://serve:8080", Token: ""},
	} {
		if _, err := gateway.NewForwarder(opt); keywatch.ErrorCode(err) != keywatch.EINVALID {
			t.Errorf("NewForwarder(%+v) = %v, want EINVALID", opt, err)
		}
	}
}
