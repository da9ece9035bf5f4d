// Package contain turns alerts into containment: a Policy maps each alert
// to actions (notify, clamp, disable, rotate), each automatic or waiting for
// a person's confirmation, and Actuators carry them out on keywatch's own
// inventory (read by the gateway), a LiteLLM proxy, the OpenAI and
// Anthropic Admin APIs, or a signed webhook. The Engine ties them to the
// Store: every action is idempotent, audited with who and why, recorded on
// the alert, and reversible where the target allows.
package contain

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/keywatch/keywatch"
)

// Kind is what an action does to a key.
type Kind string

// Action kinds. Enable is never chosen by a policy: it is what reverting a
// disable does.
const (
	KindNotify  Kind = "notify"
	KindClamp   Kind = "clamp"
	KindDisable Kind = "disable"
	KindRotate  Kind = "rotate"
	KindEnable  Kind = "enable"
)

// Mode says whether an action runs at once or waits for a person.
type Mode string

// Modes.
const (
	ModeAuto    Mode = "auto"
	ModeConfirm Mode = "confirm"
)

// Target names where an action takes effect.
type Target string

// Targets. TargetGateway is keywatch's own inventory status, which the
// gateway reads on every request; TargetAll is the gateway, the actuator of
// the key's provider (litellm, openai or anthropic) and the webhook, each
// when configured.
const (
	TargetGateway   Target = "gateway"
	TargetLiteLLM   Target = "litellm"
	TargetOpenAI    Target = "openai"
	TargetAnthropic Target = "anthropic"
	TargetWebhook   Target = "webhook"
	TargetAll       Target = "all"
)

// PolicyVersion is the only policy file version this package reads.
const PolicyVersion = 1

// Defaults for ActionSpec.
const (
	DefaultClampFactor = 1.0
	DefaultMinRPM      = 10
	DefaultMinTPM      = 1000
)

// Policy maps alerts to containment actions. Rules are tried in order and
// the first that matches decides; an alert no rule matches gets no action.
type Policy struct {
	Version int    `yaml:"version"`
	Rules   []Rule `yaml:"rules"`
}

// Rule is one entry of a Policy.
type Rule struct {
	// Name identifies the rule in audit reasons; it defaults to "rule N".
	Name    string       `yaml:"name"`
	Match   Match        `yaml:"match"`
	Actions []ActionSpec `yaml:"actions"`
}

// Match selects alerts. Empty fields match everything; lists match when
// they contain the alert's value.
type Match struct {
	Rules           []string          `yaml:"rules"` // detector rule ids
	SeverityAtLeast keywatch.Severity `yaml:"severity_at_least"`
	Envs            []string          `yaml:"envs"`
	Services        []string          `yaml:"services"`
}

// ActionSpec is one action a Rule takes.
type ActionSpec struct {
	Kind Kind `yaml:"kind"`
	// Mode defaults to auto for notify and to confirm otherwise: a policy
	// must say auto to act on a key without a person.
	Mode Mode `yaml:"mode"`
	// Target defaults to all (notify: webhook).
	Target Target `yaml:"target"`
	// ClampFactor m sets a clamp's quota to baseline x m, the baseline
	// being the alert's evidence baseline_per_min; default 1.
	ClampFactor float64 `yaml:"clamp_factor"`
	// MinRPM and MinTPM floor a clamp's limits so that a tiny or missing
	// baseline does not stop the key altogether.
	MinRPM int64 `yaml:"min_rpm"`
	MinTPM int64 `yaml:"min_tpm"`
}

// DefaultPolicyYAML is the policy used when none is configured.
const DefaultPolicyYAML = `version: 1
rules:
  - name: dead-or-fanned-out-prod-key
    match:
      rules: [expired-key-use, ip-fanout]
      severity_at_least: critical
      envs: [prod]
    actions:
      - {kind: disable, mode: auto, target: all}
  - name: volume-spike
    match:
      rules: [volume-spike]
      severity_at_least: high
    actions:
      - {kind: clamp, mode: auto, target: all, clamp_factor: 1.0}
      - {kind: disable, mode: confirm, target: all}
  - name: everything-else
    actions:
      - {kind: notify}
`

// DefaultPolicy returns the default policy: use of a dead key or an
// address fan-out, critical, in prod is disabled at once; a high volume
// spike is clamped to its baseline at once and disabled on confirmation;
// everything else is notified only.
func DefaultPolicy() *Policy {
	p, err := ParsePolicy([]byte(DefaultPolicyYAML))
	if err != nil {
		panic("contain: default policy: " + err.Error()) // a bug, covered by tests
	}
	return p
}

// ParsePolicy decodes a YAML policy strictly (unknown fields are errors),
// fills defaults and validates it, reporting every problem at once.
func ParsePolicy(data []byte) (*Policy, error) {
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, keywatch.Errorf(keywatch.EINVALID, "parse policy: %v", err)
	}
	p.SetDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// SetDefaults fills unset fields with their defaults.
func (p *Policy) SetDefaults() {
	if p.Version == 0 {
		p.Version = PolicyVersion
	}
	for i := range p.Rules {
		r := &p.Rules[i]
		if r.Name == "" {
			r.Name = fmt.Sprintf("rule %d", i+1)
		}
		for j := range r.Actions {
			a := &r.Actions[j]
			if a.Mode == "" {
				a.Mode = ModeConfirm
				if a.Kind == KindNotify {
					a.Mode = ModeAuto
				}
			}
			if a.Target == "" {
				a.Target = TargetAll
				if a.Kind == KindNotify {
					a.Target = TargetWebhook
				}
			}
			if a.Kind == KindClamp {
				if a.ClampFactor == 0 {
					a.ClampFactor = DefaultClampFactor
				}
				if a.MinRPM == 0 {
					a.MinRPM = DefaultMinRPM
				}
				if a.MinTPM == 0 {
					a.MinTPM = DefaultMinTPM
				}
			}
		}
	}
}

var (
	severities = []keywatch.Severity{keywatch.SeverityLow, keywatch.SeverityMedium, keywatch.SeverityHigh, keywatch.SeverityCritical}
	kinds      = []Kind{KindNotify, KindClamp, KindDisable, KindRotate}
	targets    = []Target{TargetGateway, TargetLiteLLM, TargetOpenAI, TargetAnthropic, TargetWebhook, TargetAll}
)

// Validate reports every problem of p, each naming where it is.
func (p *Policy) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if p.Version != PolicyVersion {
		bad("version %d: want %d", p.Version, PolicyVersion)
	}
	names := map[string]bool{}
	for i, r := range p.Rules {
		at := fmt.Sprintf("rules[%d] (%s)", i, r.Name)
		if names[r.Name] {
			bad("%s: duplicate name", at)
		}
		names[r.Name] = true
		if s := r.Match.SeverityAtLeast; s != "" && !slices.Contains(severities, s) {
			bad("%s: severity_at_least %q: want low, medium, high or critical", at, s)
		}
		if len(r.Actions) == 0 {
			bad("%s: no actions (use kind: notify to only notify)", at)
		}
		for j, a := range r.Actions {
			at := fmt.Sprintf("%s.actions[%d]", at, j)
			if !slices.Contains(kinds, a.Kind) {
				bad("%s: kind %q: want notify, clamp, disable or rotate", at, a.Kind)
			}
			if a.Mode != ModeAuto && a.Mode != ModeConfirm {
				bad("%s: mode %q: want auto or confirm", at, a.Mode)
			}
			if !slices.Contains(targets, a.Target) {
				bad("%s: target %q: want gateway, litellm, openai, anthropic, webhook or all", at, a.Target)
			}
			if a.Kind == KindClamp {
				if a.ClampFactor <= 0 || math.IsNaN(a.ClampFactor) || math.IsInf(a.ClampFactor, 0) {
					bad("%s: clamp_factor %v: want a positive number", at, a.ClampFactor)
				}
				if a.MinRPM < 0 || a.MinTPM < 0 {
					bad("%s: min_rpm and min_tpm must not be negative", at)
				}
			} else if a.ClampFactor != 0 || a.MinRPM != 0 || a.MinTPM != 0 {
				bad("%s: clamp_factor, min_rpm and min_tpm apply to clamp only", at)
			}
			if a.Kind == KindNotify && a.Mode == ModeConfirm {
				bad("%s: notify cannot wait for confirmation", at)
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &keywatch.Error{Code: keywatch.EINVALID, Message: "invalid policy", Err: errors.Join(errs...)}
}

// Matches reports whether m selects alert a.
func (m *Match) Matches(a *keywatch.Alert) bool {
	if len(m.Rules) > 0 && !slices.Contains(m.Rules, a.Rule) {
		return false
	}
	if m.SeverityAtLeast != "" && severityRank(a.Severity) < severityRank(m.SeverityAtLeast) {
		return false
	}
	if len(m.Envs) > 0 && !slices.Contains(m.Envs, a.Env) {
		return false
	}
	if len(m.Services) > 0 && !slices.Contains(m.Services, a.Service) {
		return false
	}
	return true
}

// severityRank orders severities; unknown ones rank below low.
func severityRank(s keywatch.Severity) int { return slices.Index(severities, s) }

// Decide returns the first rule matching a, or nil when none does.
func (p *Policy) Decide(a *keywatch.Alert) *Rule {
	for i := range p.Rules {
		if p.Rules[i].Match.Matches(a) {
			return &p.Rules[i]
		}
	}
	return nil
}

// Limits are per-minute rate limits; zero means none.
type Limits struct {
	RPM int64 `json:"rpm,omitempty"`
	TPM int64 `json:"tpm,omitempty"`
}

// ClampLimits computes a clamp's limits for alert a: the baseline per
// minute from the evidence (baseline_per_min, of requests or of tokens as
// evidence "measure" says) times ClampFactor, floored by MinRPM and MinTPM.
// Without a baseline the floors apply. The limit not measured is left 0
// (unchanged) unless the key declares a quota, which is then kept as an
// upper bound.
func (s *ActionSpec) ClampLimits(a *keywatch.Alert, k *keywatch.StoredKey) Limits {
	base, ok := number(a.Evidence["baseline_per_min"])
	measure, _ := a.Evidence["measure"].(string)
	var l Limits
	if ok && base >= 0 {
		v := int64(math.Ceil(base * s.ClampFactor))
		if measure == "tokens" {
			l.TPM = v
		} else {
			l.RPM = v
		}
	} else {
		l.RPM = s.MinRPM
	}
	if l.RPM != 0 || measure != "tokens" {
		l.RPM = max(l.RPM, s.MinRPM)
	}
	if l.TPM != 0 {
		l.TPM = max(l.TPM, s.MinTPM)
	}
	if k != nil {
		if q := k.Quotas.RPM; q > 0 && (l.RPM == 0 || q < l.RPM) {
			l.RPM = q
		}
		if q := k.Quotas.TPM; q > 0 && (l.TPM == 0 || q < l.TPM) {
			l.TPM = q
		}
	}
	return l
}

// number reads a JSON number from evidence, which holds float64 after a
// store round trip and ints or floats when fresh from the detector.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, !math.IsNaN(n) && !math.IsInf(n, 0)
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}
