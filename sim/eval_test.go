package sim_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/sim"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func evalCase(t *testing.T) *sim.Report {
	t.Helper()
	labels, err := sim.ReadLabels("testdata/eval/labels.json")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/eval/alerts.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	alerts, bad, err := sim.ReadAlerts(f)
	if err != nil {
		t.Fatal(err)
	}
	rep := sim.Evaluate(labels, alerts, sim.EvalOptions{KeyDays: 100})
	rep.AddBadLines(bad)
	return rep
}

func TestEvaluate(t *testing.T) {
	rep := evalCase(t)
	type figures struct {
		Alerts, TP, False, BadLines, Detected, BenignKeyDays int
		Precision, Recall, MeanMTTD, FalsePer1000            float64
		MTTD                                                 []float64
		Detections                                           []bool
		Rules                                                [][]string
	}
	got := figures{
		Alerts: rep.Alerts, TP: rep.TruePositives, False: rep.FalseAlerts, BadLines: rep.BadAlertLines,
		Detected: rep.Detected, BenignKeyDays: rep.BenignKeyDays, Precision: rep.Precision, Recall: rep.Recall,
		MeanMTTD: rep.MeanMTTDSeconds, FalsePer1000: rep.FalsePer1000KeyDays,
	}
	for _, l := range rep.Labels {
		got.MTTD = append(got.MTTD, l.MTTDSeconds)
		got.Detections = append(got.Detections, l.Detected)
		got.Rules = append(got.Rules, l.Rules)
	}
	want := figures{
		Alerts: 6, TP: 3, False: 3, BadLines: 2, Detected: 2, BenignKeyDays: 97,
		Precision: 0.5, Recall: 2.0 / 3, MeanMTTD: 360, FalsePer1000: 3000.0 / 97,
		MTTD:       []float64{120, 600, 0},
		Detections: []bool{true, true, false},
		Rules:      [][]string{{"new-asn", "volume-spike"}, {"model-deviation"}, {}},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("figures (-want +got):\n%s", diff)
	}
	wantBad := []sim.BadLine{{Line: 4}, {Line: 8, Reason: "no key_id"}}
	if diff := cmp.Diff(wantBad, rep.BadAlertLineSamples, cmpopts.IgnoreFields(sim.BadLine{}, "Reason")); diff != "" || rep.BadAlertLineSamples[1].Reason != "no key_id" {
		t.Errorf("bad lines (-want +got):\n%s", diff)
	}

	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "eval/report.json", append(js, '\n'))
	var txt bytes.Buffer
	if err := rep.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	golden(t, "eval/report.txt", txt.Bytes())
}

func TestEvaluateEdges(t *testing.T) {
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	l := sim.Label{Scenario: sim.ScenarioAuthFailures, KeyID: "k", Start: at("2026-09-20T10:00:00Z"), End: at("2026-09-20T10:05:00Z")}
	tests := []struct {
		name      string
		labels    []sim.Label
		alerts    []*keywatch.Alert
		grace     time.Duration
		detected  int
		precision float64
	}{
		{"no alerts", []sim.Label{l}, nil, 0, 0, 0},
		{"no labels", nil, []*keywatch.Alert{{KeyID: "k", Time: l.Start}}, 0, 0, 0},
		{"alert at start", []sim.Label{l}, []*keywatch.Alert{{KeyID: "k", Time: l.Start}}, 0, 1, 1},
		{"alert at end plus grace", []sim.Label{l}, []*keywatch.Alert{{KeyID: "k", Time: l.End.Add(sim.DefaultGrace)}}, 0, 1, 1},
		{"alert past a shorter grace", []sim.Label{l}, []*keywatch.Alert{{KeyID: "k", Time: l.End.Add(2 * time.Minute)}}, time.Minute, 0, 0},
		{"alert on another key", []sim.Label{l}, []*keywatch.Alert{{KeyID: "other", Time: l.Start}}, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := sim.Evaluate(tt.labels, tt.alerts, sim.EvalOptions{Grace: tt.grace, KeyDays: 10})
			if rep.Detected != tt.detected || rep.Precision != tt.precision {
				t.Errorf("detected %d precision %v, want %d %v", rep.Detected, rep.Precision, tt.detected, tt.precision)
			}
		})
	}
}

func TestReadAlertsLongLine(t *testing.T) {
	in := `{"time":"2026-09-20T10:00:00Z","key_id":"k","rule":"r","summary":"` + strings.Repeat("x", 5<<20) + "\"}\n" +
		`{"time":"2026-09-20T10:00:00Z","key_id":"k","rule":"r"}`
	alerts, bad, err := sim.ReadAlerts(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || len(bad) != 1 || bad[0].Line != 1 {
		t.Errorf("alerts %d, bad %+v; want 1 alert and line 1 bad", len(alerts), bad)
	}
}
