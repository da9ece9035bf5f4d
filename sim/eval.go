package sim

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/keywatch/keywatch"
)

// DefaultGrace is how long after an attack's last event an alert on its key
// still counts as detecting it.
const DefaultGrace = 15 * time.Minute

// EvalOptions tune Evaluate.
type EvalOptions struct {
	Grace   time.Duration // default DefaultGrace when zero
	KeyDays int           // key-days of the run (sim.json's key_days)
}

// BadLine is an alerts line that could not be read.
type BadLine struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// LabelResult is how one attack fared.
type LabelResult struct {
	Label
	Detected    bool      `json:"detected"`
	FirstAlert  time.Time `json:"first_alert,omitzero"`
	MTTDSeconds float64   `json:"mttd_seconds"` // 0 when missed
	Rules       []string  `json:"rules"`        // rules that fired on the key within the window, sorted
}

// ScenarioResult sums up the attacks of one scenario.
type ScenarioResult struct {
	Scenario        string   `json:"scenario"`
	Labels          int      `json:"labels"`
	Detected        int      `json:"detected"`
	MeanMTTDSeconds float64  `json:"mean_mttd_seconds"` // over detected attacks; 0 when none
	Rules           []string `json:"rules"`
}

// Report is the result of Evaluate. False alerts are counted per 1000 benign
// key-days: key-days minus the (key, UTC day) pairs that an attack window
// touches.
type Report struct {
	Labels              []LabelResult    `json:"labels"`
	Scenarios           []ScenarioResult `json:"scenarios"`
	Alerts              int              `json:"alerts"`
	TruePositives       int              `json:"true_positives"`
	FalseAlerts         int              `json:"false_alerts"`
	FalseAlertsByRule   map[string]int   `json:"false_alerts_by_rule"`
	KeyDays             int              `json:"key_days"`
	BenignKeyDays       int              `json:"benign_key_days"`
	FalsePer1000KeyDays float64          `json:"false_alerts_per_1000_benign_key_days"`
	Precision           float64          `json:"precision"` // 0 when there are no alerts
	Recall              float64          `json:"recall"`    // 0 when there are no labels
	Detected            int              `json:"detected"`
	MeanMTTDSeconds     float64          `json:"mean_mttd_seconds"`
	GraceSeconds        float64          `json:"grace_seconds"`
	BadAlertLines       int              `json:"bad_alert_lines"`
	BadAlertLineSamples []BadLine        `json:"bad_alert_line_samples"` // the first few
}

// maxBadSamples bounds Report.BadAlertLineSamples.
const maxBadSamples = 20

// AddBadLines records alert lines that could not be read.
func (r *Report) AddBadLines(bad []BadLine) {
	r.BadAlertLines += len(bad)
	for _, b := range bad {
		if len(r.BadAlertLineSamples) < maxBadSamples {
			r.BadAlertLineSamples = append(r.BadAlertLineSamples, b)
		}
	}
}

// Evaluate scores alerts against labels. An alert is a true positive when
// its key has a label whose [start, end+grace] holds the alert's time; a
// label is detected when such an alert exists, and its MTTD is the first
// one's time minus the label's start, in event time.
func Evaluate(labels []Label, alerts []*keywatch.Alert, opt EvalOptions) *Report {
	grace := cmp.Or(opt.Grace, DefaultGrace)
	rep := &Report{
		Labels: make([]LabelResult, len(labels)), Alerts: len(alerts), KeyDays: opt.KeyDays,
		GraceSeconds: grace.Seconds(), FalseAlertsByRule: map[string]int{}, BadAlertLineSamples: []BadLine{},
	}
	byKey := map[string][]*keywatch.Alert{}
	for _, a := range alerts {
		byKey[a.KeyID] = append(byKey[a.KeyID], a)
	}
	for _, as := range byKey {
		slices.SortStableFunc(as, func(x, y *keywatch.Alert) int { return x.Time.Compare(y.Time) })
	}
	in := func(l Label, t time.Time) bool { return !t.Before(l.Start) && !t.After(l.End.Add(grace)) }
	var mttdSum float64
	for i, l := range labels {
		lr := LabelResult{Label: l, Rules: []string{}}
		for _, a := range byKey[l.KeyID] {
			if !in(l, a.Time) {
				continue
			}
			if !lr.Detected {
				lr.Detected, lr.FirstAlert = true, a.Time
				lr.MTTDSeconds = a.Time.Sub(l.Start).Seconds()
			}
			if !slices.Contains(lr.Rules, a.Rule) {
				lr.Rules = append(lr.Rules, a.Rule)
			}
		}
		slices.Sort(lr.Rules)
		if lr.Detected {
			rep.Detected++
			mttdSum += lr.MTTDSeconds
		}
		rep.Labels[i] = lr
	}
	for _, a := range alerts {
		tp := false
		for _, l := range labels {
			if l.KeyID == a.KeyID && in(l, a.Time) {
				tp = true
				break
			}
		}
		if tp {
			rep.TruePositives++
		} else {
			rep.FalseAlerts++
			rep.FalseAlertsByRule[a.Rule]++
		}
	}
	if rep.Alerts > 0 {
		rep.Precision = float64(rep.TruePositives) / float64(rep.Alerts)
	}
	if len(labels) > 0 {
		rep.Recall = float64(rep.Detected) / float64(len(labels))
	}
	if rep.Detected > 0 {
		rep.MeanMTTDSeconds = mttdSum / float64(rep.Detected)
	}
	rep.BenignKeyDays = max(0, opt.KeyDays-attackKeyDays(labels))
	if rep.BenignKeyDays > 0 {
		rep.FalsePer1000KeyDays = float64(rep.FalseAlerts) * 1000 / float64(rep.BenignKeyDays)
	}
	rep.Scenarios = scenarios(rep.Labels)
	return rep
}

// attackKeyDays counts the distinct (key, UTC day) pairs that attack windows
// touch.
func attackKeyDays(labels []Label) int {
	type kd struct {
		key string
		day int64
	}
	seen := map[kd]bool{}
	for _, l := range labels {
		for d := l.Start.Unix() / 86400; d <= l.End.Unix()/86400; d++ {
			seen[kd{l.KeyID, d}] = true
		}
	}
	return len(seen)
}

// scenarios sums label results by scenario, in the order of Scenarios, then
// any unknown scenario names sorted.
func scenarios(lrs []LabelResult) []ScenarioResult {
	var names []string
	for _, lr := range lrs {
		if !slices.Contains(names, lr.Scenario) {
			names = append(names, lr.Scenario)
		}
	}
	rank := func(s string) int {
		if i := slices.Index(Scenarios, s); i >= 0 {
			return i
		}
		return len(Scenarios)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b)) })
	out := make([]ScenarioResult, 0, len(names))
	for _, n := range names {
		sr := ScenarioResult{Scenario: n, Rules: []string{}}
		var sum float64
		for _, lr := range lrs {
			if lr.Scenario != n {
				continue
			}
			sr.Labels++
			if lr.Detected {
				sr.Detected++
				sum += lr.MTTDSeconds
			}
			for _, r := range lr.Rules {
				if !slices.Contains(sr.Rules, r) {
					sr.Rules = append(sr.Rules, r)
				}
			}
		}
		if sr.Detected > 0 {
			sr.MeanMTTDSeconds = sum / float64(sr.Detected)
		}
		slices.Sort(sr.Rules)
		out = append(out, sr)
	}
	return out
}

// ReadLabels reads a labels file (a JSON array of Label).
func ReadLabels(path string) ([]Label, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, keywatch.Errorf(keywatch.EINVALID, "read labels: %v", err)
	}
	var labels []Label
	if err := json.Unmarshal(b, &labels); err != nil {
		return nil, keywatch.Errorf(keywatch.EINVALID, "labels %s: %v", path, err)
	}
	for i, l := range labels {
		if l.KeyID == "" || l.Start.IsZero() || l.End.Before(l.Start) {
			return nil, keywatch.Errorf(keywatch.EINVALID, "labels %s: label %d: want key_id, start and end not before start", path, i+1)
		}
	}
	return labels, nil
}

// ReadMeta reads a sim.json metadata file.
func ReadMeta(path string) (*Meta, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, keywatch.Errorf(keywatch.EINVALID, "metadata %s: %v", path, err)
	}
	return &m, nil
}

// maxAlertLine bounds one alert line; longer lines are reported as bad.
const maxAlertLine = 4 << 20

// ReadAlerts reads alerts as JSON Lines in the schema of keywatch.Alert.
// Lines that are not valid alerts (bad JSON, no key_id or time) are
// returned as bad lines with their number and reason, and skipped. Blank
// lines are ignored. Only a read error is returned as an error.
func ReadAlerts(r io.Reader) ([]*keywatch.Alert, []BadLine, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		alerts []*keywatch.Alert
		bad    []BadLine
		line   []byte
	)
	for n := 1; ; n++ {
		line = line[:0]
		tooLong := false
		var err error
		for {
			var chunk []byte
			chunk, err = br.ReadSlice('\n')
			if len(line)+len(chunk) <= maxAlertLine {
				line = append(line, chunk...)
			} else {
				tooLong = true
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				break
			}
		}
		if err != nil && err != io.EOF {
			return alerts, bad, fmt.Errorf("read alerts: %w", err)
		}
		if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 || tooLong {
			if a, reason := parseAlert(trimmed, tooLong); reason != "" {
				bad = append(bad, BadLine{Line: n, Reason: reason})
			} else {
				alerts = append(alerts, a)
			}
		}
		if err == io.EOF {
			return alerts, bad, nil
		}
	}
}

func parseAlert(b []byte, tooLong bool) (*keywatch.Alert, string) {
	if tooLong {
		return nil, fmt.Sprintf("line longer than %d bytes", maxAlertLine)
	}
	a := new(keywatch.Alert)
	if err := json.Unmarshal(b, a); err != nil {
		return nil, err.Error()
	}
	switch {
	case a.KeyID == "":
		return nil, "no key_id"
	case a.Time.IsZero():
		return nil, "no time"
	}
	return a, ""
}
