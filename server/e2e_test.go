package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/alert"
	"github.com/keywatch/keywatch/contain"
	"github.com/keywatch/keywatch/ingest"
	"github.com/keywatch/keywatch/inventory"
	"github.com/keywatch/keywatch/provider/providertest"
	"github.com/keywatch/keywatch/server"
	"github.com/keywatch/keywatch/sim"
	"github.com/keywatch/keywatch/store"
)

// receiver is the key owner's webhook: it verifies signatures and keeps
// the alerts it gets.
type receiver struct {
	mu     sync.Mutex
	alerts []receivedAlert
	bad    int
}

type receivedAlert struct {
	alert keywatch.Alert
	at    time.Time
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	err := alert.Verify("whsec-test", r.Header.Get(alert.SignatureHeader), r.Header.Get(alert.TimestampHeader), body, time.Now(), 5*time.Minute)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var a keywatch.Alert
	if err != nil || json.Unmarshal(body, &a) != nil {
		rc.bad++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.alerts = append(rc.alerts, receivedAlert{a, time.Now()})
}

// find returns the first alert received on key at or after from.
func (rc *receiver) find(key string, from time.Time) *receivedAlert {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for i := range rc.alerts {
		if a := rc.alerts[i].alert; a.KeyID == key && !a.Time.Before(from) {
			return &rc.alerts[i]
		}
	}
	return nil
}

const testPolicy = `
version: 1
rules:
  - name: stolen-key
    match: {rules: [volume-spike, new-country-high-tokens, ip-fanout, expired-key-use], severity_at_least: high}
    actions:
      - {kind: disable, mode: auto, target: litellm}
      - {kind: disable, mode: auto, target: gateway}
  - name: everything-else
    actions:
      - {kind: notify}
`

// TestEndToEnd runs serve on a loopback port, sends it a month of
// simulated traffic, then a stolen-key burst from another network, and
// checks that the owner's webhook gets the alert and the policy disables
// the key at a LiteLLM-like proxy. It reports MTTD and MTTR.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("sends a month of traffic")
	}
	ctx := context.Background()
	dir := t.TempDir()
	simDir := filepath.Join(dir, "sim")
	meta, err := sim.Run(ctx, simDir, sim.Config{Services: 3, Days: 30, Seed: 21})
	if err != nil {
		t.Fatal(err)
	}

	owner := &receiver{}
	hook := httptest.NewServer(owner)
	defer hook.Close()
	litellm := providertest.NewLiteLLM(t)
	const victim = "support-bot-prod-1"
	litellm.AddKey(providertest.LiteLLMKey{Token: "hashed-victim-token", KeyName: "sk-...vict", CreatedAt: "2026-08-01T00:00:00Z"})

	st, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "kw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, err := inventory.Load(filepath.Join(simDir, "inventory.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	stored := make([]keywatch.StoredKey, len(keys))
	found := false
	for i, k := range keys {
		stored[i] = keywatch.StoredKey{Key: k}
		if k.ID == victim {
			found = true
			stored[i].Provider, stored[i].ProviderKeyID = "litellm", "hashed-victim-token"
			stored[i].OnCall = keywatch.OnCall{Webhook: hook.URL}
		}
	}
	if !found {
		t.Fatalf("simulation has no key %s", victim)
	}
	if err := st.PutKeys(ctx, stored, keywatch.Change{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	policy, err := contain.ParsePolicy([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.GeoIP, cfg.ASN = filepath.Join(simDir, "geoip.mmdb"), filepath.Join(simDir, "asn.mmdb")
	cfg.Containment = server.ContainmentConfig{Policy: policy, LiteLLM: litellm.URL}
	env := map[string]string{"LITELLM_MASTER_KEY": litellm.MasterKey, "KEYWATCH_WEBHOOK_SECRET": "whsec-test"}
	srv, err := server.New(ctx, cfg, server.Options{Store: st, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	hs, secret := running(t, srv, st, "e2e")
	post := func(body []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", hs.URL+"/v1/events", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("ingest: %d %s", resp.StatusCode, b)
		}
	}

	// A month of traffic, in batches of 5,000 events.
	f, err := ingest.Open(filepath.Join(simDir, "events.jsonl.gz"), nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var batch bytes.Buffer
	sent := 0
	for sc.Scan() {
		batch.Write(sc.Bytes())
		batch.WriteByte('\n')
		if sent++; sent%5000 == 0 {
			post(batch.Bytes())
			batch.Reset()
		}
	}
	f.Close()
	post(batch.Bytes())
	if int64(sent) != meta.Events {
		t.Fatalf("sent %d events, simulation has %d", sent, meta.Events)
	}

	// The stolen key, used at 40 requests a second from a VPS abroad.
	burstStart := meta.End.Add(-4 * time.Hour).Truncate(time.Minute)
	var burst strings.Builder
	for i := 0; i < 2400; i++ {
		fmt.Fprintf(&burst, `{"time":%q,"key_id":%q,"client_ip":"88.198.12.%d","user_agent":"python-requests/2.32.3","model":"gpt-4o","operation":"chat","input_tokens":3000,"output_tokens":800,"status":200,"request_id":"stolen-%d"}`+"\n",
			burstStart.Add(time.Duration(i)*25*time.Millisecond).Format(time.RFC3339Nano), victim, 10+i%3, i)
	}
	sentAt := time.Now()
	post([]byte(burst.String()))

	var got *receivedAlert
	waitFor(t, "the owner's webhook to get an alert on the stolen key", func() bool {
		got = owner.find(victim, burstStart)
		return got != nil
	})
	var a *keywatch.Alert
	var blockAt time.Time
	waitFor(t, "the policy to block the key at LiteLLM", func() bool {
		blocked := false
		for _, k := range litellm.Keys() {
			blocked = blocked || k.Token == "hashed-victim-token" && k.Blocked != nil && *k.Blocked
		}
		if !blocked {
			return false
		}
		alerts, err := st.Alerts(ctx, keywatch.AlertFilter{KeyID: victim, Since: burstStart})
		if err != nil {
			t.Fatal(err)
		}
		for _, al := range alerts {
			for _, act := range al.Actions {
				if act.Kind == "disable" && act.Target == "litellm" && strings.HasPrefix(act.Detail, "applied") {
					a, blockAt = al, act.Time
				}
			}
		}
		return a != nil
	})
	mttd := a.Time.Sub(burstStart)
	mttr := blockAt.Sub(a.DetectedAt)
	t.Logf("%d events of simulated traffic, then a burst; alert %s (%s): %s", sent, a.Rule, a.Severity, a.Summary)
	t.Logf("MTTD %v (event time); alert stored %v after the burst was sent; owner's webhook after %v; MTTR %v (alert to LiteLLM block)",
		mttd, a.DetectedAt.Sub(sentAt).Round(time.Millisecond), got.at.Sub(sentAt).Round(time.Millisecond), mttr)
	if mttd > time.Minute || mttd < 0 {
		t.Errorf("MTTD %v, want within a minute of the burst", mttd)
	}
	if k, err := st.Key(ctx, victim); err != nil || k.Status != keywatch.KeyDisabled {
		t.Errorf("victim key in the inventory: %+v, %v", k, err)
	}
	if owner.bad > 0 {
		t.Errorf("%d webhook deliveries had a bad signature", owner.bad)
	}
}
