package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// DefaultAlertmanagerHold is how long Alertmanager keeps a triggered alert
// firing when keywatch says nothing more.
const DefaultAlertmanagerHold = 24 * time.Hour

// Alertmanager posts alerts into a Prometheus Alertmanager through its API
// v2 (POST {base}/api/v2/alerts), so that its routing, grouping, silences
// and inhibitions apply to keywatch alerts too. Labels identify the alert
// (alertname is the rule; alert_id keeps two incidents of one rule on one
// key apart, and makes resolve hit exactly its trigger); annotations carry
// the text.
//
// Alertmanager resolves an alert whose endsAt has passed. A trigger or an
// acknowledge sets endsAt to now + Hold, so that an alert that keywatch
// never resolves (a crash, a lost resolve) still fires for Hold rather
// than for Alertmanager's resolve_timeout (5 minutes by default); a
// resolve sets endsAt to now. Callers that keep an alert open longer than
// Hold send Trigger again. Alertmanager has no acknowledgement: an
// acknowledge re-posts the alert with status "acknowledged" in its
// annotations.
//
// Alertmanager answers 200 on success; 400 is permanent, 5xx retryable.
type Alertmanager struct {
	// Client sends the requests; nil means http.DefaultClient. Put
	// credentials (basic auth, bearer token, mTLS) in its Transport.
	Client *http.Client
	// Hold is how long a triggered alert fires unless resolved or
	// re-sent; 0 means DefaultAlertmanagerHold.
	Hold time.Duration
	// Now is the clock for endsAt; nil means time.Now.
	Now func() time.Time
}

// amAlert is API v2's postableAlert.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     string            `json:"startsAt,omitempty"`
	EndsAt       string            `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Notify posts n's alert to the Alertmanager at n.Dest.URL.
func (m *Alertmanager) Notify(ctx context.Context, n *Notification) error {
	if n.Dest.URL == "" {
		return permanent(n.Dest, "no Alertmanager URL")
	}
	body, err := json.Marshal([]amAlert{m.alert(n)})
	if err != nil {
		return permanent(n.Dest, "encode alert: %v", err)
	}
	r, err := post(ctx, m.Client, n.Dest, strings.TrimRight(n.Dest.URL, "/")+"/api/v2/alerts", body, nil)
	if err != nil {
		return err
	}
	return check(n.Dest, r, bodyReason(r.body))
}

// alert builds the postable alert for n.
func (m *Alertmanager) alert(n *Notification) amAlert {
	a := n.Alert
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	hold := m.Hold
	if hold <= 0 {
		hold = DefaultAlertmanagerHold
	}
	labels := map[string]string{"alertname": a.Rule, "alert_id": a.ID, "key_id": a.KeyID}
	for k, v := range map[string]string{
		"service": a.Service, "env": a.Env, "severity": string(a.Severity), "owner": a.Owner,
	} {
		if v != "" {
			labels[k] = v
		}
	}
	desc := a.Summary
	if ev := plainLines(a.Evidence); len(ev) > 0 {
		// Plain text: Alertmanager templates do their own escaping.
		desc += "\nEvidence:\n" + strings.Join(ev, "\n")
	}
	if len(a.Tags) > 0 {
		desc += "\nTags: " + strings.Join(a.Tags, ", ")
	}
	ann := map[string]string{"title": a.Title, "summary": a.Summary, "description": desc}
	if n.Event == Acknowledge {
		ann["status"] = "acknowledged"
	}
	start := a.FirstSeen
	if start.IsZero() {
		start = a.Time
	}
	out := amAlert{Labels: labels, Annotations: ann, GeneratorURL: n.Link}
	if !start.IsZero() {
		out.StartsAt = start.UTC().Format(time.RFC3339Nano)
	}
	end := now().Add(hold)
	if n.Event == Resolve {
		end = now()
	}
	out.EndsAt = end.UTC().Format(time.RFC3339Nano)
	return out
}

// plainLines renders evidence figures as plain "- name: value" lines.
func plainLines(ev map[string]any) []string {
	fs, more := figures(ev, maxEvidence)
	var lines []string
	for _, f := range fs {
		lines = append(lines, "- "+f[0]+": "+f[1])
	}
	if more > 0 {
		lines = append(lines, fmt.Sprintf("- and %d more", more))
	}
	return lines
}
