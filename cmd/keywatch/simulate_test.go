package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywatch/keywatch/sim"
)

// runCmd runs keywatch in-process and returns its exit status, stdout and
// stderr.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
	code := run(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

func TestSimulateAndEval(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCmd(t, "simulate", "--out", dir, "--services", "3", "--days", "15", "--seed", "5")
	if code != 0 {
		t.Fatalf("simulate exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "attacks over 15 days") {
		t.Errorf("simulate summary missing: %q", stderr)
	}
	if strings.Contains(stderr, "\r") {
		t.Errorf("progress shown when not on a terminal: %q", stderr)
	}
	// a perfect detector: one alert at the start of each attack
	b, err := os.ReadFile(filepath.Join(dir, sim.LabelsFile))
	if err != nil {
		t.Fatal(err)
	}
	var labels []sim.Label
	if err := json.Unmarshal(b, &labels); err != nil {
		t.Fatal(err)
	}
	var alerts bytes.Buffer
	for _, l := range labels {
		fmt.Fprintf(&alerts, `{"time":%q,"key_id":%q,"rule":"test"}`+"\n", l.Start.Format("2006-01-02T15:04:05.000Z07:00"), l.KeyID)
	}
	alertsPath := filepath.Join(t.TempDir(), "alerts.jsonl")
	if err := os.WriteFile(alertsPath, alerts.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, "eval", "--json", "--labels", filepath.Join(dir, sim.LabelsFile), "--alerts", alertsPath)
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, stderr)
	}
	var rep sim.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Recall != 1 || rep.Precision != 1 || rep.MeanMTTDSeconds != 0 || rep.KeyDays == 0 || len(rep.Labels) != len(labels) {
		t.Errorf("perfect detector scored recall %v precision %v mttd %v key-days %d labels %d",
			rep.Recall, rep.Precision, rep.MeanMTTDSeconds, rep.KeyDays, len(rep.Labels))
	}
	code, stdout, _ = runCmd(t, "eval", "--labels", filepath.Join(dir, sim.LabelsFile), "--alerts", alertsPath)
	if code != 0 || !strings.Contains(stdout, "recall") {
		t.Errorf("eval text exit %d:\n%s", code, stdout)
	}
}

func TestSimulateEvalUsage(t *testing.T) {
	labels := filepath.Join("..", "..", "sim", "testdata", "eval", "labels.json")
	alerts := filepath.Join("..", "..", "sim", "testdata", "eval", "alerts.jsonl")
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"simulate help", []string{"simulate", "--help"}, 0, "Example:"},
		{"simulate no out", []string{"simulate"}, 2, "--out"},
		{"simulate bad start", []string{"simulate", "--out", t.TempDir(), "--start", "tomorrow"}, 2, "--start"},
		{"simulate bad days", []string{"simulate", "--out", t.TempDir(), "--days", "0"}, 2, "days"},
		{"simulate bad flag", []string{"simulate", "--nope"}, 2, "nope"},
		{"eval help", []string{"eval", "--help"}, 0, "Example:"},
		{"eval no labels", []string{"eval", "--alerts", alerts}, 2, "--labels"},
		{"eval missing labels file", []string{"eval", "--labels", "nope.json", "--alerts", alerts, "--key-days", "5"}, 2, "labels"},
		{"eval missing alerts file", []string{"eval", "--labels", labels, "--alerts", "nope.jsonl", "--key-days", "5"}, 2, "alerts"},
		{"eval no key-days", []string{"eval", "--labels", labels, "--alerts", alerts}, 2, "key-days"},
		{"eval ok with bad lines", []string{"eval", "--labels", labels, "--alerts", alerts, "--key-days", "100"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}
