// Package storetest is the conformance suite every keywatch.Store adapter
// runs: one set of table tests and benchmarks, so that sqlite and postgres
// behave alike.
package storetest

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/keywatch/keywatch"
)

// Opener returns a new, empty store for one test; it closes the store and
// removes its data in tb.Cleanup.
type Opener func(tb testing.TB) keywatch.Store

// Tamper changes the stored content of audit entry seq of s behind the
// store's back (raw SQL), so that the suite can check that
// keywatch.VerifyAuditChain notices.
type Tamper func(tb testing.TB, s keywatch.Store, seq int64)

// Run runs the conformance suite against stores from open.
func Run(t *testing.T, open Opener, tamper Tamper) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s keywatch.Store)
	}{
		{"KeyRoundTrip", testKeyRoundTrip},
		{"PutKeysUpsert", testPutKeysUpsert},
		{"PutKeysInvalid", testPutKeysInvalid},
		{"KeysFilter", testKeysFilter},
		{"NotFound", testNotFound},
		{"SetKeyStatus", testSetKeyStatus},
		{"FingerprintHistory", testFingerprintHistory},
		{"TouchKeys", testTouchKeys},
		{"Alerts", testAlerts},
		{"AlertsFilter", testAlertsFilter},
		{"UpdateAlert", testUpdateAlert},
		{"Snapshots", testSnapshots},
		{"AuditChain", testAuditChain},
		{"AuditConcurrent", testAuditConcurrent},
		{"BulkImport", testBulkImport},
		{"Tokens", testTokens},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
	t.Run("AuditTamper", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		testAuditTamper(t, s, func(seq int64) { tamper(t, s, seq) })
	})
}

var (
	ctx  = context.Background()
	who  = keywatch.Change{Actor: "dana@example.com", Reason: "test"}
	zone = time.FixedZone("UTC+5:30", 5*3600+1800)
	t0   = time.Date(2026, 6, 1, 9, 30, 15, 123456000, zone)
)

// cmpKey compares keys; the store sets UpdatedAt itself.
var cmpKey = []cmp.Option{
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	cmpopts.IgnoreFields(keywatch.StoredKey{}, "UpdatedAt"),
	cmpopts.EquateEmpty(),
}

func fullKey(id string) keywatch.StoredKey {
	return keywatch.StoredKey{
		Key: keywatch.Key{
			ID: id, Provider: "openai", Name: "search prod", Owner: "dana@example.com",
			Team: "search", Service: "search-api", Env: "prod",
			OnCall:     keywatch.OnCall{Slack: "https://hooks.slack.com/x", PagerDuty: "RK", Webhook: "https://hook", Email: "oncall@example.com"},
			Created:    t0,
			Expires:    t0.AddDate(1, 0, 0),
			Rotated:    t0.AddDate(0, 3, 0),
			Status:     keywatch.KeyClamped,
			Models:     []string{"gpt-4o-mini", "text-embedding-3-small"},
			Operations: []string{"chat", "embeddings"},
			Countries:  []string{"US", "DE"},
			CIDRs:      []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")},
			Quotas:     keywatch.Quotas{RPM: 600, TPM: 200000, TokensPerDay: 50000000, MonthlyBudgetUSD: 2000.5},
			Labels:     map[string]string{"cost_center": "cc-42", "tier": "gold"},
		},
		ProviderKeyID:   "key_abc",
		Fingerprint:     "fp-" + id,
		Last4:           "abcd",
		Redacted:        "sk-...abcd",
		LastUsed:        t0.Add(time.Hour),
		OldFingerprints: []string{"old1-" + id, "old2-" + id},
	}
}

// inUTC returns k with every time in UTC, as the store returns it.
func inUTC(k keywatch.StoredKey) keywatch.StoredKey {
	for _, t := range []*time.Time{&k.Created, &k.Expires, &k.Rotated, &k.LastUsed} {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	return k
}

func put(t *testing.T, s keywatch.Store, keys ...keywatch.StoredKey) {
	t.Helper()
	if err := s.PutKeys(ctx, keys, who); err != nil {
		t.Fatalf("PutKeys: %v", err)
	}
}

func mustKey(t *testing.T, s keywatch.Store, id string) *keywatch.StoredKey {
	t.Helper()
	k, err := s.Key(ctx, id)
	if err != nil {
		t.Fatalf("Key(%s): %v", id, err)
	}
	return k
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := keywatch.ErrorCode(err); got != code {
		t.Errorf("%s: error %v has code %q, want %q", what, err, got, code)
	}
}

func testKeyRoundTrip(t *testing.T, s keywatch.Store) {
	before := time.Now().Add(-time.Second)
	full := fullKey("k1")
	minimal := keywatch.StoredKey{Key: keywatch.Key{ID: "k2"}}
	put(t, s, full, minimal)
	got := mustKey(t, s, "k1")
	if diff := cmp.Diff(inUTC(full), *got, cmpKey...); diff != "" {
		t.Errorf("round trip (-put +got):\n%s", diff)
	}
	for _, tm := range []time.Time{got.Created, got.Expires, got.Rotated, got.LastUsed, got.UpdatedAt} {
		if tm.Location() != time.UTC {
			t.Errorf("time %v not in UTC", tm)
		}
	}
	if got.UpdatedAt.Before(before) {
		t.Errorf("UpdatedAt = %v, want about now", got.UpdatedAt)
	}
	want := minimal
	want.Status = keywatch.KeyActive // the empty status reads as active
	if diff := cmp.Diff(want, *mustKey(t, s, "k2"), cmpKey...); diff != "" {
		t.Errorf("minimal round trip (-want +got):\n%s", diff)
	}
}

func testPutKeysUpsert(t *testing.T, s keywatch.Store) {
	put(t, s, fullKey("k1"))
	// A re-import without secret-derived fields keeps them; other fields
	// are replaced; last_used is never lowered.
	upd := keywatch.StoredKey{Key: keywatch.Key{ID: "k1", Owner: "lee@example.com", Status: keywatch.KeyActive},
		LastUsed: t0.Add(-time.Hour)}
	put(t, s, upd)
	got := mustKey(t, s, "k1")
	want := inUTC(fullKey("k1"))
	want.Key = keywatch.Key{ID: "k1", Owner: "lee@example.com", Status: keywatch.KeyActive}
	want.ProviderKeyID, want.Redacted = "", ""
	if diff := cmp.Diff(want, *got, cmpKey...); diff != "" {
		t.Errorf("after upsert (-want +got):\n%s", diff)
	}
	// New derived fields replace the old ones; duplicates in one batch: last wins.
	a := fullKey("k1")
	a.Fingerprint, a.Last4, a.OldFingerprints = "fp-new", "wxyz", []string{"o3"}
	b := a
	b.Owner = "last@example.com"
	put(t, s, a, b)
	got = mustKey(t, s, "k1")
	if got.Fingerprint != "fp-new" || got.Last4 != "wxyz" || !cmp.Equal(got.OldFingerprints, []string{"o3"}) || got.Owner != "last@example.com" {
		t.Errorf("after replace: fingerprint %q last4 %q old %v owner %q", got.Fingerprint, got.Last4, got.OldFingerprints, got.Owner)
	}
	if _, _, err := s.KeyByFingerprint(ctx, "old1-k1"); keywatch.ErrorCode(err) != keywatch.ENOTFOUND {
		t.Errorf("replaced old fingerprint still found: %v", err)
	}
}

func testPutKeysInvalid(t *testing.T, s keywatch.Store) {
	for _, tc := range []struct {
		name string
		keys []keywatch.StoredKey
	}{
		{"empty id", []keywatch.StoredKey{{}}},
		{"bad status", []keywatch.StoredKey{{Key: keywatch.Key{ID: "x", Status: "melted"}}}},
		{"one bad of two", []keywatch.StoredKey{{Key: keywatch.Key{ID: "ok"}}, {}}},
	} {
		err := s.PutKeys(ctx, tc.keys, who)
		wantCode(t, tc.name, err, keywatch.EINVALID)
	}
	// All or nothing: the good key of the failed batch is not stored.
	if _, err := s.Key(ctx, "ok"); keywatch.ErrorCode(err) != keywatch.ENOTFOUND {
		t.Errorf("key of failed batch stored: %v", err)
	}
	if err := s.PutKeys(ctx, nil, who); err != nil {
		t.Errorf("PutKeys(nil): %v", err)
	}
}

func testKeysFilter(t *testing.T, s keywatch.Store) {
	mk := func(id, svc, team, owner, env, prov string, st keywatch.KeyStatus) keywatch.StoredKey {
		return keywatch.StoredKey{Key: keywatch.Key{ID: id, Service: svc, Team: team, Owner: owner, Env: env, Provider: prov, Status: st}}
	}
	put(t, s,
		mk("c", "search", "t1", "dana", "prod", "openai", ""),
		mk("a", "search", "t1", "lee", "staging", "anthropic", keywatch.KeyDisabled),
		mk("b", "chat", "t2", "dana", "prod", "openai", keywatch.KeyClamped),
		mk("d", "chat", "t2", "kim", "dev", "google", keywatch.KeyActive),
	)
	for _, tc := range []struct {
		name string
		f    keywatch.KeyFilter
		want []string
	}{
		{"all ordered by id", keywatch.KeyFilter{}, []string{"a", "b", "c", "d"}},
		{"service", keywatch.KeyFilter{Service: "search"}, []string{"a", "c"}},
		{"team", keywatch.KeyFilter{Team: "t2"}, []string{"b", "d"}},
		{"owner", keywatch.KeyFilter{Owner: "dana"}, []string{"b", "c"}},
		{"env", keywatch.KeyFilter{Env: "prod"}, []string{"b", "c"}},
		{"provider", keywatch.KeyFilter{Provider: "openai"}, []string{"b", "c"}},
		{"active includes empty status", keywatch.KeyFilter{Status: keywatch.KeyActive}, []string{"c", "d"}},
		{"disabled", keywatch.KeyFilter{Status: keywatch.KeyDisabled}, []string{"a"}},
		{"combined", keywatch.KeyFilter{Service: "chat", Owner: "dana"}, []string{"b"}},
		{"limit", keywatch.KeyFilter{Limit: 3}, []string{"a", "b", "c"}},
		{"none", keywatch.KeyFilter{Service: "nope"}, nil},
	} {
		keys, err := s.Keys(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		if diff := cmp.Diff(tc.want, ids, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func testNotFound(t *testing.T, s keywatch.Store) {
	put(t, s, keywatch.StoredKey{Key: keywatch.Key{ID: "exists"}})
	_, err := s.Key(ctx, "nope")
	wantCode(t, "Key", err, keywatch.ENOTFOUND)
	_, _, err = s.KeyByFingerprint(ctx, "nope")
	wantCode(t, "KeyByFingerprint", err, keywatch.ENOTFOUND)
	wantCode(t, "SetKeyStatus", s.SetKeyStatus(ctx, "nope", keywatch.KeyDisabled, who), keywatch.ENOTFOUND)
	wantCode(t, "RotateKey", s.RotateKey(ctx, "nope", "fp", "abcd", t0, who), keywatch.ENOTFOUND)
	_, err = s.Alert(ctx, "nope")
	wantCode(t, "Alert", err, keywatch.ENOTFOUND)
	wantCode(t, "UpdateAlert", s.UpdateAlert(ctx, "nope", keywatch.AlertConfirmed, nil, who), keywatch.ENOTFOUND)
	_, err = s.Snapshot(ctx, "nope")
	wantCode(t, "Snapshot", err, keywatch.ENOTFOUND)
	// Failed mutations leave no audit entry.
	entries, err := s.Audit(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("audit has %d entries after failed mutations, want 1", len(entries))
	}
	wantCode(t, "SetKeyStatus bad status", s.SetKeyStatus(ctx, "exists", "melted", who), keywatch.EINVALID)
	wantCode(t, "UpdateAlert bad status", s.UpdateAlert(ctx, "x", "melted", nil, who), keywatch.EINVALID)
	_, _, err = s.KeyByFingerprint(ctx, "")
	wantCode(t, "KeyByFingerprint empty", err, keywatch.EINVALID)
}

func testSetKeyStatus(t *testing.T, s keywatch.Store) {
	put(t, s, fullKey("k1"))
	for _, st := range []keywatch.KeyStatus{keywatch.KeyDisabled, keywatch.KeyActive, keywatch.KeyRevoked} {
		if err := s.SetKeyStatus(ctx, "k1", st, who); err != nil {
			t.Fatal(err)
		}
		if got := mustKey(t, s, "k1").Status; got != st {
			t.Errorf("status %q, want %q", got, st)
		}
	}
	entries, err := s.Audit(ctx, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+" "+e.Subject+" "+e.Actor+" "+e.Reason)
	}
	want := []string{"key.disable k1 dana@example.com test", "key.enable k1 dana@example.com test", "key.revoke k1 dana@example.com test"}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

func testFingerprintHistory(t *testing.T, s keywatch.Store) {
	k := fullKey("k1")
	k.OldFingerprints = nil
	k.Fingerprint = "fp0"
	put(t, s, k, keywatch.StoredKey{Key: keywatch.Key{ID: "k2"}})
	r1, r2 := t0.Add(24*time.Hour), t0.Add(48*time.Hour)
	for _, step := range []struct {
		fp, last4 string
		at        time.Time
	}{{"fp1", "1111", r1}, {"fp2", "2222", r2}} {
		if err := s.RotateKey(ctx, "k1", step.fp, step.last4, step.at, who); err != nil {
			t.Fatal(err)
		}
	}
	got := mustKey(t, s, "k1")
	if got.Fingerprint != "fp2" || got.Last4 != "2222" || !got.Rotated.Equal(r2) {
		t.Errorf("after rotation: fingerprint %q last4 %q rotated %v", got.Fingerprint, got.Last4, got.Rotated)
	}
	if diff := cmp.Diff([]string{"fp0", "fp1"}, got.OldFingerprints); diff != "" {
		t.Errorf("old fingerprints (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		fp      string
		current bool
	}{{"fp2", true}, {"fp1", false}, {"fp0", false}} {
		k, cur, err := s.KeyByFingerprint(ctx, tc.fp)
		if err != nil {
			t.Fatalf("KeyByFingerprint(%s): %v", tc.fp, err)
		}
		if k.ID != "k1" || cur != tc.current {
			t.Errorf("KeyByFingerprint(%s) = %s, current %v; want k1, %v", tc.fp, k.ID, cur, tc.current)
		}
	}
	// A first rotation of a key without a fingerprint records no history.
	if err := s.RotateKey(ctx, "k2", "fpk2", "9999", r1, who); err != nil {
		t.Fatal(err)
	}
	if k2 := mustKey(t, s, "k2"); len(k2.OldFingerprints) != 0 || k2.Fingerprint != "fpk2" {
		t.Errorf("k2 after first rotation: %q %v", k2.Fingerprint, k2.OldFingerprints)
	}
	// Rotating back to an old secret makes it current again.
	if err := s.RotateKey(ctx, "k1", "fp0", "0000", r2.Add(time.Hour), who); err != nil {
		t.Fatal(err)
	}
	if _, cur, err := s.KeyByFingerprint(ctx, "fp0"); err != nil || !cur {
		t.Errorf("fp0 after rotating back: current %v, err %v", cur, err)
	}
	if got := mustKey(t, s, "k1").OldFingerprints; !cmp.Equal(got, []string{"fp1", "fp2"}) {
		t.Errorf("old fingerprints after rotating back: %v", got)
	}
	wantCode(t, "RotateKey empty", s.RotateKey(ctx, "k1", "", "", r2, who), keywatch.EINVALID)
}

func testTouchKeys(t *testing.T, s keywatch.Store) {
	put(t, s, keywatch.StoredKey{Key: keywatch.Key{ID: "a"}}, keywatch.StoredKey{Key: keywatch.Key{ID: "b"}, LastUsed: t0})
	n, _ := s.Audit(ctx, 0, 0)
	err := s.TouchKeys(ctx, map[string]keywatch.KeyUse{
		"a":     {LastUsed: t0, KeyUsage: keywatch.KeyUsage{Envs: []string{"prod"}, Models: []string{"gpt-4o"}}},
		"b":     {LastUsed: t0.Add(-time.Hour)},
		"ghost": {LastUsed: t0, KeyUsage: keywatch.KeyUsage{Envs: []string{"prod"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustKey(t, s, "a").LastUsed; !got.Equal(t0) {
		t.Errorf("a last used %v, want %v", got, t0)
	}
	if got := mustKey(t, s, "b").LastUsed; !got.Equal(t0) {
		t.Errorf("b last used lowered to %v", got)
	}
	if err := s.TouchKeys(ctx, map[string]keywatch.KeyUse{
		"b": {LastUsed: t0.Add(time.Minute)},
		"a": {KeyUsage: keywatch.KeyUsage{Envs: []string{"dev", "prod"}, Models: []string{"gpt-4.1"}, Operations: []string{"chat"}}},
	}); err != nil {
		t.Fatal(err)
	}
	wantUsage := keywatch.KeyUsage{Envs: []string{"dev", "prod"}, Models: []string{"gpt-4.1", "gpt-4o"}, Operations: []string{"chat"}}
	if got := mustKey(t, s, "a").Usage; !cmp.Equal(got, wantUsage) {
		t.Errorf("a usage %+v, want merged %+v", got, wantUsage)
	}
	if _, err := s.Key(ctx, "ghost"); keywatch.ErrorCode(err) != keywatch.ENOTFOUND {
		t.Errorf("TouchKeys created a key not in the inventory: %v", err)
	}
	if got := mustKey(t, s, "b").LastUsed; !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("b last used %v, want raised", got)
	}
	if m, _ := s.Audit(ctx, 0, 0); len(m) != len(n) {
		t.Errorf("TouchKeys audited: %d entries, was %d", len(m), len(n))
	}
	if err := s.TouchKeys(ctx, nil); err != nil {
		t.Errorf("TouchKeys(nil): %v", err)
	}
}

func alert(id string, at time.Time, key, rule, svc string) *keywatch.Alert {
	return &keywatch.Alert{
		ID: id, Time: at, DetectedAt: at.Add(2 * time.Second), KeyID: key, Service: svc, Env: "prod",
		Owner: "dana@example.com", Rule: rule, Severity: keywatch.SeverityHigh, Title: "t " + id,
		Summary: "s", Evidence: map[string]any{"observed": 500.0, "baseline": 20.0},
		FirstSeen: at.Add(-time.Minute), Tags: []string{"owasp:LLM10"}, Status: keywatch.AlertOpen,
	}
}

func testAlerts(t *testing.T, s keywatch.Store) {
	a := alert("a1", t0, "k1", "volume-spike", "search")
	a.Actions = []keywatch.Action{{Kind: "notify", Target: "slack", Time: t0, Actor: "keywatch"}}
	if err := s.PutAlerts(ctx, []*keywatch.Alert{a}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Alert(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	want := *a
	want.Time, want.DetectedAt, want.FirstSeen = a.Time.UTC(), a.DetectedAt.UTC(), a.FirstSeen.UTC()
	want.Actions = []keywatch.Action{{Kind: "notify", Target: "slack", Time: t0.UTC(), Actor: "keywatch"}}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got.Time.Location() != time.UTC {
		t.Errorf("alert time %v not UTC", got.Time)
	}
	// An id already stored is ignored, not replaced.
	dup := alert("a1", t0, "k9", "other", "x")
	if err := s.PutAlerts(ctx, []*keywatch.Alert{dup, alert("a2", t0, "k1", "r", "s")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Alert(ctx, "a1"); got.KeyID != "k1" {
		t.Errorf("duplicate replaced the alert: key %s", got.KeyID)
	}
	wantCode(t, "empty id", s.PutAlerts(ctx, []*keywatch.Alert{{}}), keywatch.EINVALID)
	wantCode(t, "nil alert", s.PutAlerts(ctx, []*keywatch.Alert{nil}), keywatch.EINVALID)
}

func testAlertsFilter(t *testing.T, s keywatch.Store) {
	var as []*keywatch.Alert
	for i, x := range []struct{ key, rule, svc string }{
		{"k1", "volume-spike", "search"}, {"k2", "new-asn", "chat"}, {"k1", "new-asn", "search"},
		{"k3", "volume-spike", "chat"}, {"k1", "volume-spike", "search"},
	} {
		as = append(as, alert(fmt.Sprintf("a%d", i), t0.Add(time.Duration(i)*time.Minute), x.key, x.rule, x.svc))
	}
	if err := s.PutAlerts(ctx, as); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateAlert(ctx, "a3", keywatch.AlertConfirmed, nil, who); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    keywatch.AlertFilter
		want []string
	}{
		{"all newest first", keywatch.AlertFilter{}, []string{"a4", "a3", "a2", "a1", "a0"}},
		{"key", keywatch.AlertFilter{KeyID: "k1"}, []string{"a4", "a2", "a0"}},
		{"rule", keywatch.AlertFilter{Rule: "new-asn"}, []string{"a2", "a1"}},
		{"service", keywatch.AlertFilter{Service: "chat"}, []string{"a3", "a1"}},
		{"status", keywatch.AlertFilter{Status: keywatch.AlertConfirmed}, []string{"a3"}},
		{"since inclusive", keywatch.AlertFilter{Since: t0.Add(3 * time.Minute)}, []string{"a4", "a3"}},
		{"until exclusive", keywatch.AlertFilter{Until: t0.Add(2 * time.Minute)}, []string{"a1", "a0"}},
		{"limit", keywatch.AlertFilter{Limit: 2}, []string{"a4", "a3"}},
		{"combined", keywatch.AlertFilter{KeyID: "k1", Rule: "volume-spike", Limit: 1}, []string{"a4"}},
		{"none", keywatch.AlertFilter{KeyID: "nope"}, nil},
	} {
		got, err := s.Alerts(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var ids []string
		for _, a := range got {
			ids = append(ids, a.ID)
		}
		if diff := cmp.Diff(tc.want, ids, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func testUpdateAlert(t *testing.T, s keywatch.Store) {
	if err := s.PutAlerts(ctx, []*keywatch.Alert{alert("a1", t0, "k1", "volume-spike", "search")}); err != nil {
		t.Fatal(err)
	}
	act := &keywatch.Action{Kind: "disable", Target: "gateway", Time: t0.Add(time.Minute), Actor: "dana@example.com"}
	if err := s.UpdateAlert(ctx, "a1", keywatch.AlertConfirmed, act, who); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateAlert(ctx, "a1", keywatch.AlertResolved, nil, who); err != nil {
		t.Fatal(err)
	}
	got, err := s.Alert(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	wantActs := []keywatch.Action{{Kind: "disable", Target: "gateway", Time: t0.Add(time.Minute).UTC(), Actor: "dana@example.com"}}
	if got.Status != keywatch.AlertResolved || !cmp.Equal(got.Actions, wantActs) {
		t.Errorf("after updates: status %q actions %v", got.Status, got.Actions)
	}
	entries, err := s.Audit(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Action != "alert.confirmed" || entries[1].Action != "alert.resolved" || entries[0].Subject != "a1" {
		t.Errorf("audit: %+v", entries)
	}
}

func testSnapshots(t *testing.T, s keywatch.Store) {
	for _, data := range [][]byte{{0, 1, 2, 255}, []byte("second version"), {}} {
		if err := s.PutSnapshot(ctx, "shard-0", data); err != nil {
			t.Fatal(err)
		}
		got, err := s.Snapshot(ctx, "shard-0")
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(got, data, cmpopts.EquateEmpty()) {
			t.Errorf("snapshot = %q, want %q", got, data)
		}
	}
	wantCode(t, "empty name", s.PutSnapshot(ctx, "", nil), keywatch.EINVALID)
}

// mixedOps runs one of each audited mutation.
func mixedOps(t *testing.T, s keywatch.Store) {
	t.Helper()
	put(t, s, fullKey("k1"), fullKey("k2"))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.SetKeyStatus(ctx, "k1", keywatch.KeyDisabled, who))
	must(s.RotateKey(ctx, "k2", "fp-new", "zzzz", t0, who))
	must(s.PutAlerts(ctx, []*keywatch.Alert{alert("a1", t0, "k1", "volume-spike", "search")}))
	must(s.UpdateAlert(ctx, "a1", keywatch.AlertConfirmed, &keywatch.Action{Kind: "disable", Time: t0}, who))
	must(s.AppendAudit(ctx, "contain.webhook", "k1", map[string]any{"url_host": "hooks.example.com", "n": 1}, who))
	must(s.AppendAudit(ctx, "note", "", nil, keywatch.Change{Actor: "keywatch"}))
}

func testAuditChain(t *testing.T, s keywatch.Store) {
	mixedOps(t, s)
	entries, err := s.Audit(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if e.Time.Location() != time.UTC || e.Time.IsZero() {
			t.Errorf("entry %d time %v", e.Seq, e.Time)
		}
	}
	want := []string{"key.put", "key.put", "key.disable", "key.rotate", "alert.confirmed", "contain.webhook", "note"}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if err := keywatch.VerifyAuditChain(entries); err != nil {
		t.Errorf("VerifyAuditChain: %v", err)
	}
	if got := string(entries[5].Detail); got != `{"n":1,"url_host":"hooks.example.com"}` {
		t.Errorf("detail = %s", got)
	}
	// Paging.
	page, err := s.Audit(ctx, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 3 || page[0].Seq != 3 || page[2].Seq != 5 {
		t.Errorf("Audit(2, 3) = %d entries from %d", len(page), page[0].Seq)
	}
	wantCode(t, "empty action", s.AppendAudit(ctx, "", "x", nil, who), keywatch.EINVALID)
	wantCode(t, "bad detail", s.AppendAudit(ctx, "x", "x", func() {}, who), keywatch.EINVALID)
}

func testAuditTamper(t *testing.T, s keywatch.Store, tamper func(seq int64)) {
	mixedOps(t, s)
	tamper(3)
	entries, err := s.Audit(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	err = keywatch.VerifyAuditChain(entries)
	if err == nil {
		t.Fatal("VerifyAuditChain passed a tampered log")
	}
	if keywatch.ErrorCode(err) != keywatch.EINVALID {
		t.Errorf("VerifyAuditChain: %v", err)
	}
}

func testAuditConcurrent(t *testing.T, s keywatch.Store) {
	const workers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				var err error
				if i%3 == 0 {
					err = s.PutKeys(ctx, []keywatch.StoredKey{{Key: keywatch.Key{ID: fmt.Sprintf("w%d-%d", w, i)}}}, who)
				} else {
					err = s.AppendAudit(ctx, "test.append", fmt.Sprintf("w%d", w), map[string]int{"i": i}, who)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	entries, err := s.Audit(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != workers*each {
		t.Errorf("%d entries, want %d", len(entries), workers*each)
	}
	if err := keywatch.VerifyAuditChain(entries); err != nil {
		t.Errorf("VerifyAuditChain after concurrent appends: %v", err)
	}
}

func testBulkImport(t *testing.T, s keywatch.Store) {
	const n = 5000
	keys := ManyKeys(n)
	start := time.Now()
	if err := s.PutKeys(ctx, keys, who); err != nil {
		t.Fatal(err)
	}
	t.Logf("imported %d keys in %v", n, time.Since(start))
	got, err := s.Keys(ctx, keywatch.KeyFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d keys, want %d", len(got), n)
	}
	entries, err := s.Audit(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n {
		t.Errorf("%d audit entries, want %d", len(entries), n)
	}
	if err := keywatch.VerifyAuditChain(entries); err != nil {
		t.Error(err)
	}
	k, cur, err := s.KeyByFingerprint(ctx, keys[n/2].Fingerprint)
	if err != nil || !cur || k.ID != keys[n/2].ID {
		t.Errorf("KeyByFingerprint after import: %v %v %v", k, cur, err)
	}
}

// ManyKeys returns n realistic inventory keys with distinct ids and
// fingerprints, for bulk tests and benchmarks.
func ManyKeys(n int) []keywatch.StoredKey {
	keys := make([]keywatch.StoredKey, n)
	for i := range keys {
		k := fullKey(fmt.Sprintf("key-%07d", i))
		k.Service = fmt.Sprintf("svc-%d", i%200)
		k.OldFingerprints = nil
		keys[i] = k
	}
	return keys
}

func testTokens(t *testing.T, s keywatch.Store) {
	hash := strings.Repeat("ab", 32)
	tok := keywatch.Token{ID: "tok_1", Name: "collector", Role: keywatch.RoleIngest, Created: t0}
	if err := s.CreateToken(ctx, tok, hash, who); err != nil {
		t.Fatal(err)
	}
	got, err := s.TokenByHash(ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(*got, tok) {
		t.Errorf("token round trip: got %+v, want %+v", *got, tok)
	}
	_, err = s.TokenByHash(ctx, strings.Repeat("cd", 32))
	wantCode(t, "TokenByHash unknown", err, keywatch.ENOTFOUND)
	if err := s.CreateToken(ctx, keywatch.Token{ID: "tok_2", Role: keywatch.RoleAdmin, Created: t0}, hash, who); err == nil {
		t.Error("CreateToken with a hash already stored succeeded")
	}
	wantCode(t, "CreateToken bad role", s.CreateToken(ctx, keywatch.Token{ID: "tok_3", Role: "root", Created: t0}, strings.Repeat("ef", 32), who), keywatch.EINVALID)
	if err := s.RevokeToken(ctx, "tok_1", who); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, "tok_1", who); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	wantCode(t, "RevokeToken unknown", s.RevokeToken(ctx, "tok_9", who), keywatch.ENOTFOUND)
	if got, _ := s.TokenByHash(ctx, hash); got == nil || !got.Revoked {
		t.Errorf("token not revoked: %+v", got)
	}
	list, err := s.Tokens(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("Tokens = %v, %v", list, err)
	}
	entries, _ := s.Audit(ctx, 0, 0)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if !slices.Contains(actions, "token.create") || !slices.Contains(actions, "token.revoke") {
		t.Errorf("token changes not audited: %v", actions)
	}
	if err := keywatch.VerifyAuditChain(entries); err != nil {
		t.Error(err)
	}
}
