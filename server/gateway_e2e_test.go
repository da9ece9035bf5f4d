package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/contain"
	"github.com/keywatch/keywatch/enrich"
	"github.com/keywatch/keywatch/gateway"
	"github.com/keywatch/keywatch/gateway/gatewaytest"
	"github.com/keywatch/keywatch/server"
	"github.com/keywatch/keywatch/store"
)

const gatewayPolicy = `
version: 1
rules:
  - name: spike
    match: {rules: [volume-spike], severity_at_least: high}
    actions: [{kind: clamp, mode: auto, target: gateway}]
  - name: leaked
    match: {rules: [ip-fanout], severity_at_least: critical}
    actions: [{kind: disable, mode: auto, target: gateway}]
  - name: rest
    actions: [{kind: notify}]
`

// TestGatewayEndToEnd follows the mission's validation checklist: a key
// with three days of normal use is stolen and used through the gateway
// from other addresses; keywatch detects it, the policy clamps and then
// disables the key, and the attacker's requests are refused while another
// key keeps working. MTTD and MTTR (alert to first refused request) are
// reported.
func TestGatewayEndToEnd(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeNetworks(t, dir)
	upstream := gatewaytest.NewUpstream(t)

	st, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "kw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pepper := []byte("0123456789abcdef0123456789abcdef")
	warmEnd := time.Date(2026, 9, 4, 12, 0, 0, 0, time.UTC)
	secrets := map[string]string{}
	for _, id := range []string{"victim", "bystander"} {
		sec, err := gateway.Issue(ctx, st, pepper, keywatch.Key{ID: id, Service: "chat", Env: "prod", Owner: id + "@example.com"},
			warmEnd.Add(-96*time.Hour), keywatch.Change{Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		secrets[id] = sec
	}
	gwCfg, err := gateway.ParseConfig([]byte(fmt.Sprintf(`version: 1
trusted_proxies: [127.0.0.1/32]
upstreams:
  - {name: openai, provider: openai, base_url: %q, api_key_env: UP_KEY, default: true}
`, upstream.URL+"/v1")))
	if err != nil {
		t.Fatal(err)
	}
	policy, err := contain.ParsePolicy([]byte(gatewayPolicy))
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.GeoIP, cfg.ASN = filepath.Join(dir, "geo.mmdb"), filepath.Join(dir, "asn.mmdb")
	cfg.Gateway = &gwCfg
	cfg.Containment.Policy = policy
	cfg.Detection.IPFanout.MinAddresses = 50 // so that the volume spike (clamp) comes first
	// Event time: the warm-up history ends at warmEnd; from then on the
	// clock runs at wall speed, so MTTR in it is real.
	wallStart := time.Now()
	now := func() time.Time { return warmEnd.Add(time.Since(wallStart)) }
	env := map[string]string{"UP_KEY": gatewaytest.OpenAIKey}
	srv, err := server.New(ctx, cfg, server.Options{Store: st, Pepper: pepper, Now: now, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	hs, admin := running(t, srv, st, "e2e")

	// Three days of normal use of both keys from the service's address.
	var hist strings.Builder
	n := 0
	for ts := warmEnd.Add(-72 * time.Hour); ts.Before(warmEnd.Add(-time.Minute)); ts = ts.Add(time.Minute) {
		for _, id := range []string{"victim", "bystander"} {
			fmt.Fprintf(&hist, `{"time":%q,"key_id":%q,"client_ip":"203.0.113.10","model":"gpt-4o-mini","operation":"chat","input_tokens":11,"output_tokens":7,"status":200}`+"\n", ts.Format(time.RFC3339), id)
			n++
		}
	}
	req, _ := http.NewRequest("POST", hs.URL+"/v1/events", strings.NewReader(hist.String()))
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("history: %v %v", err, resp)
	}
	resp.Body.Close()
	in := &instance{url: hs.URL, tokens: map[keywatch.Role]string{keywatch.RoleViewer: admin}}
	waitFor(t, "history to be processed", func() bool { return in.processed(t) >= int64(n) })

	call := func(key, from string) int {
		req, _ := http.NewRequest("POST", hs.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+secrets[key])
		req.Header.Set("X-Forwarded-For", from)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := call("bystander", "203.0.113.10"); code != 200 {
		t.Fatalf("normal request: %d", code)
	}

	// The stolen key, as fast as it goes: from a few addresses abroad
	// until it is clamped, then from a hundred. (From a hundred at once,
	// both alerts can come out of one detection batch, and then the
	// disable follows the clamp before any request sees the clamp.)
	attackStart := now()
	var firstRefused, firstClamped time.Time
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		addrs := 100
		if firstClamped.IsZero() {
			addrs = 5
		}
		code := call("victim", fmt.Sprintf("88.198.1.%d", 1+i%addrs))
		if code == http.StatusTooManyRequests && firstClamped.IsZero() {
			firstClamped = now()
		}
		if code == http.StatusForbidden || code == http.StatusUnauthorized {
			firstRefused = now()
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if firstRefused.IsZero() {
		t.Fatal("the stolen key was never refused")
	}
	for i := 0; i < 5; i++ {
		if code := call("victim", "88.198.1.200"); code != http.StatusForbidden && code != http.StatusUnauthorized {
			t.Errorf("attacker request after containment: %d", code)
		}
	}
	if code := call("bystander", "203.0.113.10"); code != 200 {
		t.Errorf("another key after containment: %d, want 200", code)
	}
	alerts, err := st.Alerts(ctx, keywatch.AlertFilter{KeyID: "victim"})
	if err != nil {
		t.Fatal(err)
	}
	var spike, fanout *keywatch.Alert
	for _, a := range alerts {
		switch a.Rule {
		case "volume-spike":
			spike = a
		case "ip-fanout":
			fanout = a
		}
	}
	if spike == nil || fanout == nil {
		t.Fatalf("alerts on the victim: %v", alertRules(alerts))
	}
	if k, _ := st.Key(ctx, "victim"); k.Status != keywatch.KeyDisabled {
		t.Errorf("victim status %q, want disabled", k.Status)
	}
	if k, _ := st.Key(ctx, "bystander"); k.Status == keywatch.KeyDisabled || k.Status == keywatch.KeyClamped {
		t.Errorf("bystander status %q", k.Status)
	}
	if firstClamped.IsZero() || firstClamped.After(firstRefused) {
		t.Errorf("the key was not clamped (429) before it was disabled")
	}
	t.Logf("MTTD %v (clamp, volume-spike) and %v (disable, ip-fanout) after the attack began; MTTR %v from the ip-fanout alert to the first refused request",
		spike.Time.Sub(attackStart).Round(time.Millisecond), fanout.Time.Sub(attackStart).Round(time.Millisecond), firstRefused.Sub(fanout.DetectedAt).Round(time.Millisecond))
}

func alertRules(as []*keywatch.Alert) []string {
	var r []string
	for _, a := range as {
		r = append(r, a.Rule)
	}
	return r
}

// writeNetworks writes GeoIP and ASN databases: the service in the US on
// AS64500, the attacker's VPS range in Germany on AS24940.
func writeNetworks(t *testing.T, dir string) {
	t.Helper()
	nets := []enrich.Network{
		{Prefix: netip.MustParsePrefix("203.0.113.0/24"), Country: "US", ASN: 64500, Org: "EXAMPLE-CLOUD"},
		{Prefix: netip.MustParsePrefix("88.198.0.0/16"), Country: "DE", ASN: 24940, Org: "HETZNER"},
	}
	for name, write := range map[string]func(f *os.File) error{
		"geo.mmdb": func(f *os.File) error { return enrich.WriteCountryDB(f, nets, 0) },
		"asn.mmdb": func(f *os.File) error { return enrich.WriteASNDB(f, nets, 0) },
	} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := write(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}
