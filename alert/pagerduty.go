package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/keywatch/keywatch"
)

// DefaultPagerDutyURL is the base URL of PagerDuty's Events API v2.
const DefaultPagerDutyURL = "https://events.pagerduty.com"

// PagerDuty sends events to PagerDuty's Events API v2 (POST /v2/enqueue).
// A trigger carries the full payload; acknowledge and resolve carry only
// the routing key, the dedup key and the action, as PagerDuty expects. The
// dedup key is DedupKey(alert): the same for every event of one alert, so
// a resolve closes the incident its trigger opened.
//
// PagerDuty answers 202 on success; 400 (an invalid event) is permanent,
// 429 and 5xx are retryable.
type PagerDuty struct {
	// BaseURL is the API's base URL; empty means DefaultPagerDutyURL.
	BaseURL string
	// Source is payload.source, the system the alert is about; empty means
	// "keywatch".
	Source string
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
}

// pdSeverity maps keywatch severities to PagerDuty's.
var pdSeverity = map[keywatch.Severity]string{
	keywatch.SeverityCritical: "critical",
	keywatch.SeverityHigh:     "error",
	keywatch.SeverityMedium:   "warning",
	keywatch.SeverityLow:      "info",
}

// pdEvent is an Events API v2 event.
type pdEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Payload     *pdPayload `json:"payload,omitempty"`
	Client      string     `json:"client,omitempty"`
	ClientURL   string     `json:"client_url,omitempty"`
	Links       []pdLink   `json:"links,omitempty"`
}

type pdPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

type pdLink struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// pdResponse is PagerDuty's answer, success or not.
type pdResponse struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key"`
	Errors   []string `json:"errors"`
}

// maxDedupKey and maxSummary are PagerDuty's limits.
const (
	maxDedupKey = 255
	maxSummary  = 1024
)

// DedupKey returns the PagerDuty dedup key of a: keywatch:<key id>:<rule>:
// <alert id>, stable across trigger, acknowledge and resolve. A key longer
// than PagerDuty's 255 characters becomes keywatch:sha256:<hex> of the
// same text, as stable.
func DedupKey(a *keywatch.Alert) string {
	k := "keywatch:" + a.KeyID + ":" + a.Rule + ":" + a.ID
	if len(k) <= maxDedupKey {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return "keywatch:sha256:" + hex.EncodeToString(sum[:])
}

// Notify enqueues n with the routing key n.Dest.Key.
func (p *PagerDuty) Notify(ctx context.Context, n *Notification) error {
	if n.Dest.Key == "" {
		return permanent(n.Dest, "no routing key")
	}
	body, err := json.Marshal(p.event(n))
	if err != nil {
		return permanent(n.Dest, "encode event: %v", err)
	}
	base := p.BaseURL
	if base == "" {
		base = DefaultPagerDutyURL
	}
	r, err := post(ctx, p.Client, n.Dest, strings.TrimRight(base, "/")+"/v2/enqueue", body, nil)
	if err != nil {
		return err
	}
	var pr pdResponse
	reason := bodyReason(r.body)
	if json.Unmarshal(r.body, &pr) == nil && pr.Message != "" {
		reason = pr.Message
		if len(pr.Errors) > 0 {
			reason += ": " + strings.Join(pr.Errors, "; ")
		}
		reason = bodyReason([]byte(reason))
	}
	return check(n.Dest, r, reason)
}

// event builds the Events API v2 event for n.
func (p *PagerDuty) event(n *Notification) *pdEvent {
	a := n.Alert
	e := &pdEvent{RoutingKey: n.Dest.Key, EventAction: string(n.Event), DedupKey: DedupKey(a)}
	if n.Event != Trigger {
		return e
	}
	source := p.Source
	if source == "" {
		source = "keywatch"
	}
	sev := pdSeverity[a.Severity]
	if sev == "" {
		sev = "error"
	}
	details := map[string]any{
		"alert_id": a.ID,
		"key_id":   a.KeyID,
		"rule":     a.Rule,
		"severity": string(a.Severity),
	}
	for k, v := range map[string]string{"service": a.Service, "env": a.Env, "owner": a.Owner} {
		if v != "" {
			details[k] = v
		}
	}
	if !a.FirstSeen.IsZero() {
		details["first_seen"] = a.FirstSeen.UTC().Format(time.RFC3339Nano)
	}
	if !a.DetectedAt.IsZero() {
		details["detected_at"] = a.DetectedAt.UTC().Format(time.RFC3339Nano)
	}
	if len(a.Tags) > 0 {
		details["tags"] = a.Tags
	}
	if len(a.Evidence) > 0 {
		details["evidence"] = a.Evidence
	}
	e.Payload = &pdPayload{
		Summary:       truncate(a.Title+": "+a.Summary, maxSummary),
		Source:        source,
		Severity:      sev,
		Component:     a.KeyID,
		Group:         a.Service,
		Class:         a.Rule,
		CustomDetails: details,
	}
	if !a.Time.IsZero() {
		e.Payload.Timestamp = a.Time.UTC().Format(time.RFC3339Nano)
	}
	e.Client = "keywatch"
	if n.Link != "" {
		e.ClientURL = n.Link
		e.Links = []pdLink{{Href: n.Link, Text: "Alert in keywatch"}}
	}
	return e
}
