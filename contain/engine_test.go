package contain_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/contain"
	"github.com/keywatch/keywatch/provider"
	"github.com/keywatch/keywatch/provider/providertest"
	"github.com/keywatch/keywatch/store"
)

var detected = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is one store, the three fake providers, a webhook receiver and an
// Engine wired to all of them.
type env struct {
	ctx       context.Context
	st        keywatch.Store
	lite      *providertest.LiteLLMServer
	oai       *providertest.OpenAIServer
	ant       *providertest.AnthropicServer
	hook      *hookServer
	eng       *contain.Engine
	effects   []contain.Effect
	now       time.Time
	actuators map[contain.Target]contain.Actuator
}

type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []contain.WebhookRequest
	fail   int // answer 503 to this many requests first
}

const hookSecret = "whsec-test"

func newHook(t *testing.T) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.fail > 0 {
			h.fail--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if !contain.VerifySignature([]byte(hookSecret), r.Header.Get(contain.HeaderTimestamp), b, r.Header.Get(contain.HeaderSignature)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var req contain.WebhookRequest
		if json.Unmarshal(b, &req) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.bodies = append(h.bodies, req)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) requests() []contain.WebhookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]contain.WebhookRequest(nil), h.bodies...)
}

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func newEnv(t *testing.T, policy *contain.Policy) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+t.TempDir()+"/kw.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{ctx: ctx, st: st, lite: providertest.NewLiteLLM(t), oai: providertest.NewOpenAI(t), ant: providertest.NewAnthropic(t), hook: newHook(t)}
	e.now = detected.Add(3 * time.Second)
	opts := []provider.Option{provider.WithSleep(noSleep), provider.WithJitter(func() float64 { return 0 })}
	e.lite.AddKey(providertest.LiteLLMKey{Token: "tok1", KeyName: "sk-...aaaa", CreatedAt: "2026-01-01T00:00:00Z"})
	e.oai.AddProject(providertest.OpenAIProject{ID: "proj_a", CreatedAt: 1})
	e.oai.AddKey("proj_a", providertest.OpenAIKey{ID: "key_1", CreatedAt: 1})
	e.ant.AddKey(providertest.AnthropicKey{ID: "apikey_1", CreatedAt: "2024-01-01T00:00:00Z"})
	keys := []keywatch.StoredKey{
		{Key: keywatch.Key{ID: "litellm:tok1", Provider: "litellm", Env: "prod", Service: "search", Status: keywatch.KeyActive}, ProviderKeyID: "tok1"},
		{Key: keywatch.Key{ID: "openai:key_1", Provider: "openai", Env: "prod", Status: keywatch.KeyActive, Labels: map[string]string{"project_id": "proj_a"}}, ProviderKeyID: "key_1"},
		{Key: keywatch.Key{ID: "anthropic:apikey_1", Provider: "anthropic", Env: "prod", Status: keywatch.KeyActive, Quotas: keywatch.Quotas{RPM: 500}}, ProviderKeyID: "apikey_1"},
	}
	if err := st.PutKeys(ctx, keys, keywatch.Change{Actor: "test", Reason: "seed"}); err != nil {
		t.Fatal(err)
	}
	e.actuators = map[contain.Target]contain.Actuator{
		contain.TargetGateway:   &contain.KeyStatusActuator{Store: st},
		contain.TargetLiteLLM:   &contain.LiteLLM{Client: provider.NewLiteLLM(e.lite.URL, e.lite.MasterKey, opts...)},
		contain.TargetOpenAI:    &contain.OpenAI{Client: provider.NewOpenAI(e.oai.URL, e.oai.AdminKey, opts...)},
		contain.TargetAnthropic: &contain.Anthropic{Client: provider.NewAnthropic(e.ant.URL, e.ant.AdminKey, opts...)},
		contain.TargetWebhook:   &contain.Webhook{Name: "soar", URL: e.hook.URL, Secret: []byte(hookSecret), Sleep: noSleep, Now: func() time.Time { return e.now }},
	}
	e.eng = contain.NewEngine(st, contain.Options{
		Policy:      policy,
		Actuators:   e.actuators,
		Now:         func() time.Time { return e.now },
		OnEffective: func(f contain.Effect) { e.effects = append(e.effects, f) },
	})
	return e
}

func (e *env) alert(t *testing.T, id, rule string, sev keywatch.Severity, keyID string, evidence map[string]any) *keywatch.Alert {
	t.Helper()
	a := &keywatch.Alert{ID: id, Time: detected, DetectedAt: detected, KeyID: keyID, Env: "prod", Rule: rule, Severity: sev,
		Title: "t", Summary: "s", Evidence: evidence, FirstSeen: detected, Status: keywatch.AlertOpen}
	if err := e.st.PutAlerts(e.ctx, []*keywatch.Alert{a}); err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) audit(t *testing.T) []keywatch.AuditEntry {
	t.Helper()
	entries, err := e.st.Audit(e.ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := keywatch.VerifyAuditChain(entries); err != nil {
		t.Fatalf("audit chain: %v", err)
	}
	return entries
}

func count(reqs []providertest.Request, method, path string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func states(out []contain.Outcome) map[contain.Target]string {
	m := map[contain.Target]string{}
	for _, o := range out {
		m[o.Target] = o.State
	}
	return m
}

func TestAutoDisableLiteLLM(t *testing.T) {
	e := newEnv(t, nil)
	a := e.alert(t, "kw-1", "expired-key-use", keywatch.SeverityCritical, "litellm:tok1", nil)
	out, err := e.eng.Handle(e.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	want := map[contain.Target]string{contain.TargetGateway: "applied", contain.TargetLiteLLM: "applied", contain.TargetWebhook: "applied"}
	if got := states(out); !mapsEqual(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	k, _ := e.st.Key(e.ctx, "litellm:tok1")
	if k.Status != keywatch.KeyDisabled {
		t.Errorf("inventory status %s", k.Status)
	}
	if b := e.lite.Keys()[0].Blocked; b == nil || !*b {
		t.Error("LiteLLM key not blocked")
	}
	if h := e.hook.requests(); len(h) != 1 || h[0].Action != contain.KindDisable || h[0].AlertID != "kw-1" || h[0].ProviderKeyID != "tok1" {
		t.Errorf("webhook got %+v", h)
	}
	// Idempotent: handling the alert again takes no action twice.
	out, err = e.eng.Handle(e.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if o.State != "skipped" {
			t.Errorf("second Handle: %+v", o)
		}
	}
	if n := count(e.lite.Requests(), "POST", "/key/block"); n != 1 {
		t.Errorf("%d /key/block requests, want 1", n)
	}
	if n := len(e.hook.requests()); n != 1 {
		t.Errorf("%d webhook requests, want 1", n)
	}
	// Recorded on the alert, with who.
	got, _ := e.st.Alert(e.ctx, "kw-1")
	if len(got.Actions) != 3 {
		t.Fatalf("alert actions %+v", got.Actions)
	}
	for _, act := range got.Actions {
		if act.Kind != "disable" || act.Actor != "keywatch" || !strings.HasPrefix(act.Detail, "applied") || !act.Time.Equal(e.now) {
			t.Errorf("action %+v", act)
		}
	}
	// Audited with who and why; the chain verifies.
	var sawLiteLLM bool
	for _, en := range e.audit(t) {
		if en.Subject != "litellm:tok1" || en.Actor != "keywatch" {
			continue
		}
		if !strings.Contains(en.Reason, "kw-1") || !strings.Contains(en.Reason, "dead-or-fanned-out-prod-key") {
			t.Errorf("audit reason %q", en.Reason)
		}
		sawLiteLLM = sawLiteLLM || en.Action == "key.disable" && strings.Contains(string(en.Detail), `"target":"litellm"`)
	}
	if !sawLiteLLM {
		t.Error("no audit entry for the LiteLLM block")
	}
	// MTTR reported per effective action.
	if len(e.effects) != 3 || e.effects[0].MTTR != 3*time.Second {
		t.Errorf("effects %+v", e.effects)
	}
}

func mapsEqual(a, b map[contain.Target]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestVolumeSpikeClampThenConfirmDisable(t *testing.T) {
	e := newEnv(t, nil)
	a := e.alert(t, "kw-2", "volume-spike", keywatch.SeverityHigh, "litellm:tok1",
		map[string]any{"measure": "requests", "baseline_per_min": 42.4})
	out, err := e.eng.Handle(e.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	var pending int
	for _, o := range out {
		if o.Kind == contain.KindDisable && o.State == "pending confirmation" {
			pending++
		}
	}
	if pending != 3 {
		t.Fatalf("outcomes %+v: want 3 pending disables", out)
	}
	if r := e.lite.Keys()[0].RPMLimit; r == nil || *r != 43 {
		t.Errorf("LiteLLM rpm_limit %v, want 43 (ceil 42.4 x 1)", r)
	}
	k, _ := e.st.Key(e.ctx, "litellm:tok1")
	if k.Status != keywatch.KeyClamped {
		t.Errorf("status %s, want clamped", k.Status)
	}
	if b := e.lite.Keys()[0].Blocked; b != nil && *b {
		t.Fatal("blocked before confirmation")
	}
	got, _ := e.st.Alert(e.ctx, "kw-2")
	var pend int
	for _, act := range got.Actions {
		if act.Detail == contain.DetailPending {
			pend++
		}
	}
	if pend != 3 {
		t.Errorf("alert records %d pending actions: %+v", pend, got.Actions)
	}
	// Handling again records nothing new.
	if _, err := e.eng.Handle(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	if again, _ := e.st.Alert(e.ctx, "kw-2"); len(again.Actions) != len(got.Actions) {
		t.Errorf("second Handle added actions: %d -> %d", len(got.Actions), len(again.Actions))
	}

	e.now = detected.Add(5 * time.Minute)
	out, err = e.eng.Confirm(e.ctx, "kw-2", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if s := states(out); s[contain.TargetLiteLLM] != "applied" || s[contain.TargetGateway] != "applied" {
		t.Fatalf("confirm outcomes %+v", out)
	}
	if b := e.lite.Keys()[0].Blocked; b == nil || !*b {
		t.Error("not blocked after confirmation")
	}
	k, _ = e.st.Key(e.ctx, "litellm:tok1")
	if k.Status != keywatch.KeyDisabled {
		t.Errorf("status %s, want disabled", k.Status)
	}
	last := e.effects[len(e.effects)-1]
	if last.Actor != "alice@example.com" || last.MTTR != 5*time.Minute {
		t.Errorf("effect %+v", last)
	}
	var byAlice bool
	for _, en := range e.audit(t) {
		byAlice = byAlice || en.Actor == "alice@example.com" && en.Action == "key.disable"
	}
	if !byAlice {
		t.Error("no audit entry by the confirming user")
	}
	if _, err := e.eng.Confirm(e.ctx, "kw-2", "alice@example.com"); keywatch.ErrorCode(err) != keywatch.ECONFLICT {
		t.Errorf("second Confirm: %v, want ECONFLICT", err)
	}
}

func TestOpenAIDeleteIdempotent(t *testing.T) {
	e := newEnv(t, nil)
	act := e.actuators[contain.TargetOpenAI]
	k, _ := e.st.Key(e.ctx, "openai:key_1")
	req := contain.Action{Kind: contain.KindDisable, Alert: "kw-3", Rule: "r", Actor: "keywatch"}
	r1, err := act.Apply(e.ctx, req, k)
	if err != nil || !r1.Changed || !r1.Irreversible {
		t.Fatalf("first: %+v %v", r1, err)
	}
	r2, err := act.Apply(e.ctx, req, k)
	if err != nil || r2.Changed {
		t.Fatalf("second (404, key gone): %+v %v", r2, err)
	}
	if len(e.oai.Keys("proj_a")) != 0 {
		t.Error("key not deleted")
	}
	if _, err := act.Revert(e.ctx, req, k); !contain.IsUnsupported(err) {
		t.Errorf("revert: %v, want unsupported", err)
	}
	if _, err := act.Apply(e.ctx, contain.Action{Kind: contain.KindClamp}, k); !contain.IsUnsupported(err) {
		t.Errorf("clamp: %v, want unsupported", err)
	}
}

func TestAnthropicDisableRevert(t *testing.T) {
	e := newEnv(t, nil)
	a := e.alert(t, "kw-4", "ip-fanout", keywatch.SeverityCritical, "anthropic:apikey_1", nil)
	if _, err := e.eng.Handle(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	if st := e.ant.Keys()[0].Status; st != "inactive" {
		t.Fatalf("status %s", st)
	}
	out, err := e.eng.Revert(e.ctx, "kw-4", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if s := states(out); s[contain.TargetAnthropic] != "reverted" || s[contain.TargetGateway] != "reverted" {
		t.Fatalf("revert outcomes %+v", out)
	}
	if st := e.ant.Keys()[0].Status; st != "active" {
		t.Errorf("status after revert %s", st)
	}
	k, _ := e.st.Key(e.ctx, "anthropic:apikey_1")
	if k.Status != keywatch.KeyActive {
		t.Errorf("inventory status after revert %s", k.Status)
	}
	// A reverted action is not applied again by a later Handle.
	if _, err := e.eng.Handle(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	if st := e.ant.Keys()[0].Status; st != "active" {
		t.Errorf("re-disabled after revert")
	}
	e.audit(t)
}

func TestProviderFailureRecordedAndRetried(t *testing.T) {
	e := newEnv(t, nil)
	a := e.alert(t, "kw-5", "expired-key-use", keywatch.SeverityCritical, "litellm:tok1", nil)
	e.lite.Fail(5, providertest.Fault{Status: 500, Body: `{"error":{"message":"db down for sk-master-test"}}`})
	out, err := e.eng.Handle(e.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	var failed *contain.Outcome
	for i := range out {
		if out[i].Target == contain.TargetLiteLLM {
			failed = &out[i]
		}
	}
	if failed == nil || failed.State != "failed" || failed.Err == nil {
		t.Fatalf("outcomes %+v", out)
	}
	if strings.Contains(failed.Err.Error(), e.lite.MasterKey) {
		t.Errorf("error holds the master key: %v", failed.Err)
	}
	got, _ := e.st.Alert(e.ctx, "kw-5")
	for _, act := range got.Actions {
		if strings.Contains(act.Detail, e.lite.MasterKey) {
			t.Errorf("alert action holds the master key: %q", act.Detail)
		}
	}
	// The next Handle retries the failed action only.
	out, err = e.eng.Handle(e.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if s := states(out); s[contain.TargetLiteLLM] != "applied" || s[contain.TargetGateway] != "skipped" {
		t.Errorf("retry outcomes %v", s)
	}
	e.audit(t)
}

func TestRetries429(t *testing.T) {
	e := newEnv(t, nil)
	e.ant.Fail(2, providertest.Fault{Status: 429, RetryAfter: "1"})
	k, _ := e.st.Key(e.ctx, "anthropic:apikey_1")
	for range 2 {
		if _, err := e.actuators[contain.TargetAnthropic].Apply(e.ctx, contain.Action{Kind: contain.KindDisable}, k); err != nil {
			t.Fatal(err)
		}
	}
	if st := e.ant.Keys()[0].Status; st != "inactive" {
		t.Errorf("status %s", st)
	}
}

func TestRotate(t *testing.T) {
	e := newEnv(t, nil)
	e.lite.HandleRegenerate()
	k, _ := e.st.Key(e.ctx, "litellm:tok1")
	l := e.actuators[contain.TargetLiteLLM].(*contain.LiteLLM)
	if _, err := l.Apply(e.ctx, contain.Action{Kind: contain.KindRotate}, k); !contain.IsUnsupported(err) {
		t.Fatalf("rotate without Deliver: %v", err)
	}
	var delivered string
	l.Deliver = func(_ context.Context, _ *keywatch.StoredKey, secret string) error { delivered = secret; return nil }
	r, err := l.Apply(e.ctx, contain.Action{Kind: contain.KindRotate}, k)
	if err != nil {
		t.Fatal(err)
	}
	if delivered == "" || strings.Contains(r.Detail, delivered) {
		t.Errorf("delivered %q, detail %q", delivered, r.Detail)
	}
	l.Deliver = func(context.Context, *keywatch.StoredKey, string) error { return errors.New("vault down") }
	k.ProviderKeyID = e.lite.Keys()[0].Token
	_, err = l.Apply(e.ctx, contain.Action{Kind: contain.KindRotate}, k)
	if err == nil || strings.Contains(err.Error(), "sk-regenerated") {
		t.Errorf("failed delivery: %v", err)
	}
}

func TestWebhookRetryAndUnsignedRejected(t *testing.T) {
	e := newEnv(t, nil)
	k, _ := e.st.Key(e.ctx, "litellm:tok1")
	e.hook.mu.Lock()
	e.hook.fail = 2
	e.hook.mu.Unlock()
	w := e.actuators[contain.TargetWebhook]
	if _, err := w.Apply(e.ctx, contain.Action{Kind: contain.KindClamp, Limits: contain.Limits{RPM: 5}}, k); err != nil {
		t.Fatal(err)
	}
	if h := e.hook.requests(); len(h) != 1 || h[0].Limits == nil || h[0].Limits.RPM != 5 {
		t.Errorf("webhook got %+v", h)
	}
	bad := &contain.Webhook{Name: "soar", URL: e.hook.URL + "/?token=url-secret", Secret: []byte("wrong"), Sleep: noSleep}
	_, err := bad.Apply(e.ctx, contain.Action{Kind: contain.KindDisable}, k)
	if keywatch.ErrorCode(err) != keywatch.EINVALID || strings.Contains(err.Error(), "url-secret") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("bad signature: %v", err)
	}
	down := &contain.Webhook{Name: "down", URL: "http://127.0.0.1:1/?token=url-secret", Sleep: noSleep, MaxRetries: -1}
	if _, err := down.Apply(e.ctx, contain.Action{Kind: contain.KindDisable}, k); err == nil || strings.Contains(err.Error(), "url-secret") {
		t.Errorf("unreachable: %v", err)
	}
}

func TestSign(t *testing.T) {
	sig := contain.Sign([]byte("k"), "1700000000", []byte(`{}`))
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != 7+64 {
		t.Fatalf("sig %q", sig)
	}
	if !contain.VerifySignature([]byte("k"), "1700000000", []byte(`{}`), sig) ||
		contain.VerifySignature([]byte("k"), "1700000001", []byte(`{}`), sig) {
		t.Error("signature does not cover the timestamp")
	}
}

func TestNotifyOnly(t *testing.T) {
	e := newEnv(t, nil)
	a := e.alert(t, "kw-6", "new-asn", keywatch.SeverityMedium, "litellm:tok1", nil)
	out, err := e.eng.Handle(e.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Kind != contain.KindNotify || out[0].State != "applied" {
		t.Fatalf("outcomes %+v", out)
	}
	if h := e.hook.requests(); len(h) != 1 || h[0].Action != contain.KindNotify {
		t.Errorf("webhook got %+v", h)
	}
	k, _ := e.st.Key(e.ctx, "litellm:tok1")
	if k.Status != keywatch.KeyActive || len(e.lite.Requests()) != 0 || len(e.effects) != 0 {
		t.Errorf("notify changed something: status %s, %d LiteLLM requests, effects %v", k.Status, len(e.lite.Requests()), e.effects)
	}
	if _, err := e.eng.Confirm(e.ctx, "kw-6", "alice"); keywatch.ErrorCode(err) != keywatch.ECONFLICT {
		t.Errorf("confirm of notify-only alert: %v", err)
	}
}
