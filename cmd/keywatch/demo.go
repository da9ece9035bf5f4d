package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/inventory"
	"github.com/keywatch/keywatch/sim"
)

func init() {
	register(&command{name: "demo", summary: "simulate a month of traffic with stolen keys, detect them, score the result", run: runDemo})
}

const demoUsage = `
Usage: keywatch demo [flags]

The first look at keywatch, with no setup: simulates a month of LLM API
traffic for a small organisation (seasonal services, a nightly batch job, a
three-region service, a model migration, a key rotation) with stolen-key
attacks injected, replays it through the detectors, and scores the alerts
against the attacks: which rule caught each one and how fast (MTTD), and
how many false alerts fired on benign traffic.

Example:
  keywatch demo
  keywatch demo --seed 7 --keep ./demo-out
`

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", demoUsage)
	seed := fs.Uint64("seed", sim.DefaultSeed, "simulation seed")
	days := fs.Int("days", sim.DefaultDays, "days of traffic")
	keep := fs.String("keep", "", "write the simulation, alerts and report into `dir` and keep them")
	storeURL := fs.String("store", "", "also keep the inventory, alerts, key usage and profiles in this store `URL` (sqlite://PATH or postgres://...)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return keywatch.Errorf(keywatch.EINVALID, "demo takes no arguments (see --help)")
	}
	dir := *keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "keywatch-demo-")
		if err != nil {
			return fmt.Errorf("make temporary folder: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", dir, err)
	}
	w := e.stdout
	fmt.Fprintln(w, "keywatch demo: a month of LLM API traffic for a small organisation, with stolen keys in it.")
	fmt.Fprintln(w)

	// 1. Simulate.
	start := time.Now()
	cfg := sim.Config{Seed: *seed, Days: *days}
	var prog *progress
	if e.interactive {
		prog = newProgress(e.stderr, "simulate")
		cfg.Progress = func(day, days int, events int64) {
			prog.update("day %d/%d, %s events", day, days, thousands(events))
		}
	}
	meta, err := sim.Run(ctx, dir, cfg)
	prog.done()
	if err != nil {
		return err
	}
	labels, err := sim.ReadLabels(filepath.Join(dir, "labels.json"))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "1. Simulated %d days (%s to %s): %d keys, %s requests, %d attacks injected [%.1fs].\n",
		meta.Days, meta.Start.Format(time.DateOnly), meta.End.Format(time.DateOnly), meta.Keys,
		thousands(meta.Events), len(labels), time.Since(start).Seconds())
	fmt.Fprintln(w, "   Benign traffic that fools static thresholds: office hours and quiet weekends, a nightly")
	fmt.Fprintln(w, "   batch job at ~10x daytime rates, a service in three regions, an embeddings-only service,")
	fmt.Fprintln(w, "   a gpt-4o -> gpt-4.1 migration, a key rotation, 1.5%/day growth.")
	fmt.Fprintln(w)

	// 2. Replay.
	if *storeURL != "" {
		if err := importInventory(ctx, *storeURL, filepath.Join(dir, "inventory.yaml")); err != nil {
			return err
		}
	}
	o := &replayOptions{
		store:     *storeURL,
		inventory: filepath.Join(dir, "inventory.yaml"),
		geoip:     filepath.Join(dir, "geoip.mmdb"),
		asn:       filepath.Join(dir, "asn.mmdb"),
		out:       filepath.Join(dir, "alerts.jsonl"),
		files:     []string{filepath.Join(dir, "events.jsonl.gz")},
		quiet:     true,
	}
	res, err := replay(ctx, e, o)
	if err != nil {
		return err
	}
	secs := res.elapsed.Seconds()
	fmt.Fprintf(w, "2. Replayed them through enrichment (inventory, GeoIP, ASN) and 7 detectors: %d alerts\n", len(res.alerts))
	fmt.Fprintf(w, "   [%.1fs, %s events/s including gzip].\n", secs, thousands(int64(float64(res.counts.Events)/max(secs, 1e-9))))
	fmt.Fprintln(w)

	// 3. Score.
	rep := sim.Evaluate(labels, res.alerts, sim.EvalOptions{KeyDays: meta.KeyDays})
	fmt.Fprintln(w, "3. Scored against the injected attacks:")
	fmt.Fprintln(w)
	if err := rep.WriteText(indent(w, "   ")); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if a := firstAlertOf(res.alerts, labels); a != nil {
		fmt.Fprintf(w, "The first alert on the volume burst, as the key's owner would read it:\n   [%s] %s\n   %s\n   tags: %v\n\n",
			a.Severity, a.Title, a.Summary, a.Tags)
	}
	if *storeURL != "" {
		fmt.Fprintf(w, "The inventory, alerts, key usage and profiles are in %s: try keywatch keys audit --store %s\n", redactURL(*storeURL), *storeURL)
	}
	if *keep != "" {
		fmt.Fprintf(w, "Everything is in %s: events.jsonl.gz, inventory.yaml, labels.json, alerts.jsonl.\n", dir)
	} else {
		fmt.Fprintln(w, "Run with --keep DIR to keep the files; see keywatch replay --help to run on your own logs.")
	}
	return nil
}

// firstAlertOf returns the first alert on the volume-burst attack's key
// within its window, or the first alert of all when there is none.
func firstAlertOf(alerts []*keywatch.Alert, labels []sim.Label) *keywatch.Alert {
	i := slices.IndexFunc(labels, func(l sim.Label) bool { return l.Scenario == sim.ScenarioVolumeBurst })
	if i >= 0 {
		l := labels[i]
		for _, a := range alerts {
			if a.KeyID == l.KeyID && !a.Time.Before(l.Start) && a.Rule == "volume-spike" {
				return a
			}
		}
	}
	if len(alerts) > 0 {
		return alerts[0]
	}
	return nil
}

// indent returns a writer that starts every line with prefix.
func indent(w io.Writer, prefix string) io.Writer { return &indenter{w: w, prefix: prefix, bol: true} }

type indenter struct {
	w      io.Writer
	prefix string
	bol    bool
}

func (in *indenter) Write(p []byte) (int, error) {
	for i, c := range p {
		if in.bol && c != '\n' {
			if _, err := io.WriteString(in.w, in.prefix); err != nil {
				return i, err
			}
		}
		if _, err := in.w.Write(p[i : i+1]); err != nil {
			return i, err
		}
		in.bol = c == '\n'
	}
	return len(p), nil
}

// importInventory puts an inventory file's keys into a store.
func importInventory(ctx context.Context, url, path string) error {
	keys, err := inventory.Load(path)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, url)
	if err != nil {
		return err
	}
	defer st.Close()
	stored := make([]keywatch.StoredKey, len(keys))
	for i, k := range keys {
		stored[i] = keywatch.StoredKey{Key: k}
	}
	return st.PutKeys(ctx, stored, keywatch.Change{Actor: "keywatch demo", Reason: "simulated inventory"})
}
