package alert_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/alert"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// checkGolden compares body, indented, with testdata/name.json.
func checkGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// TestPayloads sends the test alert with each notifier and event to a local
// receiver and compares what arrived with the golden files.
func TestPayloads(t *testing.T) {
	link := "https://keywatch.example.com/alerts/a-42"
	for _, tc := range []struct {
		name     string
		notifier alert.Notifier
		kind     alert.Kind
		event    alert.Event
		path     string
		reply    reply
	}{
		{"slack_trigger", &alert.Slack{}, alert.KindSlack, alert.Trigger, slackPath, slackOK},
		{"slack_acknowledge", &alert.Slack{}, alert.KindSlack, alert.Acknowledge, slackPath, slackOK},
		{"slack_resolve", &alert.Slack{}, alert.KindSlack, alert.Resolve, slackPath, slackOK},
		{"pagerduty_trigger", nil, alert.KindPagerDuty, alert.Trigger, "/v2/enqueue", pdAccepted},
		{"pagerduty_acknowledge", nil, alert.KindPagerDuty, alert.Acknowledge, "/v2/enqueue", pdAccepted},
		{"pagerduty_resolve", nil, alert.KindPagerDuty, alert.Resolve, "/v2/enqueue", pdAccepted},
		{"webhook_trigger", &alert.Webhook{Now: clockAt}, alert.KindWebhook, alert.Trigger, webhookPath, webhookAccepted},
		{"alertmanager_trigger", &alert.Alertmanager{Now: clockAt}, alert.KindAlertmanager, alert.Trigger, "/am/api/v2/alerts", amOK},
		{"alertmanager_resolve", &alert.Alertmanager{Now: clockAt}, alert.KindAlertmanager, alert.Resolve, "/am/api/v2/alerts", amOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t, tc.reply)
			d := alert.Destination{Kind: tc.kind}
			switch tc.kind {
			case alert.KindSlack:
				d.URL = rcv.URL + slackPath
			case alert.KindPagerDuty:
				d.Key = routingKey
				tc.notifier = &alert.PagerDuty{BaseURL: rcv.URL + "/"}
			case alert.KindWebhook:
				d.URL, d.Secret = rcv.URL+webhookPath, webhookSecret
			case alert.KindAlertmanager:
				d.URL = rcv.URL + "/am/"
			}
			a := testAlert()
			if tc.event == alert.Resolve {
				a.Status = keywatch.AlertResolved
			}
			n := &alert.Notification{Alert: a, Event: tc.event, Dest: d, Link: link, Created: t0}
			if err := tc.notifier.Notify(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			got := rcv.requests()
			if len(got) != 1 {
				t.Fatalf("receiver got %d requests, want 1", len(got))
			}
			if got[0].path != tc.path {
				t.Errorf("path %q, want %q", got[0].path, tc.path)
			}
			if ct := got[0].header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			checkGolden(t, tc.name, got[0].body)
			if tc.kind == alert.KindWebhook {
				h := got[0].header
				if err := alert.Verify(webhookSecret, h.Get(alert.SignatureHeader), h.Get(alert.TimestampHeader),
					got[0].body, clockAt(), 5*time.Minute); err != nil {
					t.Errorf("receiver cannot verify the delivery: %v", err)
				}
				if e := h.Get(alert.EventHeader); e != "trigger" {
					t.Errorf("%s = %q", alert.EventHeader, e)
				}
			}
		})
	}
}

// TestSlackEscapes checks that text from the alert (which holds what the
// caller of the API sent) cannot mention the channel or inject a link.
func TestSlackEscapes(t *testing.T) {
	rcv := newReceiver(t, slackOK)
	a := testAlert()
	a.Summary = "<!channel> see <https://evil.example|the fix> & more"
	a.Evidence = map[string]any{"user_agent": "<!here>"}
	n := &alert.Notification{Alert: a, Event: alert.Trigger,
		Dest: alert.Destination{Kind: alert.KindSlack, URL: rcv.URL + slackPath}}
	if err := (&alert.Slack{}).Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	var m any
	if err := json.Unmarshal(rcv.requests()[0].body, &m); err != nil {
		t.Fatal(err)
	}
	var texts []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			texts = append(texts, v)
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(m)
	all := strings.Join(texts, "\n")
	for _, bad := range []string{"<!channel>", "<!here>", "<https://evil"} {
		if strings.Contains(all, bad) {
			t.Errorf("unescaped %q in message:\n%s", bad, all)
		}
	}
	for _, good := range []string{"&lt;!channel&gt;", "&lt;!here&gt;", "&amp; more"} {
		if !strings.Contains(all, good) {
			t.Errorf("escaped %q missing from message:\n%s", good, all)
		}
	}
}

// TestReceiverAnswers classifies the answers of each receiver.
func TestReceiverAnswers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		kind       alert.Kind
		reply      reply
		ok         bool
		permanent  bool
		retryAfter time.Duration
		reason     string
	}{
		{"slack ok", alert.KindSlack, slackOK, true, false, 0, ""},
		{"slack invalid_payload", alert.KindSlack, slackInvalid, false, true, 0, "invalid_payload"},
		{"slack channel_not_found", alert.KindSlack, slackNoChannel, false, true, 0, "channel_not_found"},
		{"slack no_text on 200", alert.KindSlack, reply{status: 200, body: "no_text"}, false, true, 0, "no_text"},
		{"slack 429", alert.KindSlack, slackRateLimit, false, false, 7 * time.Second, "rate_limited"},
		{"slack 500", alert.KindSlack, serverError, false, false, 0, "internal error"},
		{"pagerduty 202", alert.KindPagerDuty, pdAccepted, true, false, 0, ""},
		{"pagerduty 400", alert.KindPagerDuty, pdInvalid, false, true, 0, "Event object is invalid: Length of 'routing_key'"},
		{"pagerduty 429", alert.KindPagerDuty, pdThrottled, false, false, 0, "arriving too quickly"},
		{"pagerduty 502", alert.KindPagerDuty, reply{status: 502, body: "bad gateway"}, false, false, 0, "bad gateway"},
		{"webhook 204", alert.KindWebhook, webhookAccepted, true, false, 0, ""},
		{"webhook 408", alert.KindWebhook, reply{status: 408}, false, false, 0, ""},
		{"webhook 410", alert.KindWebhook, reply{status: 410, body: "gone"}, false, true, 0, "gone"},
		{"webhook 503 retry date", alert.KindWebhook, reply{status: 503, header: map[string]string{"Retry-After": "Mon, 14 Sep 2026 03:20:00 GMT"}}, false, false, 0, ""},
		{"alertmanager 200", alert.KindAlertmanager, amOK, true, false, 0, ""},
		{"alertmanager 400", alert.KindAlertmanager, reply{status: 400, body: `{"code":400,"message":"start time must be before end time"}`}, false, true, 0, "start time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t, tc.reply)
			n, notifier := notification(rcv, tc.kind)
			err := notifier.Notify(context.Background(), n)
			if tc.ok {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			var de *alert.DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want a *DeliveryError", err)
			}
			if de.Permanent != tc.permanent || alert.IsPermanent(err) != tc.permanent {
				t.Errorf("permanent = %v, want %v (%v)", de.Permanent, tc.permanent, err)
			}
			if de.RetryAfter != tc.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", de.RetryAfter, tc.retryAfter)
			}
			if tc.name == "webhook 503 retry date" && !de.RetryAt.Equal(time.Date(2026, 9, 14, 3, 20, 0, 0, time.UTC)) {
				t.Errorf("RetryAt = %v", de.RetryAt)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q lacks %q", err, tc.reason)
			}
			assertNoSecret(t, err.Error())
		})
	}
}

// notification returns a notification of the test alert for rcv, and the
// notifier of kind.
func notification(rcv *receiver, kind alert.Kind) (*alert.Notification, alert.Notifier) {
	d := alert.Destination{Kind: kind}
	var notifier alert.Notifier
	switch kind {
	case alert.KindSlack:
		d.URL, notifier = rcv.URL+slackPath, &alert.Slack{}
	case alert.KindPagerDuty:
		d.Key, notifier = routingKey, &alert.PagerDuty{BaseURL: rcv.URL}
	case alert.KindWebhook:
		d.URL, d.Secret, notifier = rcv.URL+webhookPath, webhookSecret, &alert.Webhook{}
	case alert.KindAlertmanager:
		d.URL, notifier = rcv.URL, &alert.Alertmanager{}
	}
	return &alert.Notification{Alert: testAlert(), Event: alert.Trigger, Dest: d}, notifier
}

func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			t.Errorf("secret %q appears in %q", sec, s)
		}
	}
}

// TestDedupKey checks that trigger, acknowledge and resolve of one alert
// carry one dedup key, and that long keys stay within PagerDuty's limit.
func TestDedupKey(t *testing.T) {
	rcv := newReceiver(t, pdAccepted)
	p := &alert.PagerDuty{BaseURL: rcv.URL}
	for _, ev := range []alert.Event{alert.Trigger, alert.Acknowledge, alert.Resolve} {
		n := &alert.Notification{Alert: testAlert(), Event: ev, Dest: alert.Destination{Kind: alert.KindPagerDuty, Key: routingKey}}
		if err := p.Notify(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	for _, r := range rcv.requests() {
		var e struct {
			DedupKey    string `json:"dedup_key"`
			EventAction string `json:"event_action"`
		}
		if err := json.Unmarshal(r.body, &e); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, e.EventAction+" "+e.DedupKey)
	}
	want := []string{
		"trigger keywatch:search-prod-1:volume-spike:a-42",
		"acknowledge keywatch:search-prod-1:volume-spike:a-42",
		"resolve keywatch:search-prod-1:volume-spike:a-42",
	}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("dedup keys (-want +got):\n%s", diff)
	}

	long := testAlert()
	long.KeyID = strings.Repeat("k", 300)
	k1, k2 := alert.DedupKey(long), alert.DedupKey(long)
	if k1 != k2 || len(k1) > 255 || !strings.HasPrefix(k1, "keywatch:sha256:") {
		t.Errorf("long dedup key %q (%d chars), again %q", k1, len(k1), k2)
	}
}

// TestTransportErrorHidesURL checks that a receiver that cannot be reached
// gives a retryable error without the URL's secret path.
func TestTransportErrorHidesURL(t *testing.T) {
	rcv := newReceiver(t)
	rcv.Close() // nothing listens any more
	for _, kind := range []alert.Kind{alert.KindSlack, alert.KindPagerDuty, alert.KindWebhook, alert.KindAlertmanager} {
		n, notifier := notification(rcv, kind)
		err := notifier.Notify(context.Background(), n)
		if err == nil || alert.IsPermanent(err) {
			t.Fatalf("%s: got %v, want a retryable error", kind, err)
		}
		assertNoSecret(t, err.Error())
		for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
			assertNoSecret(t, u.Error())
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/xyz":   "https://hooks.slack.com/…",
		"https://user:pass@example.com/hook?token=abc": "https://example.com/…",
		"not a url":                    "…",
		"":                             "…",
		"http://127.0.0.1:9093":        "http://127.0.0.1:9093/…",
		"https://bad host/with spaces": "…",
	} {
		if got := alert.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	d := alert.Destination{Kind: alert.KindPagerDuty, Key: routingKey}
	if got := d.String(); got != "pagerduty …ey00" {
		t.Errorf("String() = %q", got)
	}
}
