package contain

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/keywatch/keywatch"
)

// Webhook headers. The signature is "sha256=" and the hex HMAC-SHA256,
// under the shared secret, of the timestamp header's value, a dot and the
// body: receivers recompute it, compare in constant time and refuse old
// timestamps to stop replays. The idempotency key is the same for every
// delivery of one action, so receivers can drop repeats.
const (
	HeaderSignature   = "X-Keywatch-Signature"
	HeaderTimestamp   = "X-Keywatch-Timestamp"
	HeaderIdempotency = "X-Keywatch-Idempotency-Key"
)

// WebhookRequest is the JSON body a Webhook posts. It holds no secret.
type WebhookRequest struct {
	Action        Kind      `json:"action"` // notify, clamp, disable, rotate, enable
	Revert        bool      `json:"revert"` // true: undo Action
	KeyID         string    `json:"key_id"` // inventory id
	Provider      string    `json:"provider,omitempty"`
	ProviderKeyID string    `json:"provider_key_id,omitempty"`
	Service       string    `json:"service,omitempty"`
	Env           string    `json:"env,omitempty"`
	Limits        *Limits   `json:"limits,omitempty"` // for clamp
	AlertID       string    `json:"alert_id"`
	Rule          string    `json:"rule"`
	Actor         string    `json:"actor"`
	Time          time.Time `json:"time"`
}

// Webhook posts signed action requests to a URL: a generic actuator for
// systems keywatch has no adapter for (an internal gateway, a secrets
// manager, a SOAR). Any 2xx is success; 429 and 5xx are retried with
// backoff. The URL and the secret never appear in errors (webhook URLs are
// often credentials themselves); Name stands for the URL.
//
// Webhook supports every kind, and Revert, since the receiver decides what
// they mean; it is as idempotent as the receiver, helped by the
// idempotency key header.
type Webhook struct {
	Name   string // shown in errors and details instead of the URL
	URL    string
	Secret []byte
	// Client defaults to http.DefaultClient; MaxRetries to 3 (negative:
	// none).
	Client     *http.Client
	MaxRetries int
	// Now and Sleep default to the wall clock and a timer; tests replace
	// them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Apply posts a's request for k.
func (w *Webhook) Apply(ctx context.Context, a Action, k *keywatch.StoredKey) (Result, error) {
	return w.post(ctx, a, k, false)
}

// Revert posts a's request for k with revert set.
func (w *Webhook) Revert(ctx context.Context, a Action, k *keywatch.StoredKey) (Result, error) {
	return w.post(ctx, a, k, true)
}

// Sign returns the signature header value of body sent at timestamp ts
// (Unix seconds, as sent in HeaderTimestamp).
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a signature header value in constant time.
func VerifySignature(secret []byte, ts string, body []byte, sig string) bool {
	return hmac.Equal([]byte(Sign(secret, ts, body)), []byte(sig))
}

func (w *Webhook) post(ctx context.Context, a Action, k *keywatch.StoredKey, revert bool) (Result, error) {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	req := WebhookRequest{
		Action: a.Kind, Revert: revert, KeyID: k.ID, Provider: k.Provider, ProviderKeyID: k.ProviderKeyID,
		Service: k.Service, Env: k.Env, AlertID: a.Alert, Rule: a.Rule, Actor: a.Actor, Time: now().UTC(),
	}
	if a.Kind == KindClamp {
		req.Limits = &a.Limits
	}
	body, err := json.Marshal(req)
	if err != nil {
		return Result{}, fmt.Errorf("webhook %s: encode: %w", w.Name, err)
	}
	idem := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s\x00%t", a.Alert, k.ID, a.Kind, revert)))
	retries := w.MaxRetries
	if retries == 0 {
		retries = 3
	}
	var last error
	for attempt := 0; ; attempt++ {
		status, err := w.once(ctx, body, now, hex.EncodeToString(idem[:16]))
		switch {
		case err == nil && status >= 200 && status < 300:
			return Result{Changed: true, Detail: fmt.Sprintf("webhook %s: HTTP %d", w.Name, status)}, nil
		case err != nil:
			if ctx.Err() != nil {
				return Result{}, fmt.Errorf("webhook %s: %w", w.Name, ctx.Err())
			}
			// Transport errors name the URL; keep only that it failed.
			last = keywatch.Errorf(keywatch.EINTERNAL, "webhook %s: request failed", w.Name)
		case status == http.StatusTooManyRequests || status >= 500:
			last = keywatch.Errorf(keywatch.EINTERNAL, "webhook %s: HTTP %d", w.Name, status)
		default:
			return Result{}, keywatch.Errorf(keywatch.EINVALID, "webhook %s: HTTP %d", w.Name, status)
		}
		if retries < 0 || attempt >= retries {
			return Result{}, last
		}
		if err := w.sleep(ctx, time.Duration(500<<attempt)*time.Millisecond); err != nil {
			return Result{}, fmt.Errorf("webhook %s: %w", w.Name, err)
		}
	}
}

func (w *Webhook) once(ctx context.Context, body []byte, now func() time.Time, idem string) (int, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "keywatch")
	r.Header.Set(HeaderTimestamp, ts)
	r.Header.Set(HeaderSignature, Sign(w.Secret, ts, body))
	r.Header.Set(HeaderIdempotency, idem)
	c := w.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(r)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, nil
}

func (w *Webhook) sleep(ctx context.Context, d time.Duration) error {
	if w.Sleep != nil {
		return w.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
