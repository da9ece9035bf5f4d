package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/gateway"
)

// TestRotate rotates a key past its age with a fake clock: the owner gets
// the successor, both secrets work during the grace, the old one is
// refused after it.
func TestRotate(t *testing.T) {
	h := newHarness(t, keywatch.Key{ID: "old-key", Owner: "dana@example.com"})
	_, srv := h.gateway(nil) // grace 24h by default
	ctx := context.Background()
	var notified map[string]string = map[string]string{}
	r := &gateway.Rotator{Pepper: pepper, MaxAge: 90 * 24 * time.Hour, Grace: 24 * time.Hour,
		Notify: func(_ context.Context, k *keywatch.StoredKey, sec string, _ time.Time) error {
			notified[k.Owner] = sec
			return nil
		}}
	if got, err := r.Rotate(ctx, h.store, h.clock.Now()); err != nil || len(got) != 0 {
		t.Fatalf("young key rotated: %v %v", got, err)
	}
	h.clock.Add(91 * 24 * time.Hour)
	got, err := r.Rotate(ctx, h.store, h.clock.Now())
	if err != nil || len(got) != 1 || got[0].KeyID != "old-key" {
		t.Fatalf("rotate: %v %v", got, err)
	}
	newSec := notified["dana@example.com"]
	if newSec == "" || newSec == h.keys["old-key"] {
		t.Fatal("owner not notified of a new secret")
	}
	for name, sec := range map[string]string{"old": h.keys["old-key"], "new": newSec} {
		if status, _, body := do(t, srv, "POST", "/v1/chat/completions", sec, chatBody); status != 200 {
			t.Errorf("%s secret during grace: %d %s", name, status, body)
		}
	}
	h.clock.Add(24 * time.Hour)
	if status, _, _ := do(t, srv, "POST", "/v1/chat/completions", h.keys["old-key"], chatBody); status != 401 {
		t.Errorf("old secret after grace: %d, want 401", status)
	}
	if status, _, _ := do(t, srv, "POST", "/v1/chat/completions", newSec, chatBody); status != 200 {
		t.Errorf("new secret after grace: %d", status)
	}
	if got, _ := r.Rotate(ctx, h.store, h.clock.Now()); len(got) != 0 {
		t.Errorf("rotated again right after: %v", got)
	}
}

func TestParseConfig(t *testing.T) {
	good := "version: 1\nupstreams:\n  - {name: openai, api_key_env: OPENAI_API_KEY, default: true}\n  - {provider: anthropic, api_key_env: ANTHROPIC_API_KEY, models: [claude-]}\n"
	c, err := gateway.ParseConfig([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Upstreams[1].BaseURL != "https://api.anthropic.com/v1" || c.Upstreams[1].Name != "anthropic" || c.Token.TTL != 15*time.Minute {
		t.Errorf("defaults not filled: %+v", c)
	}
	for name, bad := range map[string]string{
		"unknown field": good + "colour: blue\n",
		"no upstreams":  "version: 1\n",
		"no key env":    "version: 1\nupstreams: [{name: x}]\n",
		"bad provider":  "version: 1\nupstreams: [{provider: bard, api_key_env: X, base_url: https://x}]\n",
		"bad version":   "version: 2\nupstreams: [{api_key_env: X}]\n",
		"oidc partial":  good + "token: {oidc: {issuer: https://i}}\n",
	} {
		if _, err := gateway.ParseConfig([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
