package keywatch

import "time"

// Severity ranks an alert.
type Severity string

// Severities, lowest first.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// AlertStatus is where an alert is in its lifecycle.
type AlertStatus string

// Alert states.
const (
	AlertOpen          AlertStatus = "open"
	AlertAcknowledged  AlertStatus = "acknowledged"
	AlertConfirmed     AlertStatus = "confirmed"
	AlertFalsePositive AlertStatus = "false_positive"
	AlertResolved      AlertStatus = "resolved"
)

// Alert is one detection, in the alert schema of DESIGN.md. Evidence holds the
// figures that fired the rule (observed against baseline) and never a secret.
type Alert struct {
	ID         string         `json:"id"`
	Time       time.Time      `json:"time"`        // event time of the event that fired it
	DetectedAt time.Time      `json:"detected_at"` // wall clock
	KeyID      string         `json:"key_id"`
	Service    string         `json:"service,omitempty"`
	Env        string         `json:"env,omitempty"`
	Owner      string         `json:"owner,omitempty"`
	Rule       string         `json:"rule"`
	Severity   Severity       `json:"severity"`
	Title      string         `json:"title"`
	Summary    string         `json:"summary"`
	Evidence   map[string]any `json:"evidence"`
	FirstSeen  time.Time      `json:"first_seen"` // event time of the incident's first event
	Tags       []string       `json:"tags"`
	Status     AlertStatus    `json:"status"`
	Actions    []Action       `json:"actions"`
}

// Action is one containment step taken on an alert's key.
type Action struct {
	Kind   string    `json:"kind"` // notify, clamp, disable, rotate
	Target string    `json:"target,omitempty"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor,omitempty"`
	Detail string    `json:"detail,omitempty"`
}
