package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keywatch/keywatch"
)

// Slack posts to Slack incoming webhooks. The message has a plain `text`
// fallback (what notifications and old clients show) and Block Kit
// `blocks`: a header with severity and title, the summary, fields for key,
// service, owner, rule, environment and first seen, a few evidence figures,
// the tags, and a button to the alert when the notification has a Link.
//
// Slack answers 200 with the body "ok" on success. Error bodies such as
// invalid_payload, no_text, channel_not_found or channel_is_archived are
// permanent errors; 429 (honouring Retry-After) and 5xx are retryable.
//
// Everything taken from the alert is escaped for Slack's mrkdwn (&, <, >),
// since evidence holds what the caller sent (user agents, models): an
// attacker must not be able to inject <!channel> or a link.
type Slack struct {
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
}

// maxEvidence is how many evidence figures a Slack message shows.
const maxEvidence = 8

// Notify posts n to the Slack webhook n.Dest.URL.
func (s *Slack) Notify(ctx context.Context, n *Notification) error {
	if n.Dest.URL == "" {
		return permanent(n.Dest, "no webhook URL")
	}
	body, err := json.Marshal(slackMessage(n))
	if err != nil {
		return permanent(n.Dest, "encode message: %v", err)
	}
	r, err := post(ctx, s.Client, n.Dest, n.Dest.URL, body, nil)
	if err != nil {
		return err
	}
	reason := bodyReason(r.body)
	if r.status == http.StatusOK && reason != "ok" {
		// Slack's documented errors come with 4xx statuses; a 200 that
		// is not "ok" is not a delivery either.
		return &DeliveryError{Dest: n.Dest.String(), Status: r.status, Reason: scrub(reason, n.Dest), Permanent: true}
	}
	return check(n.Dest, r, reason)
}

// slackText is a Block Kit text object.
type slackText struct {
	Type  string `json:"type"` // plain_text or mrkdwn
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// slackBlock is the subset of Block Kit blocks keywatch uses.
type slackBlock struct {
	Type     string         `json:"type"`
	Text     *slackText     `json:"text,omitempty"`
	Fields   []slackText    `json:"fields,omitempty"`
	Elements []slackElement `json:"elements,omitempty"`
}

// slackElement is a context text or an actions button.
type slackElement struct {
	Type string `json:"type"`
	Text any    `json:"text,omitempty"` // string for mrkdwn context elements, *slackText for buttons
	URL  string `json:"url,omitempty"`
}

// slackPayload is the body posted to an incoming webhook.
type slackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

var severityEmoji = map[keywatch.Severity]string{
	keywatch.SeverityCritical: ":red_circle:",
	keywatch.SeverityHigh:     ":large_orange_circle:",
	keywatch.SeverityMedium:   ":large_yellow_circle:",
	keywatch.SeverityLow:      ":large_blue_circle:",
}

// slackMessage builds the message posted for n.
func slackMessage(n *Notification) *slackPayload {
	a := n.Alert
	sev := strings.ToUpper(string(a.Severity))
	prefix, emoji := "", severityEmoji[a.Severity]
	switch n.Event {
	case Acknowledge:
		prefix, emoji = "Acknowledged: ", ":eyes:"
	case Resolve:
		prefix, emoji = "Resolved: ", ":white_check_mark:"
	}
	if emoji == "" {
		emoji = ":warning:"
	}
	text := fmt.Sprintf("%s[%s] %s: %s (key %s)", prefix, sev, a.Title, a.Summary, a.KeyID)

	blocks := []slackBlock{
		{Type: "header", Text: &slackText{Type: "plain_text", Emoji: true,
			Text: truncate(fmt.Sprintf("%s %s%s: %s", emoji, prefix, sev, a.Title), 150)}},
		{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate(esc(a.Summary), 3000)}},
	}
	var fields []slackText
	field := func(name, value string) {
		if value != "" {
			fields = append(fields, slackText{Type: "mrkdwn", Text: truncate("*"+name+"*\n"+value, 2000)})
		}
	}
	field("Key", code(a.KeyID))
	field("Service", esc(a.Service))
	field("Owner", esc(a.Owner))
	field("Rule", code(a.Rule))
	field("Environment", esc(a.Env))
	if !a.FirstSeen.IsZero() {
		field("First seen", a.FirstSeen.UTC().Format(time.RFC3339))
	}
	if len(fields) > 0 {
		blocks = append(blocks, slackBlock{Type: "section", Fields: fields})
	}
	if ev := evidenceLines(a.Evidence, maxEvidence); len(ev) > 0 {
		blocks = append(blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn",
			Text: truncate("*Evidence*\n"+strings.Join(ev, "\n"), 3000)}})
	}
	var ctx []string
	if len(a.Tags) > 0 {
		tags := make([]string, len(a.Tags))
		for i, t := range a.Tags {
			tags[i] = code(t)
		}
		ctx = append(ctx, strings.Join(tags, " "))
	}
	ctx = append(ctx, "alert "+code(a.ID))
	blocks = append(blocks, slackBlock{Type: "context", Elements: []slackElement{
		{Type: "mrkdwn", Text: truncate(strings.Join(ctx, " · "), 3000)},
	}})
	if n.Link != "" {
		blocks = append(blocks, slackBlock{Type: "actions", Elements: []slackElement{
			{Type: "button", Text: &slackText{Type: "plain_text", Text: "Open in keywatch"}, URL: n.Link},
		}})
	}
	return &slackPayload{Text: esc(text), Blocks: blocks}
}

// figures returns up to limit evidence figures as name and value, by
// name, leaving out empty values, and how many more there are.
func figures(ev map[string]any, limit int) (out [][2]string, more int) {
	for _, k := range slices.Sorted(maps.Keys(ev)) {
		v := formatValue(ev[k])
		if v == "" {
			continue
		}
		if len(out) == limit {
			more++
			continue
		}
		out = append(out, [2]string{k, truncate(v, 200)})
	}
	return out, more
}

// evidenceLines renders evidence figures as mrkdwn bullets.
func evidenceLines(ev map[string]any, limit int) []string {
	fs, more := figures(ev, limit)
	var lines []string
	for _, f := range fs {
		lines = append(lines, "• "+esc(f[0])+": "+esc(f[1]))
	}
	if more > 0 {
		lines = append(lines, fmt.Sprintf("… and %d more", more))
	}
	return lines
}

// formatValue prints an evidence value; nil, empty strings and zero
// values of absent fields print as "".
func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return formatFloat(v)
	case float32:
		return formatFloat(float64(v))
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	case fmt.Stringer:
		return v.String()
	case []string:
		return strings.Join(v, ", ")
	default:
		return fmt.Sprint(v)
	}
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

// esc escapes the three characters Slack's mrkdwn gives meaning to.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// code formats s as inline code, escaped.
func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(esc(s), "`", "'") + "`"
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
