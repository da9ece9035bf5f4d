package pipeline_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/detect"
	"github.com/keywatch/keywatch/enrich"
	"github.com/keywatch/keywatch/ingest"
	"github.com/keywatch/keywatch/inventory"
	"github.com/keywatch/keywatch/pipeline"
	"github.com/keywatch/keywatch/sim"
)

// TestSimulationDefeatsNaiveDetectors checks that the simulator's benign
// traffic is hard enough to matter: a detector that compares each minute
// with the key's flat average (no hour of day, no weekday) fires on it again
// and again, while keywatch's seasonal baselines stay silent outside the
// attacks.
func TestSimulationDefeatsNaiveDetectors(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates three weeks")
	}
	dir := t.TempDir()
	if _, err := sim.Run(context.Background(), dir, sim.Config{Days: 21, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	labels, err := sim.ReadLabels(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	inAttack := func(key string, at time.Time) bool {
		for _, l := range labels {
			if l.KeyID == key && !at.Before(l.Start) && !at.After(l.End.Add(sim.DefaultGrace)) {
				return true
			}
		}
		return false
	}

	// The naive detector: 5x the key's mean requests per minute over its
	// first week, checked minute by minute afterwards.
	type naiveKey struct {
		first          time.Time
		learnedEvents  int64
		minute         int64
		count          int
		lastAlertMin   int64
		flatPerMinute  float64
		learnedMinutes float64
	}
	naive := map[string]*naiveKey{}
	naiveFalse := map[string]int{}

	keys, err := inventory.Load(filepath.Join(dir, "inventory.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	geo, err := enrich.OpenGeo(filepath.Join(dir, "geoip.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	asn, err := enrich.OpenASN(filepath.Join(dir, "asn.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline.Pipeline{
		Enricher: &enrich.Enricher{Inventory: inventory.NewIndex(keys), Geo: geo, ASN: asn},
		Engine:   detect.New(detect.DefaultConfig()),
	}
	var keywatchFalse []*keywatch.Alert
	emit := func(a *keywatch.Alert) {
		if !inAttack(a.KeyID, a.Time) {
			keywatchFalse = append(keywatchFalse, a)
		}
	}

	f, err := ingest.Open(filepath.Join(dir, "events.jsonl.gz"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := ingest.NewNative(f)
	var ev keywatch.Event
	for {
		if err := dec.Next(&ev); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		p.Process(&ev, emit)
		if ev.AuthFailure() {
			continue
		}
		n := naive[ev.KeyID]
		if n == nil {
			n = &naiveKey{first: ev.Time}
			naive[ev.KeyID] = n
		}
		if ev.Time.Sub(n.first) < 7*24*time.Hour {
			n.learnedEvents++
			continue
		}
		if n.flatPerMinute == 0 {
			n.flatPerMinute = float64(n.learnedEvents) / (7 * 24 * 60)
		}
		m := ev.Time.Unix() / 60
		if m != n.minute {
			n.minute, n.count = m, 0
		}
		n.count++
		if float64(n.count) > 5*n.flatPerMinute+5 && m-n.lastAlertMin >= 60 && !inAttack(ev.KeyID, ev.Time) {
			n.lastAlertMin = m
			naiveFalse[ev.KeyID]++
		}
	}
	total := 0
	for _, c := range naiveFalse {
		total += c
	}
	t.Logf("flat-baseline detector: %d false alerts on %d keys (%v); keywatch: %d", total, len(naiveFalse), naiveFalse, len(keywatchFalse))
	if total < 10 {
		t.Errorf("a flat-baseline detector fired only %d false alerts: the benign traffic is too easy", total)
	}
	for _, a := range keywatchFalse {
		t.Errorf("keywatch false alert: %s %s %s", a.Time.Format(time.RFC3339), a.Rule, a.Summary)
	}
}
