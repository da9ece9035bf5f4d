package contain_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/contain"
)

func TestDefaultPolicyDecide(t *testing.T) {
	p := contain.DefaultPolicy()
	tests := []struct {
		name  string
		alert keywatch.Alert
		want  string // rule name
	}{
		{"expired critical prod", keywatch.Alert{Rule: "expired-key-use", Severity: keywatch.SeverityCritical, Env: "prod"}, "dead-or-fanned-out-prod-key"},
		{"fanout critical prod", keywatch.Alert{Rule: "ip-fanout", Severity: keywatch.SeverityCritical, Env: "prod"}, "dead-or-fanned-out-prod-key"},
		{"expired critical staging", keywatch.Alert{Rule: "expired-key-use", Severity: keywatch.SeverityCritical, Env: "staging"}, "everything-else"},
		{"expired high prod", keywatch.Alert{Rule: "expired-key-use", Severity: keywatch.SeverityHigh, Env: "prod"}, "everything-else"},
		{"volume high", keywatch.Alert{Rule: "volume-spike", Severity: keywatch.SeverityHigh}, "volume-spike"},
		{"volume critical", keywatch.Alert{Rule: "volume-spike", Severity: keywatch.SeverityCritical, Env: "dev"}, "volume-spike"},
		{"volume medium", keywatch.Alert{Rule: "volume-spike", Severity: keywatch.SeverityMedium}, "everything-else"},
		{"new country", keywatch.Alert{Rule: "new-country-high-tokens", Severity: keywatch.SeverityCritical, Env: "prod"}, "everything-else"},
		{"unknown severity", keywatch.Alert{Rule: "volume-spike", Severity: "bogus"}, "everything-else"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := p.Decide(&tt.alert)
			if r == nil || r.Name != tt.want {
				t.Fatalf("Decide = %v, want %s", r, tt.want)
			}
		})
	}
	vs := p.Rules[1]
	want := []contain.ActionSpec{
		{Kind: contain.KindClamp, Mode: contain.ModeAuto, Target: contain.TargetAll, ClampFactor: 1, MinRPM: contain.DefaultMinRPM, MinTPM: contain.DefaultMinTPM},
		{Kind: contain.KindDisable, Mode: contain.ModeConfirm, Target: contain.TargetAll},
	}
	if d := cmp.Diff(want, vs.Actions); d != "" {
		t.Errorf("volume-spike actions (-want +got):\n%s", d)
	}
	if n := p.Rules[2].Actions[0]; n.Mode != contain.ModeAuto || n.Target != contain.TargetWebhook {
		t.Errorf("notify defaults: %+v", n)
	}
}

func TestMatchFields(t *testing.T) {
	m := contain.Match{Services: []string{"search"}, Envs: []string{"prod", "staging"}}
	for _, tt := range []struct {
		a    keywatch.Alert
		want bool
	}{
		{keywatch.Alert{Service: "search", Env: "prod"}, true},
		{keywatch.Alert{Service: "search", Env: "dev"}, false},
		{keywatch.Alert{Service: "billing", Env: "prod"}, false},
		{keywatch.Alert{}, false},
	} {
		if got := m.Matches(&tt.a); got != tt.want {
			t.Errorf("Matches(%s/%s) = %v", tt.a.Service, tt.a.Env, got)
		}
	}
	if !(&contain.Match{}).Matches(&keywatch.Alert{}) {
		t.Error("empty match should match everything")
	}
}

func TestParsePolicyErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings, all in one error
	}{
		{"unknown field", "version: 1\nrules:\n  - match: {rulez: [x]}\n    actions: [{kind: notify}]\n", []string{"rulez"}},
		{"every problem at once", `version: 2
rules:
  - name: a
    match: {severity_at_least: huge}
    actions:
      - {kind: nuke}
      - {kind: clamp, mode: later, target: mars, clamp_factor: -1}
      - {kind: disable, clamp_factor: 2}
      - {kind: notify, mode: confirm}
  - name: a
    actions: []
`, []string{"version 2", "severity_at_least \"huge\"", "kind \"nuke\"", "mode \"later\"", "target \"mars\"",
			"clamp_factor -1", "apply to clamp only", "notify cannot wait", "duplicate name", "no actions"}},
		{"not yaml", "rules: [", []string{"parse policy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := contain.ParsePolicy([]byte(tt.yaml))
			if err == nil {
				t.Fatal("want an error")
			}
			if keywatch.ErrorCode(err) != keywatch.EINVALID {
				t.Errorf("code %s", keywatch.ErrorCode(err))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestClampLimits(t *testing.T) {
	spec := contain.ActionSpec{Kind: contain.KindClamp, ClampFactor: 1.5, MinRPM: 10, MinTPM: 1000}
	tests := []struct {
		name     string
		evidence map[string]any
		quotas   keywatch.Quotas
		want     contain.Limits
	}{
		{"requests baseline", map[string]any{"measure": "requests", "baseline_per_min": 40.0}, keywatch.Quotas{}, contain.Limits{RPM: 60}},
		{"int baseline", map[string]any{"baseline_per_min": 40}, keywatch.Quotas{}, contain.Limits{RPM: 60}},
		{"floor", map[string]any{"measure": "requests", "baseline_per_min": 2.0}, keywatch.Quotas{}, contain.Limits{RPM: 10}},
		{"tokens baseline", map[string]any{"measure": "tokens", "baseline_per_min": 5000.0}, keywatch.Quotas{}, contain.Limits{TPM: 7500}},
		{"tokens floor", map[string]any{"measure": "tokens", "baseline_per_min": 10.0}, keywatch.Quotas{}, contain.Limits{TPM: 1000}},
		{"no baseline", map[string]any{}, keywatch.Quotas{}, contain.Limits{RPM: 10}},
		{"declared quota lower", map[string]any{"baseline_per_min": 400.0}, keywatch.Quotas{RPM: 100, TPM: 9000}, contain.Limits{RPM: 100, TPM: 9000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &keywatch.StoredKey{Key: keywatch.Key{Quotas: tt.quotas}}
			got := spec.ClampLimits(&keywatch.Alert{Evidence: tt.evidence}, k)
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
