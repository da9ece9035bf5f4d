package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/sim"
)

func init() {
	register(&command{name: "eval", summary: "score alerts against attack labels: MTTD, precision, recall", run: runEval})
}

const evalUsage = `
Usage: keywatch eval --labels FILE --alerts FILE [flags]

Scores alerts (JSON Lines, as replay writes them) against attack labels (as
simulate writes them): for each attack, detected or missed, the rules that
fired on its key and the mean time to detect (MTTD, in event time); then
precision (true-positive alerts / all alerts), recall (detected attacks /
attacks) and false alerts per 1000 benign key-days (key-days minus those an
attack window touches). An alert is a true positive when its key has an
attack between its start and its end plus --grace.

Key-days come from --key-days, else from sim.json beside the labels file.
Bad alert lines are counted, reported with their line number and skipped.
eval is a report, not a check: it exits 0 whatever the scores.

Example:
  keywatch simulate --out sim
  keywatch replay --inventory sim/inventory.yaml --geoip sim/geoip.mmdb \
      --asn sim/asn.mmdb --out alerts.jsonl sim/events.jsonl.gz
  keywatch eval --labels sim/labels.json --alerts alerts.jsonl
`

func runEval(ctx context.Context, e *env, args []string) error {
	var (
		labelsPath, alertsPath string
		asJSON                 bool
		keyDays                int
		opt                    sim.EvalOptions
	)
	fl := newFlags(e, "eval", evalUsage)
	fl.StringVar(&labelsPath, "labels", "", "labels `file` (JSON array, from simulate)")
	fl.StringVar(&alertsPath, "alerts", "", "alerts `file` (JSON Lines, from replay; - for stdin)")
	fl.BoolVar(&asJSON, "json", false, "write the report as JSON")
	fl.IntVar(&keyDays, "key-days", 0, "key-days of the run (default: key_days of sim.json beside --labels)")
	fl.DurationVar(&opt.Grace, "grace", sim.DefaultGrace, "how long after an attack's last event an alert still detects it")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	switch {
	case fl.NArg() > 0:
		return keywatch.Errorf(keywatch.EINVALID, "unexpected argument %q (see --help)", fl.Arg(0))
	case labelsPath == "":
		return keywatch.Errorf(keywatch.EINVALID, "no labels: set --labels (see --help)")
	case alertsPath == "":
		return keywatch.Errorf(keywatch.EINVALID, "no alerts: set --alerts (see --help)")
	case opt.Grace < 0:
		return keywatch.Errorf(keywatch.EINVALID, "--grace %s: want a duration of 0 or more", opt.Grace)
	case keyDays < 0:
		return keywatch.Errorf(keywatch.EINVALID, "--key-days %d: want 0 or more", keyDays)
	}
	labels, err := sim.ReadLabels(labelsPath)
	if err != nil {
		return err
	}
	if keyDays == 0 {
		metaPath := filepath.Join(filepath.Dir(labelsPath), sim.MetaFile)
		m, err := sim.ReadMeta(metaPath)
		if errors.Is(err, fs.ErrNotExist) {
			return keywatch.Errorf(keywatch.EINVALID, "no key-days: set --key-days, or keep %s beside the labels file", sim.MetaFile)
		}
		if err != nil {
			return keywatch.Errorf(keywatch.EINVALID, "%v", err)
		}
		keyDays = m.KeyDays
	}
	opt.KeyDays = keyDays
	in := e.stdin
	if alertsPath != "-" {
		f, err := os.Open(alertsPath)
		if err != nil {
			return keywatch.Errorf(keywatch.EINVALID, "open alerts: %v", err)
		}
		defer f.Close()
		in = f
	}
	alerts, bad, err := sim.ReadAlerts(in)
	if err != nil {
		return keywatch.Errorf(keywatch.EINVALID, "%s: %v", alertsPath, err)
	}
	rep := sim.Evaluate(labels, alerts, opt)
	rep.AddBadLines(bad)
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(e.stdout)
}
