package alert_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/keywatch/keywatch/alert"
)

// TestVerify signs a body and checks it the way a receiver would, then
// tampers with every part.
func TestVerify(t *testing.T) {
	body := []byte(`{"id":"a-42","key_id":"search-prod-1"}`)
	now := time.Unix(1_789_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := alert.Sign(webhookSecret, ts, body)
	tol := 5 * time.Minute
	for _, tc := range []struct {
		name      string
		secret    string
		sig, ts   string
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{"valid", webhookSecret, sig, ts, body, now, tol, nil},
		{"valid a little later", webhookSecret, sig, ts, body, now.Add(4 * time.Minute), tol, nil},
		{"rotation: second signature matches", webhookSecret, alert.Sign("old", ts, body) + ", " + sig, ts, body, now, tol, nil},
		{"tampered body", webhookSecret, sig, ts, []byte(`{"id":"a-42","key_id":"other-key"}`), now, tol, alert.ErrBadSignature},
		{"tampered timestamp", webhookSecret, sig, strconv.FormatInt(now.Unix()+1, 10), body, now, tol, alert.ErrBadSignature},
		{"wrong secret", "guess", sig, ts, body, now, tol, alert.ErrBadSignature},
		{"replayed late", webhookSecret, sig, ts, body, now.Add(10 * time.Minute), tol, alert.ErrStale},
		{"from the future", webhookSecret, sig, ts, body, now.Add(-10 * time.Minute), tol, alert.ErrStale},
		{"no tolerance check", webhookSecret, sig, ts, body, now.Add(24 * time.Hour), 0, nil},
		{"missing signature", webhookSecret, "", ts, body, now, tol, alert.ErrNoSignature},
		{"other scheme", webhookSecret, "v1=" + sig[len("sha256="):], ts, body, now, tol, alert.ErrNoSignature},
		{"not hex", webhookSecret, "sha256=zz", ts, body, now, tol, alert.ErrNoSignature},
		{"missing timestamp", webhookSecret, sig, "", body, now, tol, alert.ErrNoSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := alert.Verify(tc.secret, tc.sig, tc.ts, tc.body, tc.now, tc.tolerance)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestSignFormat pins the signed material: HMAC-SHA256 of "t.body".
func TestSignFormat(t *testing.T) {
	// printf '1700000000.{}' | openssl dgst -sha256 -hmac secret
	got := alert.Sign("secret", "1700000000", []byte("{}"))
	want := "sha256=" + "b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}
