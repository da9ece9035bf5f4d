package sim

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/enrich"
	"github.com/keywatch/keywatch/ingest"
	"github.com/keywatch/keywatch/inventory"
)

// Names of the files Run writes into its directory.
const (
	EventsFile    = "events.jsonl.gz"
	InventoryFile = "inventory.yaml"
	GeoIPFile     = "geoip.mmdb"
	ASNFile       = "asn.mmdb"
	LabelsFile    = "labels.json"
	MetaFile      = "sim.json"
)

// Run simulates cfg and writes the events, inventory, geo and ASN databases,
// labels and metadata into dir (created if needed). It streams the events a
// minute at a time, so memory stays small whatever the length of the run.
func Run(ctx context.Context, dir string, cfg Config) (*Meta, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	w, err := plan(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	meta := &Meta{Seed: cfg.Seed, Start: w.start, End: w.end, Days: cfg.Days, Keys: len(w.keys), Attacks: len(w.attacks)}
	if meta.Events, err = w.writeEvents(ctx, filepath.Join(dir, EventsFile)); err != nil {
		return nil, err
	}
	for _, k := range w.keys {
		for _, used := range k.days {
			if used {
				meta.KeyDays++
			}
		}
	}
	keys := make([]keywatch.Key, len(w.keys))
	for i, k := range w.keys {
		keys[i] = k.inv
	}
	var inv bytes.Buffer
	if err := inventory.Write(&inv, keys); err != nil {
		return nil, err
	}
	labels := make([]Label, len(w.attacks))
	for i, a := range w.attacks {
		labels[i] = a.label()
	}
	lb, err := json.MarshalIndent(labels, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode labels: %w", err)
	}
	mb, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	var geo, asn bytes.Buffer
	nets := Networks()
	if err := enrich.WriteCountryDB(&geo, nets, w.start.Unix()); err != nil {
		return nil, err
	}
	if err := enrich.WriteASNDB(&asn, nets, w.start.Unix()); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{InventoryFile, inv.Bytes()},
		{GeoIPFile, geo.Bytes()},
		{ASNFile, asn.Bytes()},
		{LabelsFile, append(lb, '\n')},
		{MetaFile, append(mb, '\n')},
	} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	return meta, nil
}

// writeEvents streams the whole run, benign and attack traffic merged in
// time order, to a gzip file, and returns the number of events.
func (w *world) writeEvents(ctx context.Context, path string) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("create events file: %w", err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 256<<10)
	zw, err := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	if err != nil {
		return 0, fmt.Errorf("events file: %w", err)
	}
	var (
		items  []item
		buf    = make([]byte, 0, 512<<10)
		rid    = make([]byte, 0, 32)
		events int64
	)
	minutes := w.cfg.Days * 1440
	for m := range minutes {
		t0 := w.start.Add(time.Duration(m) * time.Minute)
		t1 := t0.Add(time.Minute)
		items = items[:0]
		for _, k := range w.keys {
			items = k.appendMinute(items, t0, m)
		}
		for _, a := range w.attacks {
			for a.next < len(a.events) && a.events[a.next].ev.Time.Before(t1) {
				items = append(items, a.events[a.next])
				a.next++
			}
		}
		slices.SortStableFunc(items, func(x, y item) int { return x.ev.Time.Compare(y.ev.Time) })
		day := m / 1440
		for i := range items {
			it := &items[i]
			rid = append(rid[:0], "req_"...)
			rid = strconv.AppendUint(rid, mix(w.cfg.Seed, uint64(events)), 16)
			it.ev.RequestID = string(rid)
			w.keys[it.owner].days[day] = true
			buf = ingest.AppendNative(buf, &it.ev)
			events++
		}
		if len(buf) >= 256<<10 {
			if _, err := zw.Write(buf); err != nil {
				return 0, fmt.Errorf("write events: %w", err)
			}
			buf = buf[:0]
		}
		if (m+1)%1440 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			if w.cfg.Progress != nil {
				w.cfg.Progress(day+1, w.cfg.Days, events)
			}
		}
	}
	if _, err := zw.Write(buf); err != nil {
		return 0, fmt.Errorf("write events: %w", err)
	}
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("write events: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("write events: %w", err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("close events file: %w", err)
	}
	return events, nil
}

// mix is a bijection of n for a given seed (the splitmix64 finaliser), so
// request ids are unique within a run and differ between seeds.
func mix(seed, n uint64) uint64 {
	z := n + seed*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
