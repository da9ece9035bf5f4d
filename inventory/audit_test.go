package inventory_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/inventory"
)

func TestAudit(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	good := keywatch.StoredKey{Key: keywatch.Key{
		ID: "good", Owner: "a@example.com", Created: now.AddDate(0, -1, 0), Expires: now.AddDate(1, 0, 0),
		OnCall: keywatch.OnCall{Slack: "https://hooks.slack.com/x"}, Quotas: keywatch.Quotas{RPM: 60},
		Models: []string{"gpt-4o-mini"},
	}, LastUsed: now.Add(-time.Hour), Usage: keywatch.KeyUsage{Envs: []string{"prod"}, Models: []string{"gpt-4o-mini"}}}
	with := func(id string, f func(k *keywatch.StoredKey)) keywatch.StoredKey {
		k := good
		k.ID = id
		f(&k)
		return k
	}
	keys := []keywatch.StoredKey{
		good,
		with("no-owner", func(k *keywatch.StoredKey) { k.Owner = "" }),
		with("no-expiry", func(k *keywatch.StoredKey) { k.Expires = time.Time{} }),
		with("expired", func(k *keywatch.StoredKey) { k.Expires = now.AddDate(0, 0, -1) }),
		with("old", func(k *keywatch.StoredKey) { k.Created = now.AddDate(0, 0, -200); k.Rotated = now.AddDate(0, 0, -120) }),
		with("idle", func(k *keywatch.StoredKey) { k.LastUsed = now.AddDate(0, 0, -45) }),
		with("never-used", func(k *keywatch.StoredKey) { k.LastUsed = time.Time{} }),
		with("two-envs", func(k *keywatch.StoredKey) { k.Usage.Envs = []string{"prod", "dev"} }),
		with("no-route", func(k *keywatch.StoredKey) { k.OnCall = keywatch.OnCall{} }),
		with("no-quota", func(k *keywatch.StoredKey) { k.Quotas = keywatch.Quotas{} }),
		with("any-model", func(k *keywatch.StoredKey) { k.Models = nil }),
		with("unused-models", func(k *keywatch.StoredKey) { k.Models = []string{"gpt-4o-mini", "gpt-4o"} }),
		with("disabled", func(k *keywatch.StoredKey) { k.Status = keywatch.KeyDisabled; k.Owner = "" }),
	}
	var got []string
	for _, f := range inventory.Audit(keys, now, inventory.AuditOptions{}) {
		got = append(got, f.KeyID+" "+f.Check)
		if f.Detail == "" || f.Severity == "" {
			t.Errorf("finding without detail: %+v", f)
		}
	}
	want := []string{
		"any-model broad-model-access",
		"expired expired-active",
		"idle unused",
		"never-used unused",
		"no-expiry missing-expiry",
		"no-owner missing-owner",
		"no-quota no-quota",
		"no-route no-oncall",
		"old rotation-overdue",
		"two-envs multi-env",
		"unused-models broad-model-access",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("findings (-want +got):\n%s", diff)
	}
}

// BenchmarkAudit100k measures the governance checks over 100,000 keys
// (the store read is measured by the store benchmarks).
func BenchmarkAudit100k(b *testing.B) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	keys := make([]keywatch.StoredKey, 100_000)
	for i := range keys {
		keys[i] = keywatch.StoredKey{Key: keywatch.Key{
			ID: "k" + strconv.Itoa(i), Owner: "o@example.com", Created: now.AddDate(0, 0, -i%400),
			Expires: now.AddDate(0, 0, i%100-20), Models: []string{"gpt-4o", "gpt-4o-mini"},
			OnCall: keywatch.OnCall{Slack: "https://hooks.slack.com/x"},
		}, LastUsed: now.AddDate(0, 0, -i%60), Usage: keywatch.KeyUsage{Envs: []string{"prod"}, Models: []string{"gpt-4o"}}}
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(inventory.Audit(keys, now, inventory.AuditOptions{})) == 0 {
			b.Fatal("no findings")
		}
	}
}
