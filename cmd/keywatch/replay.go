package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/detect"
	"github.com/keywatch/keywatch/enrich"
	"github.com/keywatch/keywatch/ingest"
	"github.com/keywatch/keywatch/inventory"
	"github.com/keywatch/keywatch/pipeline"
)

func init() {
	register(&command{name: "replay", summary: "run detection over usage logs and write alerts", run: runReplay})
}

const replayUsage = `
Usage: keywatch replay [flags] FILE...

Runs the built-in detectors over native JSON Lines usage events (plain or
gzip; - reads stdin), enriching them from the inventory and the geo and ASN
databases, and writes alerts as JSON Lines to stdout or --out. A summary
(events, bad lines, keys, alerts by rule, throughput) goes to stderr. Bad
lines are reported with their line number and skipped.

Example:
  keywatch simulate --out sim
  keywatch replay --inventory sim/inventory.yaml --geoip sim/geoip.mmdb \
      --asn sim/asn.mmdb --out alerts.jsonl sim/events.jsonl.gz
`

// replayOptions are replay's flags; demo fills them itself.
type replayOptions struct {
	inventory, geoip, asn, config, state, out string
	store                                     string // store URL; "" for none
	files                                     []string
	quiet                                     bool // no summary
}

func runReplay(ctx context.Context, e *env, args []string) error {
	var o replayOptions
	fs := newFlags(e, "replay", replayUsage)
	fs.StringVar(&o.inventory, "inventory", "", "inventory YAML `file` (keys' owners, services, expiry, allow-lists)")
	fs.StringVar(&o.geoip, "geoip", "", "MaxMind country database `file` (GeoLite2-Country layout)")
	fs.StringVar(&o.asn, "asn", "", "MaxMind ASN database `file` (GeoLite2-ASN layout)")
	fs.StringVar(&o.config, "config", "", "detector config YAML `file` overriding the defaults")
	fs.StringVar(&o.state, "state", "", "profile state `file`: loaded if it exists, saved at the end")
	fs.StringVar(&o.out, "out", "", "write alerts to `file` instead of stdout")
	fs.StringVar(&o.store, "store", "", "store `URL` (sqlite://PATH or postgres://...): alerts, key usage and profiles persist there; the inventory comes from it when --inventory is not given")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	o.files = fs.Args()
	if len(o.files) == 0 {
		return keywatch.Errorf(keywatch.EINVALID, "no input: name one or more files, or - for stdin (see --help)")
	}
	_, err := replay(ctx, e, &o)
	return err
}

// replayResult is what a replay saw, for demo's story.
type replayResult struct {
	counts  pipeline.Counts
	keys    int
	alerts  []*keywatch.Alert
	elapsed time.Duration
}

func replay(ctx context.Context, e *env, o *replayOptions) (*replayResult, error) {
	cfg := detect.DefaultConfig()
	if o.config != "" {
		var err error
		if cfg, err = detect.LoadConfig(o.config); err != nil {
			return nil, err
		}
	}
	var st keywatch.Store
	if o.store != "" {
		var err error
		if st, err = openStore(ctx, o.store); err != nil {
			return nil, err
		}
		defer st.Close()
	}
	en := &enrich.Enricher{}
	switch {
	case o.inventory != "":
		keys, err := inventory.Load(o.inventory)
		if err != nil {
			return nil, err
		}
		en.Inventory = inventory.NewIndex(keys)
	case st != nil:
		stored, err := st.Keys(ctx, keywatch.KeyFilter{})
		if err != nil {
			return nil, fmt.Errorf("read inventory from store: %w", err)
		}
		keys := make([]keywatch.Key, len(stored))
		for i := range stored {
			keys[i] = stored[i].Key
		}
		en.Inventory = inventory.NewIndex(keys)
	}
	if o.geoip != "" {
		g, err := enrich.OpenGeo(o.geoip)
		if err != nil {
			return nil, err
		}
		defer g.Close()
		en.Geo = g
	}
	if o.asn != "" {
		a, err := enrich.OpenASN(o.asn)
		if err != nil {
			return nil, err
		}
		defer a.Close()
		en.ASN = a
	}
	engine := detect.New(cfg)
	switch {
	case o.state != "":
		if err := loadState(engine, o.state); err != nil {
			return nil, err
		}
	case st != nil:
		b, err := st.Snapshot(ctx, snapshotName)
		switch {
		case keywatch.ErrorCode(err) == keywatch.ENOTFOUND:
		case err != nil:
			return nil, fmt.Errorf("read profiles from store: %w", err)
		default:
			if err := engine.Load(bytes.NewReader(b)); err != nil {
				return nil, fmt.Errorf("profiles in store: %w", err)
			}
		}
	}

	var out io.Writer = e.stdout
	var outFile *os.File
	if o.out != "" {
		f, err := os.Create(o.out)
		if err != nil {
			return nil, fmt.Errorf("create alerts file: %w", err)
		}
		outFile = f
		out = f
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	res := &replayResult{}
	var writeErr error
	const maxReported = 20
	reported := 0
	p := &pipeline.Pipeline{
		Enricher: en,
		Engine:   engine,
		Emit: func(a *keywatch.Alert) {
			res.alerts = append(res.alerts, a)
			b, err := json.Marshal(a)
			if err == nil {
				b = append(b, '\n')
				_, err = bw.Write(b)
			}
			if err != nil && writeErr == nil {
				writeErr = fmt.Errorf("write alerts: %w", err)
			}
		},
		BadLine: func(source string, le *ingest.LineError) {
			// the pipeline counts them all; the first few are shown in full
			if reported < maxReported && !o.quiet {
				fmt.Fprintf(e.stderr, "%s: %v (skipped)\n", source, le)
			}
			reported++
		},
	}
	if st != nil {
		p.Usage = pipeline.NewUsage()
	}
	start := time.Now()
	var prog *progress
	if e.interactive && !o.quiet {
		prog = newProgress(e.stderr, "replay")
		p.Progress = func(c pipeline.Counts) {
			prog.update("%s events, %s alerts", thousands(c.Events), thousands(int64(len(res.alerts))))
		}
	}
	var runErr error
	for _, name := range o.files {
		rc, err := ingest.Open(name, e.stdin)
		if err != nil {
			runErr = keywatch.Errorf(keywatch.EINVALID, "open %s: %v", name, err)
			break
		}
		err = p.Feed(ctx, name, rc)
		rc.Close()
		if err != nil {
			runErr = err
			break
		}
	}
	prog.done()
	res.elapsed = time.Since(start)
	res.counts = p.Counts()
	res.keys = engine.Keys()
	if err := bw.Flush(); err != nil && writeErr == nil {
		writeErr = fmt.Errorf("write alerts: %w", err)
	}
	if outFile != nil {
		if err := outFile.Close(); err != nil && writeErr == nil {
			writeErr = fmt.Errorf("close alerts file: %w", err)
		}
	}
	if o.state != "" && runErr == nil {
		if err := saveState(engine, o.state); err != nil {
			return res, err
		}
	}
	if st != nil && runErr == nil {
		if err := persist(ctx, st, engine, res.alerts, p.Usage, o.state == ""); err != nil {
			return res, err
		}
	}
	if !o.quiet {
		printReplaySummary(e.stderr, res, len(o.files))
	}
	if runErr != nil {
		return res, runErr
	}
	return res, writeErr
}

// snapshotName names replay's profile snapshot in a store.
const snapshotName = "replay"

// persist writes a replay's alerts, the keys' usage and (unless a state
// file holds them) the profiles to the store.
func persist(ctx context.Context, st keywatch.Store, engine *detect.Engine, alerts []*keywatch.Alert, u *pipeline.Usage, profiles bool) error {
	for i := 0; i < len(alerts); i += 1000 {
		if err := st.PutAlerts(ctx, alerts[i:min(i+1000, len(alerts))]); err != nil {
			return fmt.Errorf("store alerts: %w", err)
		}
	}
	if err := st.TouchKeys(ctx, u.Keys()); err != nil {
		return fmt.Errorf("store key usage: %w", err)
	}
	if !profiles {
		return nil
	}
	var buf bytes.Buffer
	if err := engine.Save(&buf); err != nil {
		return err
	}
	if err := st.PutSnapshot(ctx, snapshotName, buf.Bytes()); err != nil {
		return fmt.Errorf("store profiles: %w", err)
	}
	return nil
}

func loadState(engine *detect.Engine, path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // first run: start empty, save at the end
	}
	if err != nil {
		return fmt.Errorf("open state: %w", err)
	}
	defer f.Close()
	if err := engine.Load(bufio.NewReader(f)); err != nil {
		return fmt.Errorf("state %s: %w", path, err)
	}
	return nil
}

// saveState writes the state beside its final name and renames it into
// place, so that a crash never leaves a half-written state file.
func saveState(engine *detect.Engine, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keywatch-state-*")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriter(tmp)
	if err := engine.Save(bw); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

func printReplaySummary(w io.Writer, r *replayResult, files int) {
	secs := r.elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(r.counts.Events) / secs
	}
	fmt.Fprintf(w, "replay: %s events from %d file(s), %s bad lines, %s keys, %s alerts in %.2fs (%s events/s)\n",
		thousands(r.counts.Events), files, thousands(r.counts.BadLines), thousands(int64(r.keys)),
		thousands(int64(len(r.alerts))), secs, thousands(int64(rate)))
	if len(r.alerts) == 0 {
		return
	}
	by := map[string]int{}
	for _, a := range r.alerts {
		by[a.Rule]++
	}
	rules := make([]string, 0, len(by))
	for r := range by {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	parts := make([]string, len(rules))
	for i, r := range rules {
		parts[i] = fmt.Sprintf("%s %d", r, by[r])
	}
	fmt.Fprintf(w, "alerts by rule: %s\n", strings.Join(parts, ", "))
}
