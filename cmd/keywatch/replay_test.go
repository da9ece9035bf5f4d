package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/sim"
)

// simulated returns a folder with a small simulation (five services over
// sixteen days, with the attacks that fit), made once and shared: tests
// only read it.
func simulated(t *testing.T) string {
	t.Helper()
	simOnce.Do(func() {
		dir, err := os.MkdirTemp("", "keywatch-cmd-test-")
		if err != nil {
			simErr = err.Error()
			return
		}
		simDir = dir
		if code, _, stderr := runCmd(t, "simulate", "--out", dir, "--services", "5", "--days", "16", "--seed", "3"); code != 0 {
			simErr = fmt.Sprintf("simulate exit %d: %s", code, stderr)
		}
	})
	if simErr != "" {
		t.Fatal(simErr)
	}
	return simDir
}

var (
	simOnce sync.Once
	simDir  string
	simErr  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if simDir != "" {
		os.RemoveAll(simDir)
	}
	os.Exit(code)
}

func readAlerts(t *testing.T, path string) []*keywatch.Alert {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	alerts, bad, err := sim.ReadAlerts(f)
	if err != nil || len(bad) > 0 {
		t.Fatalf("alerts file: %v, %d bad lines", err, len(bad))
	}
	return alerts
}

func TestReplayDetectsSimulatedAttacks(t *testing.T) {
	dir := simulated(t)
	out := filepath.Join(t.TempDir(), "alerts.jsonl")
	code, _, stderr := runCmd(t, "replay", "--inventory", filepath.Join(dir, "inventory.yaml"),
		"--geoip", filepath.Join(dir, "geoip.mmdb"), "--asn", filepath.Join(dir, "asn.mmdb"),
		"--out", out, filepath.Join(dir, "events.jsonl.gz"))
	if code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr)
	}
	for _, want := range []string{"replay: ", "events from 1 file(s), 0 bad lines", "alerts by rule: "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
	alerts := readAlerts(t, out)
	labels, err := sim.ReadLabels(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(labels) == 0 {
		t.Fatal("simulation has no attacks")
	}
	rep := sim.Evaluate(labels, alerts, sim.EvalOptions{KeyDays: 1})
	if rep.Detected != len(labels) || rep.FalseAlerts != 0 {
		var b bytes.Buffer
		rep.WriteText(&b)
		t.Fatalf("detected %d of %d attacks with %d false alerts:\n%s", rep.Detected, len(labels), rep.FalseAlerts, b.String())
	}
	for _, a := range alerts {
		if a.Summary == "" || len(a.Evidence) == 0 || len(a.Tags) == 0 || a.Owner == "" || a.Status != keywatch.AlertOpen {
			t.Errorf("alert %s (%s) does not explain itself or lacks owner: %+v", a.ID, a.Rule, a)
		}
	}
}

// TestReplayStateContinues replays a simulation in two halves with --state
// and checks that the alerts are those of one replay of the whole.
func TestReplayStateContinues(t *testing.T) {
	dir := simulated(t)
	whole := filepath.Join(dir, "events.jsonl.gz")
	first, second := splitEvents(t, whole, sim.DefaultStart.Add(10*24*time.Hour))
	args := []string{"--inventory", filepath.Join(dir, "inventory.yaml"), "--geoip", filepath.Join(dir, "geoip.mmdb"), "--asn", filepath.Join(dir, "asn.mmdb")}
	tmp := t.TempDir()
	state := filepath.Join(tmp, "state")

	replayTo := func(out string, extra ...string) []*keywatch.Alert {
		t.Helper()
		code, _, stderr := runCmd(t, append(append(append([]string{"replay"}, args...), "--out", out), extra...)...)
		if code != 0 {
			t.Fatalf("replay %v exit %d: %s", extra, code, stderr)
		}
		return readAlerts(t, out)
	}
	want := replayTo(filepath.Join(tmp, "whole.jsonl"), whole)
	a1 := replayTo(filepath.Join(tmp, "a1.jsonl"), "--state", state, first)
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("state not saved: %v", err)
	}
	a2 := replayTo(filepath.Join(tmp, "a2.jsonl"), "--state", state, second)
	got := append(a1, a2...)
	ids := func(as []*keywatch.Alert) []string {
		var s []string
		for _, a := range as {
			s = append(s, a.ID+" "+a.Rule)
		}
		return s
	}
	if !slices.Equal(ids(got), ids(want)) || len(want) == 0 {
		t.Fatalf("two replays with --state fired\n%v\none replay fired\n%v", ids(got), ids(want))
	}
}

// splitEvents writes the events before and from cut into two plain files.
func splitEvents(t *testing.T, path string, cut time.Time) (string, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	fa, _ := os.Create(a)
	fb, _ := os.Create(b)
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	// The simulator writes "time" first, as RFC 3339 UTC: compare the text.
	cutText := cut.UTC().Format("2006-01-02T15:04:05.000Z")
	wa, wb := bufio.NewWriter(fa), bufio.NewWriter(fb)
	for sc.Scan() {
		line := sc.Bytes()
		const prefix = `{"time":"`
		if !bytes.HasPrefix(line, []byte(prefix)) || len(line) < len(prefix)+len(cutText) {
			t.Fatalf("unexpected simulator line %.60q", line)
		}
		w := wa
		if string(line[len(prefix):len(prefix)+len(cutText)]) >= cutText {
			w = wb
		}
		w.Write(line)
		w.WriteByte('\n')
	}
	wa.Flush()
	wb.Flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	fa.Close()
	fb.Close()
	return a, b
}

func TestReplayBadLinesAreReportedNotFatal(t *testing.T) {
	in := strings.Join([]string{
		`{"time":"2026-09-01T10:00:00Z","key_id":"k1","model":"gpt-4o","input_tokens":10}`,
		`{"time":"2026-09-01T10:00:01Z","key_id":"k1","input_tokens":"ten"}`,
		`not json`,
		``,
		`{"time":"2026-09-01T10:00:02Z"}`,
		`{"time":1788256803000,"key_id":"k1","status":200}`,
	}, "\n") + "\n"
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(in), stdout: &out, stderr: &errOut}
	if code := run(t.Context(), e, []string{"replay", "-"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{
		"-: line 2: field input_tokens: want integer, got string (skipped)",
		"-: line 3: invalid JSON",
		"-: line 5: missing key_id",
		"replay: 2 events from 1 file(s), 3 bad lines, 1 keys, 0 alerts",
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	if out.Len() != 0 {
		t.Errorf("alerts written: %q", out.String())
	}
}

func TestCommandsHaveHelpWithExample(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCmd(t, name, "--help")
			if code != 0 || !strings.Contains(stderr, "Example") || !strings.Contains(stderr, "keywatch "+name) {
				t.Errorf("%s --help: exit %d, output:\n%s", name, code, stderr)
			}
			if code, _, _ := runCmd(t, name, "--no-such-flag"); code != 2 {
				t.Errorf("%s with an unknown flag: exit %d, want 2", name, code)
			}
		})
	}
	if code, _, _ := runCmd(t, "no-such-command"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}

func TestReplayErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no files", []string{"replay"}, "no input"},
		{"missing file", []string{"replay", "/no/such/file.jsonl"}, "open /no/such/file.jsonl"},
		{"bad inventory", []string{"--inventory", "/no/such/inv.yaml", "-"}, "read inventory"},
		{"bad config", []string{"--config", writeTemp(t, "volume_spike: {factor: 0}\n"), "-"}, "volume_spike.factor"},
		{"bad state", []string{"--state", writeTemp(t, "garbage"), "-"}, "not a keywatch state file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if args[0] != "replay" {
				args = append([]string{"replay"}, args...)
			}
			code, _, stderr := runCmd(t, args...)
			if code == 0 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q, want failure mentioning %q", code, stderr, tt.want)
			}
		})
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo simulates a month")
	}
	code, stdout, stderr := runCmd(t, "demo", "--days", "16")
	if code != 0 {
		t.Fatalf("demo exit %d: %s", code, stderr)
	}
	for _, want := range []string{"1. Simulated 16 days", "2. Replayed", "3. Scored", "recall", "false alerts"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
}

// TestReplayWithStore keeps alerts, key usage and profiles in a store, and
// a second replay continues from the stored profiles.
func TestReplayWithStore(t *testing.T) {
	dir := simulated(t)
	t.Setenv("KEYWATCH_PEPPER_FILE", filepath.Join(t.TempDir(), "pepper"))
	st := "sqlite://" + filepath.Join(t.TempDir(), "kw.db")
	if code, _, stderr := runCmd(t, "keys", "import", "--store", st, filepath.Join(dir, "inventory.yaml")); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	first, second := splitEvents(t, filepath.Join(dir, "events.jsonl.gz"), sim.DefaultStart.Add(10*24*time.Hour))
	geo := []string{"--geoip", filepath.Join(dir, "geoip.mmdb"), "--asn", filepath.Join(dir, "asn.mmdb"), "--store", st}
	for _, f := range []string{first, second} {
		if code, _, stderr := runCmd(t, append(append([]string{"replay", "--out", filepath.Join(t.TempDir(), "a.jsonl")}, geo...), f)...); code != 0 {
			t.Fatalf("replay %s: %s", f, stderr)
		}
	}
	s, err := openStore(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	alerts, err := s.Alerts(t.Context(), keywatch.AlertFilter{})
	if err != nil || len(alerts) == 0 {
		t.Fatalf("stored alerts: %d, %v", len(alerts), err)
	}
	labels, _ := sim.ReadLabels(filepath.Join(dir, "labels.json"))
	if rep := sim.Evaluate(labels, alerts, sim.EvalOptions{KeyDays: 1}); rep.FalseAlerts != 0 || rep.Detected != len(labels) {
		t.Errorf("with stored profiles: %d/%d detected, %d false alerts", rep.Detected, len(labels), rep.FalseAlerts)
	}
	keys, err := s.Keys(t.Context(), keywatch.KeyFilter{})
	if err != nil {
		t.Fatal(err)
	}
	used := 0
	for _, k := range keys {
		if !k.LastUsed.IsZero() && len(k.Usage.Models) > 0 && len(k.Usage.Envs) == 1 {
			used++
		}
	}
	if used < len(keys)/2 {
		t.Errorf("only %d of %d keys have usage recorded", used, len(keys))
	}
	if _, err := s.Snapshot(t.Context(), snapshotName); err != nil {
		t.Errorf("profiles not stored: %v", err)
	}
}
