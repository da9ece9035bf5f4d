package main

import (
	"context"
	"fmt"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/sim"
)

func init() {
	register(&command{name: "simulate", summary: "generate labelled usage traffic with injected attacks", run: runSimulate})
}

const simulateUsage = `
Usage: keywatch simulate --out DIR [flags]

Generates a reproducible month of LLM API usage for a small organisation
(seasonal services in several regions, a nightly batch job, a model
migration, a key rotation, dev keys) with labelled attacks injected from
day 14 on: volume-burst, low-slow-new-country, model-abuse,
public-leak-fanout, auth-failure-burst and expired-key-use.

Writes into DIR: events.jsonl.gz (native events, without country or asn),
inventory.yaml, geoip.mmdb and asn.mmdb (covering every address used),
labels.json (one entry per attack) and sim.json (metadata, with key_days
for eval). The same seed and flags always give the same bytes.

Example:
  keywatch simulate --out sim --days 35 --seed 7
  keywatch replay --inventory sim/inventory.yaml --geoip sim/geoip.mmdb \
      --asn sim/asn.mmdb --out alerts.jsonl sim/events.jsonl.gz
  keywatch eval --labels sim/labels.json --alerts alerts.jsonl
`

func runSimulate(ctx context.Context, e *env, args []string) error {
	var (
		cfg   sim.Config
		out   string
		start string
		seed  uint64
	)
	fs := newFlags(e, "simulate", simulateUsage)
	fs.StringVar(&out, "out", "", "output `dir`ectory (created if needed)")
	fs.IntVar(&cfg.Services, "services", sim.DefaultServices, "number of `services`")
	fs.IntVar(&cfg.KeysPerService, "keys-per-service", sim.DefaultKeysPerService, "`keys` per service; the last is a dev or staging key when 2 or more")
	fs.IntVar(&cfg.Days, "days", sim.DefaultDays, "`days` to simulate; attacks start on day 14")
	fs.Uint64Var(&seed, "seed", sim.DefaultSeed, "random `seed`")
	fs.StringVar(&start, "start", sim.DefaultStart.Format(time.DateOnly), "first `date` (UTC)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return keywatch.Errorf(keywatch.EINVALID, "unexpected argument %q (see --help)", fs.Arg(0))
	}
	if out == "" {
		return keywatch.Errorf(keywatch.EINVALID, "no output directory: set --out (see --help)")
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"services", cfg.Services}, {"keys-per-service", cfg.KeysPerService}, {"days", cfg.Days}} {
		if f.v < 1 { // the zero Config field would mean the default
			return keywatch.Errorf(keywatch.EINVALID, "--%s %d: want 1 or more", f.name, f.v)
		}
	}
	t, err := time.Parse(time.DateOnly, start)
	if err != nil {
		return keywatch.Errorf(keywatch.EINVALID, "--start %q: want a date like 2026-09-01", start)
	}
	cfg.Start, cfg.Seed = t, seed
	var prog *progress
	if e.interactive {
		prog = newProgress(e.stderr, "simulate")
		cfg.Progress = func(day, days int, events int64) {
			prog.update("day %d/%d, %s events", day, days, thousands(events))
		}
	}
	began := time.Now()
	meta, err := sim.Run(ctx, out, cfg)
	prog.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "simulate: %s events, %d keys, %s key-days, %d attacks over %d days in %.2fs → %s\n",
		thousands(meta.Events), meta.Keys, thousands(int64(meta.KeyDays)), meta.Attacks, meta.Days,
		time.Since(began).Seconds(), out)
	return nil
}
