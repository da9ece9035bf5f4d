package keywatch

import (
	"net/netip"
	"slices"
	"time"
)

// Key is one API key as the inventory knows it. Every field but ID is
// optional; detection works without an inventory at all.
type Key struct {
	ID         string            `json:"id" yaml:"id"`
	Provider   string            `json:"provider,omitempty" yaml:"provider,omitempty"`
	Name       string            `json:"name,omitempty" yaml:"name,omitempty"`
	Owner      string            `json:"owner,omitempty" yaml:"owner,omitempty"`
	Team       string            `json:"team,omitempty" yaml:"team,omitempty"`
	Service    string            `json:"service,omitempty" yaml:"service,omitempty"`
	Env        string            `json:"env,omitempty" yaml:"env,omitempty"`
	OnCall     OnCall            `json:"oncall,omitzero" yaml:"oncall,omitempty"`
	Created    time.Time         `json:"created,omitzero" yaml:"-"`
	Expires    time.Time         `json:"expires,omitzero" yaml:"-"`
	Rotated    time.Time         `json:"rotated,omitzero" yaml:"-"`
	Status     KeyStatus         `json:"status,omitempty" yaml:"status,omitempty"`
	Models     []string          `json:"models,omitempty" yaml:"models,omitempty"`
	Operations []string          `json:"operations,omitempty" yaml:"operations,omitempty"`
	Countries  []string          `json:"countries,omitempty" yaml:"countries,omitempty"`
	CIDRs      []netip.Prefix    `json:"cidrs,omitempty" yaml:"-"`
	Quotas     Quotas            `json:"quotas,omitzero" yaml:"quotas,omitempty"`
	Labels     map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
}

// OnCall says where alerts on a key go. Webhook URLs and routing keys are
// credentials of their own and are never logged.
type OnCall struct {
	Slack     string `json:"slack,omitempty" yaml:"slack,omitempty"`
	PagerDuty string `json:"pagerduty,omitempty" yaml:"pagerduty,omitempty"`
	Webhook   string `json:"webhook,omitempty" yaml:"webhook,omitempty"`
	Email     string `json:"email,omitempty" yaml:"email,omitempty"`
}

// IsZero reports whether no route is set.
func (o OnCall) IsZero() bool { return o == OnCall{} }

// Quotas are a key's declared limits; zero means no limit.
type Quotas struct {
	RPM              int64   `json:"rpm,omitempty" yaml:"rpm,omitempty"`
	TPM              int64   `json:"tpm,omitempty" yaml:"tpm,omitempty"`
	TokensPerDay     int64   `json:"tokens_per_day,omitempty" yaml:"tokens_per_day,omitempty"`
	MonthlyBudgetUSD float64 `json:"monthly_budget_usd,omitempty" yaml:"monthly_budget_usd,omitempty"`
}

// IsZero reports whether no quota is set.
func (q Quotas) IsZero() bool { return q == Quotas{} }

// KeyStatus is a key's lifecycle state.
type KeyStatus string

// Key states. The empty status reads as active.
const (
	KeyActive   KeyStatus = "active"
	KeyClamped  KeyStatus = "clamped"
	KeyDisabled KeyStatus = "disabled"
	KeyRevoked  KeyStatus = "revoked"
)

// ExpiredAt reports whether the key is expired at t, or has been disabled or
// revoked, so that any use at t is use of a dead key.
func (k *Key) ExpiredAt(t time.Time) bool {
	if k.Status == KeyDisabled || k.Status == KeyRevoked {
		return true
	}
	return !k.Expires.IsZero() && !t.Before(k.Expires)
}

// AllowsModel reports whether the key's declared model allow-list admits
// model. An empty list admits everything.
func (k *Key) AllowsModel(model string) bool {
	return len(k.Models) == 0 || model == "" || slices.Contains(k.Models, model)
}

// AllowsOperation reports whether the key's declared operation allow-list
// admits op. An empty list admits everything.
func (k *Key) AllowsOperation(op string) bool {
	return len(k.Operations) == 0 || op == "" || slices.Contains(k.Operations, op)
}
