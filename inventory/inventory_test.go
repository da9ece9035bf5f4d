package inventory_test

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/inventory"
)

var prefixEq = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })

const sample = `keys:
  - id: search-prod-1            # required; the key_id events carry
    provider: openai
    owner: dana@example.com
    team: search
    service: search-api
    env: prod
    oncall: {slack: "https://hooks.slack.com/x", pagerduty: "ROUTING_KEY", webhook: "https://example.com/hook"}
    created: 2026-06-01
    expires: 2027-06-01
    rotated: 2026-09-01
    models: [gpt-4o-mini, text-embedding-3-small]
    operations: [chat, embeddings]
    countries: [US, DE]
    cidrs: [203.0.113.0/24]
    quotas: {rpm: 600, tpm: 200000, tokens_per_day: 50000000, monthly_budget_usd: 2000}
    labels: {cost_center: "cc-42"}
  - id: bare
`

func TestParseDesignSample(t *testing.T) {
	keys, err := inventory.Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := []keywatch.Key{{
		ID: "search-prod-1", Provider: "openai", Owner: "dana@example.com", Team: "search",
		Service: "search-api", Env: "prod",
		OnCall:     keywatch.OnCall{Slack: "https://hooks.slack.com/x", PagerDuty: "ROUTING_KEY", Webhook: "https://example.com/hook"},
		Created:    time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
		Expires:    time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC),
		Rotated:    time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC),
		Models:     []string{"gpt-4o-mini", "text-embedding-3-small"},
		Operations: []string{"chat", "embeddings"},
		Countries:  []string{"US", "DE"},
		CIDRs:      []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")},
		Quotas:     keywatch.Quotas{RPM: 600, TPM: 200000, TokensPerDay: 50000000, MonthlyBudgetUSD: 2000},
		Labels:     map[string]string{"cost_center": "cc-42"},
	}, {ID: "bare"}}
	if diff := cmp.Diff(want, keys, prefixEq); diff != "" {
		t.Fatalf("parse (-want +got):\n%s", diff)
	}

	var buf bytes.Buffer
	if err := inventory.Write(&buf, keys); err != nil {
		t.Fatal(err)
	}
	again, err := inventory.Parse(buf.Bytes())
	if err != nil {
		t.Fatalf("reparse written inventory: %v\n%s", err, buf.String())
	}
	if diff := cmp.Diff(keys, again, prefixEq); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"missing id", "keys:\n  - owner: a\n", "line 2: key \"\": field id: required"},
		{"bad date", "keys:\n  - id: a\n  - id: b\n    expires: tomorrow\n", "line 3: key \"b\": field expires"},
		{"bad cidr", "keys:\n  - id: a\n    cidrs: [10.0.0.0/33]\n", "field cidrs"},
		{"unknown field", "keys:\n  - id: a\n    colour: red\n", "colour"},
		{"unknown nested field", "keys:\n  - id: a\n    quotas: {rpm: 5, rmp: 6}\n", "line 3: unknown field quotas.rmp"},
		{"duplicate", "keys:\n  - id: a\n  - id: a\n", "already defined at line 2"},
		{"bad status", "keys:\n  - id: a\n    status: zombie\n", "field status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := inventory.Parse([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.want)
			}
			if keywatch.ErrorCode(err) != keywatch.EINVALID {
				t.Fatalf("code = %q, want invalid", keywatch.ErrorCode(err))
			}
		})
	}
}
