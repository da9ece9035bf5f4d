package alert

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook headers. The body is the alert as JSON, in the alert schema of
// DESIGN.md (the object replay writes and the HTTP API returns).
//
// The signature follows Stripe's scheme so that receivers can reuse what
// they know: SignatureHeader holds "sha256=" and the hex HMAC-SHA256, under
// the shared secret, of the timestamp, a dot and the raw body ("t.body"),
// where the timestamp is TimestampHeader's value, in Unix seconds. Signing
// the timestamp lets a receiver refuse replays older than a tolerance (see
// Verify). Several comma-separated "sha256=" values may appear while a
// secret is being rotated; any one that verifies is enough.
//
// EventHeader says trigger, acknowledge or resolve; it is not signed, and
// the signed body's status field carries the same news.
const (
	SignatureHeader = "X-Keywatch-Signature"
	TimestampHeader = "X-Keywatch-Timestamp"
	EventHeader     = "X-Keywatch-Event"
)

// Webhook posts alerts, signed, to a generic HTTPS receiver. Any 2xx is
// success; 408, 429 (honouring Retry-After) and 5xx are retryable, other
// answers permanent. A destination without a secret is a permanent error:
// keywatch does not send unsigned alerts.
type Webhook struct {
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
	// Now is the clock the timestamp is read from; nil means time.Now.
	Now func() time.Time
}

// Notify posts n's alert to n.Dest.URL, signed with n.Dest.Secret.
func (w *Webhook) Notify(ctx context.Context, n *Notification) error {
	if n.Dest.URL == "" {
		return permanent(n.Dest, "no webhook URL")
	}
	if n.Dest.Secret == "" {
		return permanent(n.Dest, "no signing secret configured")
	}
	body, err := json.Marshal(n.Alert)
	if err != nil {
		return permanent(n.Dest, "encode alert: %v", err)
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	hdr := http.Header{}
	hdr.Set(SignatureHeader, Sign(n.Dest.Secret, ts, body))
	hdr.Set(TimestampHeader, ts)
	hdr.Set(EventHeader, string(n.Event))
	r, err := post(ctx, w.Client, n.Dest, n.Dest.URL, body, hdr)
	if err != nil {
		return err
	}
	return check(n.Dest, r, bodyReason(r.body))
}

// Sign returns the signature header value for body sent at timestamp (Unix
// seconds, as sent in TimestampHeader): "sha256=" and the hex HMAC-SHA256
// of timestamp + "." + body under secret.
func Sign(secret, timestamp string, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Errors Verify returns.
var (
	ErrNoSignature  = errors.New("webhook signature missing or malformed")
	ErrBadSignature = errors.New("webhook signature does not match")
	ErrStale        = errors.New("webhook timestamp outside tolerance")
)

// Verify checks a webhook delivery as a receiver got it: signature and
// timestamp are the values of SignatureHeader and TimestampHeader, body the
// raw body, now the receiver's clock. It returns nil when one signature
// matches (compared in constant time) and the timestamp is within
// tolerance of now in either direction; tolerance <= 0 skips the time
// check, which leaves receivers open to replays. Receivers should also
// drop alert ids and events they have already handled.
func Verify(secret, signature, timestamp string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrNoSignature
	}
	want := mac(secret, timestamp, body)
	found := false
	for _, s := range strings.Split(signature, ",") {
		h, ok := strings.CutPrefix(strings.TrimSpace(s), "sha256=")
		if !ok {
			continue
		}
		got, err := hex.DecodeString(h)
		if err != nil {
			continue
		}
		found = true
		if hmac.Equal(got, want) {
			if tolerance > 0 {
				if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
					return ErrStale
				}
			}
			return nil
		}
	}
	if !found {
		return ErrNoSignature
	}
	return ErrBadSignature
}
