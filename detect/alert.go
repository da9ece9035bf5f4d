package detect

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/profile"
)

// Tags maps each rule to MITRE ATLAS techniques and OWASP LLM Top 10 (2025)
// entries: AML.T0040 AI Model Inference API Access, AML.T0034 Cost
// Harvesting, AML.T0055 Unsecured Credentials, AML.T0012 Valid Accounts;
// LLM10 Unbounded Consumption.
var Tags = map[string][]string{
	RuleVolumeSpike:    {"atlas:AML.T0040", "atlas:AML.T0034", "owasp:LLM10"},
	RuleNewCountry:     {"atlas:AML.T0040", "atlas:AML.T0055", "owasp:LLM10"},
	RuleModelDeviation: {"atlas:AML.T0040", "atlas:AML.T0034", "owasp:LLM10"},
	RuleNewASN:         {"atlas:AML.T0040", "atlas:AML.T0055"},
	RuleIPFanout:       {"atlas:AML.T0055", "atlas:AML.T0034", "owasp:LLM10"},
	RuleAuthFailures:   {"atlas:AML.T0012", "atlas:AML.T0055"},
	RuleExpiredKeyUse:  {"atlas:AML.T0012", "atlas:AML.T0055", "owasp:LLM10"},
}

// should reports whether rule i may fire now: it is enabled and has not
// fired on this key within the dedup period. A repeat inside the period
// extends it (one alert per incident). Detectors call it before building
// an alert, so that a long incident costs nothing per event.
func (c *check) should(i int) bool {
	if c.e.disabled[i] {
		return false
	}
	last := c.ks.LastFired[i]
	c.ks.LastFired[i] = c.t
	return last == 0 || c.t-last >= c.e.cfg.Dedup.Seconds()
}

// fire emits an alert for rule i; callers have checked should(i).
// incidentStart is the event time the incident's evidence starts at.
func (c *check) fire(i int, sev keywatch.Severity, incidentStart int64, title, summary string, evidence map[string]any) {
	ks := c.ks
	c.incident = true
	first := max(incidentStart, c.p.First)
	if first > c.t {
		first = c.t
	}
	ks.Incident[i] = first
	ev := c.ev
	rule := Rules[i]
	evidence["client_ip"] = addrOrNil(ev)
	evidence["country"] = ev.Country
	evidence["asn"] = ev.ASN
	evidence["user_agent"] = ev.UserAgent
	evidence["model"] = ev.Model
	a := &keywatch.Alert{
		ID:         alertID(ev.KeyID, rule, c.t),
		Time:       ev.Time.UTC(),
		DetectedAt: c.e.now(),
		KeyID:      ev.KeyID,
		Service:    ev.Service,
		Env:        ev.Env,
		Rule:       rule,
		Severity:   sev,
		Title:      title,
		Summary:    summary,
		Evidence:   evidence,
		FirstSeen:  time.Unix(first, 0).UTC(),
		Tags:       Tags[rule],
		Status:     keywatch.AlertOpen,
		Actions:    []keywatch.Action{},
	}
	if c.key != nil {
		a.Owner = c.key.Owner
	}
	c.e.stats.Alerts[rule]++
	c.emit(a)
}

func (e *Engine) now() time.Time {
	if e.Clock != nil {
		return e.Clock().UTC()
	}
	return time.Now().UTC()
}

// alertID derives a stable id from key, rule and event time, so that a
// replay of the same input names its alerts the same.
func alertID(key, rule string, t int64) string {
	h := fnv.New64a()
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(rule))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t))
	h.Write(b[:])
	return "kw-" + hex.EncodeToString(h.Sum(nil))
}

// origin describes where the event came from, for summaries.
func (c *check) origin() string {
	ev := c.ev
	var parts []string
	if ev.ClientIP.IsValid() {
		parts = append(parts, ev.ClientIP.String())
	}
	if ev.Country != "" {
		parts = append(parts, ev.Country)
	}
	if ev.ASN != 0 {
		parts = append(parts, fmt.Sprintf("AS%d", ev.ASN))
	}
	if len(parts) == 0 {
		return "an unknown address"
	}
	return strings.Join(parts, " ")
}

func (c *check) opDesc() string {
	switch {
	case c.ev.Operation != "" && c.ev.Model != "":
		return "for " + c.ev.Operation + " on " + c.ev.Model
	case c.ev.Model != "":
		return "on " + c.ev.Model
	}
	return ""
}

func (c *check) usualCountries() string {
	j := c.judge()
	if j == nil && c.key != nil && len(c.key.Countries) > 0 {
		return strings.Join(c.key.Countries, ", ")
	}
	if j == nil {
		return "not learned yet"
	}
	ids := j.Countries.EstablishedIDs(nil)
	if len(ids) == 0 {
		return "none"
	}
	codes := make([]string, len(ids))
	for i, id := range ids {
		codes[i] = profile.CountryCode(id)
	}
	slices.Sort(codes)
	return strings.Join(codes, ", ")
}

func (c *check) usualASNs() []uint32 {
	j := c.judge()
	if j == nil {
		return nil
	}
	ids := j.ASNs.EstablishedIDs(nil)
	slices.Sort(ids)
	return ids
}

func (c *check) usualModels(j *profile.Key) string {
	ids := j.Models.EstablishedIDs(nil)
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		names = append(names, c.e.syms.names[id])
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "no model yet"
	}
	return strings.Join(names, ", ")
}

func addrOrNil(ev *keywatch.Event) any {
	if !ev.ClientIP.IsValid() {
		return nil
	}
	return ev.ClientIP.String()
}

func statusOf(k *keywatch.Key) string {
	if k.Status == "" {
		return string(keywatch.KeyActive)
	}
	return string(k.Status)
}

func dateOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func baselineOf(service bool) string {
	if service {
		return "service"
	}
	return "key"
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func contains(list []string, s string) bool { return slices.Contains(list, s) }
