// Package alert delivers keywatch alerts to the people who own the key: the
// key's on-call from the inventory, else its service's route, else a default
// route. One Notifier per technology speaks each receiver's protocol (Slack
// incoming webhooks, PagerDuty Events API v2, a signed generic webhook,
// Alertmanager's API v2); the Router resolves routes and delivers
// asynchronously, with one bounded queue and one worker per destination so
// that a receiver that is down delays nothing else, retrying with backoff
// and reporting every outcome through one callback.
//
// Destinations are secrets: a Slack webhook URL, a PagerDuty routing key and
// a webhook signing secret each let whoever holds them post alerts. They
// never appear in an error, a log line or a Result's Destination; Redact
// gives the form that may be shown (scheme://host/…).
package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keywatch/keywatch"
)

// Notifier sends one notification to one destination. Notify makes exactly
// one attempt; retrying is the Router's job. Errors are *DeliveryError
// values that say whether a retry may succeed, and never hold the
// destination's secret. Implementations are safe for concurrent use.
type Notifier interface {
	Notify(ctx context.Context, n *Notification) error
}

// Event is what a notification says about its alert.
type Event string

// Events, in the order an incident usually goes through them.
const (
	Trigger     Event = "trigger"     // the alert fired
	Acknowledge Event = "acknowledge" // someone is on it
	Resolve     Event = "resolve"     // it is over (resolved, false positive or contained)
)

func (e Event) valid() bool { return e == Trigger || e == Acknowledge || e == Resolve }

// Kind names a destination's technology, and so its Notifier.
type Kind string

// Destination kinds.
const (
	KindSlack        Kind = "slack"
	KindPagerDuty    Kind = "pagerduty"
	KindWebhook      Kind = "webhook"
	KindAlertmanager Kind = "alertmanager"
)

// Destination is where one notification goes. Which fields matter depends
// on Kind: URL for Slack (the incoming webhook URL), webhooks (with Secret,
// the HMAC signing secret) and Alertmanager (the base URL); Key for
// PagerDuty (the integration's routing key). URL, Key and Secret are
// credentials: show String, never the fields.
type Destination struct {
	Kind   Kind
	URL    string
	Key    string
	Secret string
}

// String returns the destination with its secrets removed, e.g.
// "slack https://hooks.slack.com/…" or "pagerduty …a1b2" (the last four
// characters of the routing key, as keywatch shows keys).
func (d Destination) String() string {
	if d.Kind == KindPagerDuty {
		return string(d.Kind) + " " + last4(d.Key)
	}
	return string(d.Kind) + " " + Redact(d.URL)
}

// secrets returns the strings that must never appear in an error.
func (d Destination) secrets() []string {
	var s []string
	for _, v := range []string{d.URL, d.Key, d.Secret} {
		if v != "" {
			s = append(s, v)
		}
	}
	if u, err := url.Parse(d.URL); err == nil && len(u.Path) > 1 {
		s = append(s, u.Path, strings.TrimPrefix(u.Path, "/"))
	}
	return s
}

func last4(s string) string {
	if len(s) <= 8 {
		return "…"
	}
	return "…" + s[len(s)-4:]
}

// Redact returns rawURL as scheme://host/… : enough to tell receivers
// apart, without the path, query or user information that carry the
// secret. A URL that does not parse becomes "…".
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "…"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// Notification is one message about one alert for one destination.
type Notification struct {
	Alert *keywatch.Alert
	Event Event
	Dest  Destination
	// Link is the alert's page in keywatch's dashboard; empty when no
	// external URL is configured. Notifiers add it as a button or link.
	Link string
	// Created is when the notification was queued; the Router measures
	// latency and maximum age from it.
	Created time.Time
}

// DeliveryError is why one attempt failed. Its message names the
// destination in redacted form only.
type DeliveryError struct {
	Dest   string // redacted destination
	Status int    // HTTP status; 0 when no answer came
	// Reason is the receiver's own word (Slack's "invalid_payload",
	// PagerDuty's message), capped and scrubbed of secrets.
	Reason string
	// Permanent reports that retrying cannot succeed: a 4xx other than 408
	// and 429, or a notification that cannot be encoded or is misconfigured.
	Permanent bool
	// RetryAfter is how long the receiver asked to wait (Retry-After in
	// seconds); RetryAt is the same asked as an HTTP date. Zero when not
	// asked.
	RetryAfter time.Duration
	RetryAt    time.Time
	Err        error // cause (transport error); never holds a secret
}

func (e *DeliveryError) Error() string {
	var b strings.Builder
	b.WriteString("notify ")
	b.WriteString(e.Dest)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// IsPermanent reports whether err says that retrying cannot help.
func IsPermanent(err error) bool {
	var de *DeliveryError
	return errors.As(err, &de) && de.Permanent
}

// permanent returns a permanent DeliveryError for a notification that is
// wrong before anything is sent.
func permanent(d Destination, format string, args ...any) error {
	return &DeliveryError{Dest: d.String(), Permanent: true, Reason: fmt.Sprintf(format, args...)}
}

// maxBody caps how much of a receiver's answer is read.
const maxBody = 64 << 10

// maxReason caps the receiver text kept in an error.
const maxReason = 256

// response is a receiver's answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// post sends body to rawURL and reads the answer. Transport failures come
// back as retryable *DeliveryError values stripped of the URL (the
// *url.Error that net/http returns quotes it in full).
func post(ctx context.Context, c *http.Client, d Destination, rawURL string, body []byte, hdr http.Header) (*response, error) {
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, permanent(d, "bad destination URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "keywatch")
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &DeliveryError{Dest: d.String(), Err: scrubErr(err, d)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, &DeliveryError{Dest: d.String(), Status: resp.StatusCode, Err: scrubErr(err, d)}
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// check classifies an answer: nil for a 2xx, else a DeliveryError that is
// retryable for 408, 429 and 5xx (with any Retry-After) and permanent
// otherwise.
func check(d Destination, r *response, reason string) error {
	if r.status >= 200 && r.status < 300 {
		return nil
	}
	e := &DeliveryError{Dest: d.String(), Status: r.status, Reason: scrub(reason, d)}
	switch {
	case r.status == http.StatusRequestTimeout || r.status == http.StatusTooManyRequests || r.status >= 500:
		e.RetryAfter, e.RetryAt = parseRetryAfter(r.header.Get("Retry-After"))
	default:
		e.Permanent = true
	}
	return e
}

// parseRetryAfter reads Retry-After as seconds or as an HTTP date.
func parseRetryAfter(v string) (time.Duration, time.Time) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, time.Time{}
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, time.Time{}
	}
	if t, err := http.ParseTime(v); err == nil {
		return 0, t
	}
	return 0, time.Time{}
}

// bodyReason returns a receiver's answer as a short printable reason.
func bodyReason(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > maxReason {
		s = s[:maxReason] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, s)
}

// scrub removes d's secrets from s: receivers may echo what they were
// sent.
func scrub(s string, d Destination) string {
	for _, sec := range d.secrets() {
		s = strings.ReplaceAll(s, sec, "[redacted]")
	}
	return s
}

// scrubErr returns err, or an error with err's message scrubbed when it
// quotes a secret (the original is then dropped from the chain, since
// unwrapping it would reveal the secret).
func scrubErr(err error, d Destination) error {
	msg := err.Error()
	if s := scrub(msg, d); s != msg {
		return errors.New(s)
	}
	return err
}
