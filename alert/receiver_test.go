package alert_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
)

// Secrets the tests plant and then look for in every error and log line.
const (
	slackPath     = "/services/T0KW/B0KW/slackSECRETslackSECRET"
	routingKey    = "pdROUTINGkeySECRETpdROUTINGkey00" // 32 characters
	webhookSecret = "whsecSECRETwhsecSECRET"
	webhookPath   = "/hooks/keywatch/hookSECRETtoken"
)

var secrets = []string{slackPath, "slackSECRETslackSECRET", routingKey, webhookSecret, "hookSECRETtoken"}

// reply is one canned answer of a receiver.
type reply struct {
	status int
	body   string
	header map[string]string
	hang   bool // block until the request's context ends or release is closed
}

// request is what a receiver got.
type request struct {
	path   string
	header http.Header
	body   []byte
}

// receiver is a local stand-in for Slack, PagerDuty, a webhook or an
// Alertmanager: it records every request and answers with replies in turn,
// repeating the last one.
type receiver struct {
	*httptest.Server
	t       *testing.T
	mu      sync.Mutex
	replies []reply
	got     []request
	arrived chan request  // every request, as it arrives (buffered)
	release chan struct{} // closing it ends every hang
}

func newReceiver(t *testing.T, replies ...reply) *receiver {
	t.Helper()
	r := &receiver{t: t, replies: replies, arrived: make(chan request, 100), release: make(chan struct{})}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		r.releaseAll()
		r.Close()
	})
	return r
}

func (r *receiver) releaseAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.release:
	default:
		close(r.release)
	}
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	got := request{path: req.URL.Path, header: req.Header.Clone(), body: body}
	r.mu.Lock()
	i := min(len(r.got), len(r.replies)-1)
	r.got = append(r.got, got)
	rep := reply{status: http.StatusOK, body: "ok"}
	if i >= 0 {
		rep = r.replies[i]
	}
	r.mu.Unlock()
	select {
	case r.arrived <- got:
	default:
	}
	if rep.hang {
		select {
		case <-req.Context().Done():
		case <-r.release:
		}
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.got...)
}

// Replies that behave like the real services.
var (
	slackOK         = reply{status: 200, body: "ok"}
	slackInvalid    = reply{status: 400, body: "invalid_payload"}
	slackNoChannel  = reply{status: 404, body: "channel_not_found"}
	slackRateLimit  = reply{status: 429, body: "rate_limited", header: map[string]string{"Retry-After": "7"}}
	serverError     = reply{status: 500, body: "internal error"}
	hang            = reply{hang: true}
	pdAccepted      = reply{status: 202, body: `{"status":"success","message":"Event processed","dedup_key":"keywatch:search-prod-1:volume-spike:a-42"}`}
	pdInvalid       = reply{status: 400, body: `{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]}`}
	pdThrottled     = reply{status: 429, body: `{"status":"throttle event","message":"Requests for this service are arriving too quickly.  Please retry later."}`}
	amOK            = reply{status: 200, body: ""}
	webhookAccepted = reply{status: 204}
)

var (
	t0      = time.Date(2026, 9, 14, 3, 12, 5, 0, time.UTC)
	clockAt = func() time.Time { return t0.Add(90 * time.Second) }
)

// testAlert is the alert every payload test sends.
func testAlert() *keywatch.Alert {
	return &keywatch.Alert{
		ID:         "a-42",
		Time:       t0,
		DetectedAt: t0.Add(1500 * time.Millisecond),
		KeyID:      "search-prod-1",
		Service:    "search-api",
		Env:        "prod",
		Owner:      "dana@example.com",
		Rule:       "volume-spike",
		Severity:   keywatch.SeverityCritical,
		Title:      "Request volume 12x the key's baseline",
		Summary:    "search-prod-1 made 1,200 requests in a minute against a usual peak of 100 at this hour",
		Evidence: map[string]any{
			"observed_rpm":  1200,
			"baseline_rpm":  100.0,
			"factor":        12.0,
			"country":       "RO",
			"asn":           64500,
			"client_ip":     "203.0.113.9",
			"user_agent":    "<!channel> python-requests/2.32 & co",
			"model":         "gpt-4o",
			"tokens":        int64(4_800_000),
			"empty":         "",
			"window_start":  t0.Add(-time.Minute),
			"input_tokens":  4_000_000,
			"output_tokens": 800_000,
		},
		FirstSeen: t0.Add(-2 * time.Minute),
		Tags:      []string{"atlas:AML.T0040", "atlas:AML.T0034", "owasp:LLM10"},
		Status:    keywatch.AlertOpen,
	}
}

// fakeSleep records the waits between attempts and returns at once.
type fakeSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.waits = append(f.waits, d)
	f.mu.Unlock()
	return ctx.Err()
}

func (f *fakeSleep) get() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}
