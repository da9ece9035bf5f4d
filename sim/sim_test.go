package sim_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywatch/keywatch/inventory"
	"github.com/keywatch/keywatch/sim"
	"github.com/oschwald/maxminddb-golang/v2"
)

// run simulates cfg into a temporary directory.
func run(t *testing.T, cfg sim.Config) (string, *sim.Meta) {
	t.Helper()
	dir := t.TempDir()
	m, err := sim.Run(context.Background(), dir, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return dir, m
}

var outputs = []string{sim.EventsFile, sim.InventoryFile, sim.GeoIPFile, sim.ASNFile, sim.LabelsFile, sim.MetaFile}

func TestDeterministic(t *testing.T) {
	cfg := sim.Config{Services: 3, Days: 15, Seed: 7}
	a, _ := run(t, cfg)
	b, _ := run(t, cfg)
	cfg.Seed = 8
	c, _ := run(t, cfg)
	for _, name := range outputs {
		x, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same config", name)
		}
	}
	x, _ := os.ReadFile(filepath.Join(a, sim.EventsFile))
	z, _ := os.ReadFile(filepath.Join(c, sim.EventsFile))
	if bytes.Equal(x, z) {
		t.Errorf("%s is the same for seeds 7 and 8", sim.EventsFile)
	}
}

// event is what the tests check of each event line.
type event struct {
	Time         time.Time `json:"time"`
	KeyID        string    `json:"key_id"`
	Service      string    `json:"service"`
	Env          string    `json:"env"`
	ClientIP     string    `json:"client_ip"`
	Country      string    `json:"country"`
	ASN          uint32    `json:"asn"`
	UserAgent    string    `json:"user_agent"`
	Provider     string    `json:"provider"`
	Model        string    `json:"model"`
	Operation    string    `json:"operation"`
	InputTokens  int64     `json:"input_tokens"`
	OutputTokens int64     `json:"output_tokens"`
	Status       int       `json:"status"`
	LatencyMS    float64   `json:"latency_ms"`
	CostUSD      float64   `json:"cost_usd"`
	RequestID    string    `json:"request_id"`
}

func readEvents(t *testing.T, path string, each func(n int, e *event)) {
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
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		each(n, &e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestRun checks a run with the default services over 15 days (the
// shortest run with every attack).
func TestRun(t *testing.T) {
	dir, meta := run(t, sim.Config{Days: 15, Seed: 3})
	start := sim.DefaultStart
	end := start.AddDate(0, 0, 15)

	keys, err := inventory.Load(filepath.Join(dir, sim.InventoryFile))
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	known := map[string]bool{}
	for _, k := range keys {
		known[k.ID] = true
		if k.Owner == "" || k.Team == "" || k.Service == "" || k.Env == "" || k.OnCall.Webhook == "" ||
			k.Created.IsZero() || k.Expires.IsZero() || len(k.Models) == 0 || len(k.Operations) == 0 || k.Quotas.IsZero() {
			t.Errorf("inventory key %s lacks a field: %+v", k.ID, k)
		}
	}
	if meta.Keys != len(keys) {
		t.Errorf("meta keys %d, inventory has %d", meta.Keys, len(keys))
	}

	var labels []sim.Label
	b, err := os.ReadFile(filepath.Join(dir, sim.LabelsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &labels); err != nil {
		t.Fatal(err)
	}
	var scenarios []string
	for _, l := range labels {
		scenarios = append(scenarios, l.Scenario)
		if l.Start.Before(start.AddDate(0, 0, 14)) || l.End.Before(l.Start) || !l.End.Before(end) || !known[l.KeyID] {
			t.Errorf("label out of range or on an unknown key: %+v", l)
		}
	}
	slices.Sort(scenarios)
	want := slices.Sorted(slices.Values(sim.Scenarios))
	if diff := cmp.Diff(want, scenarios); diff != "" {
		t.Errorf("scenarios (-want +got):\n%s", diff)
	}
	if meta.Attacks != len(labels) {
		t.Errorf("meta attacks %d, labels %d", meta.Attacks, len(labels))
	}

	geo, err := maxminddb.Open(filepath.Join(dir, sim.GeoIPFile))
	if err != nil {
		t.Fatal(err)
	}
	defer geo.Close()
	asn, err := maxminddb.Open(filepath.Join(dir, sim.ASNFile))
	if err != nil {
		t.Fatal(err)
	}
	defer asn.Close()

	var (
		prev      time.Time
		events    int64
		ids       = map[string]bool{}
		keyDays   = map[string]bool{}
		addrs     = map[netip.Addr]bool{}
		attackEvs = map[int]int{}
	)
	readEvents(t, filepath.Join(dir, sim.EventsFile), func(n int, e *event) {
		events++
		if e.Time.Before(prev) {
			t.Fatalf("line %d: time %s before %s", n, e.Time, prev)
		}
		prev = e.Time
		if e.Time.Before(start) || !e.Time.Before(end) {
			t.Fatalf("line %d: time %s outside the run", n, e.Time)
		}
		if !known[e.KeyID] || e.Service == "" || e.Env == "" || e.ClientIP == "" || e.UserAgent == "" ||
			e.Provider == "" || e.Model == "" || e.Operation == "" || e.Status == 0 || e.LatencyMS == 0 || e.RequestID == "" {
			t.Fatalf("line %d: missing a field: %+v", n, e)
		}
		if e.Country != "" || e.ASN != 0 {
			t.Fatalf("line %d: country or asn set; enrichment must fill them", n)
		}
		if e.Status == 200 && (e.InputTokens == 0 || e.CostUSD == 0) {
			t.Fatalf("line %d: a successful request without tokens or cost: %+v", n, e)
		}
		if ids[e.RequestID] {
			t.Fatalf("line %d: duplicate request id %s", n, e.RequestID)
		}
		ids[e.RequestID] = true
		keyDays[e.KeyID+e.Time.Format(time.DateOnly)] = true
		for i, l := range labels {
			if e.KeyID == l.KeyID && !e.Time.Before(l.Start) && !e.Time.After(l.End) {
				attackEvs[i]++
			}
		}
		ip := netip.MustParseAddr(e.ClientIP)
		if addrs[ip] {
			return
		}
		addrs[ip] = true
		var c struct {
			Country struct {
				ISOCode string `maxminddb:"iso_code"`
			} `maxminddb:"country"`
		}
		if err := geo.Lookup(ip).Decode(&c); err != nil || c.Country.ISOCode == "" {
			t.Errorf("line %d: geo database has no country for %s (%v)", n, ip, err)
		}
		var a struct {
			Number uint32 `maxminddb:"autonomous_system_number"`
			Org    string `maxminddb:"autonomous_system_organization"`
		}
		if err := asn.Lookup(ip).Decode(&a); err != nil || a.Number == 0 || a.Org == "" {
			t.Errorf("line %d: ASN database has no AS for %s (%v)", n, ip, err)
		}
	})
	if events != meta.Events {
		t.Errorf("meta events %d, file has %d", meta.Events, events)
	}
	if len(keyDays) != meta.KeyDays {
		t.Errorf("meta key_days %d, events show %d", meta.KeyDays, len(keyDays))
	}
	for i, l := range labels {
		if attackEvs[i] < 20 {
			t.Errorf("%s on %s: only %d events in its window", l.Scenario, l.KeyID, attackEvs[i])
		}
	}
	t.Logf("%d events, %d addresses, %d key-days", events, len(addrs), len(keyDays))
}

// TestSmall checks that tiny and odd configurations run and keep only the
// attacks whose victims exist.
func TestSmall(t *testing.T) {
	tests := []struct {
		name string
		cfg  sim.Config
		want int // attacks
	}{
		{"one service one key", sim.Config{Services: 1, KeysPerService: 1, Days: 15}, 4},
		{"too short for attacks", sim.Config{Services: 2, Days: 3}, 0},
		{"more services than templates", sim.Config{Services: 11, KeysPerService: 3, Days: 2}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, m := run(t, tt.cfg)
			if m.Attacks != tt.want {
				t.Errorf("attacks = %d, want %d", m.Attacks, tt.want)
			}
			if m.Events == 0 {
				t.Errorf("no events")
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  sim.Config
	}{
		{"negative days", sim.Config{Days: -1}},
		{"too many services", sim.Config{Services: 1000}},
		{"start not a date", sim.Config{Start: sim.DefaultStart.Add(time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := sim.Run(context.Background(), t.TempDir(), tt.cfg); err == nil {
				t.Errorf("Run(%+v) = nil error", tt.cfg)
			}
		})
	}
}
