package detect_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/detect"
)

var t0 = time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC) // a Monday

// benign returns days of seasonal traffic for one key: busy office hours,
// quiet nights and weekends, from two addresses in one country and network.
func benign(keyID string, days int, seed uint64) []keywatch.Event {
	r := rand.New(rand.NewPCG(seed, 1))
	var evs []keywatch.Event
	ips := []netip.Addr{netip.MustParseAddr("3.80.0.10"), netip.MustParseAddr("3.80.0.11")}
	for m := 0; m < days*24*60; m++ {
		t := t0.Add(time.Duration(m) * time.Minute)
		rate := 0.5
		if h := t.Hour(); h >= 8 && h < 18 {
			rate = 6
		}
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			rate /= 4
		}
		n := poisson(r, rate)
		for i := 0; i < n; i++ {
			evs = append(evs, keywatch.Event{
				Time: t.Add(time.Duration(r.IntN(60)) * time.Second), KeyID: keyID, Service: "svc", Env: "prod",
				ClientIP: ips[r.IntN(2)], Country: "US", ASN: 14618, Model: "gpt-4o-mini", Operation: "chat",
				InputTokens: 500 + int64(r.IntN(500)), OutputTokens: 100 + int64(r.IntN(100)), Status: 200,
			})
		}
	}
	slices.SortStableFunc(evs, func(a, b keywatch.Event) int { return a.Time.Compare(b.Time) })
	return evs
}

func poisson(r *rand.Rand, lambda float64) int {
	n, p := 0, 1.0
	for l := math.Exp(-lambda); ; n++ {
		p *= r.Float64()
		if p < l {
			return n
		}
	}
}

func run(t *testing.T, e *detect.Engine, evs []keywatch.Event, key *keywatch.Key) []*keywatch.Alert {
	t.Helper()
	var out []*keywatch.Alert
	for i := range evs {
		e.Process(&evs[i], key, func(a *keywatch.Alert) { out = append(out, a) })
	}
	return out
}

func rules(as []*keywatch.Alert) []string {
	var r []string
	for _, a := range as {
		if !slices.Contains(r, a.Rule) {
			r = append(r, a.Rule)
		}
	}
	slices.Sort(r)
	return r
}

func TestBenignIsQuiet(t *testing.T) {
	e := detect.New(detect.DefaultConfig())
	if got := run(t, e, benign("k1", 21, 1), nil); len(got) != 0 {
		t.Fatalf("benign traffic fired %d alerts, first: %s", len(got), got[0].Summary)
	}
}

func at(day int, hour, min int) time.Time {
	return t0.Add(time.Duration(day)*24*time.Hour + time.Duration(hour)*time.Hour + time.Duration(min)*time.Minute)
}

func attack(start time.Time, n int, every time.Duration, f func(i int, ev *keywatch.Event)) []keywatch.Event {
	evs := make([]keywatch.Event, n)
	for i := range evs {
		evs[i] = keywatch.Event{
			Time: start.Add(time.Duration(i) * every), KeyID: "k1", Service: "svc", Env: "prod",
			ClientIP: netip.MustParseAddr("88.198.1.2"), Country: "DE", ASN: 24940, UserAgent: "python-requests/2.32.3",
			Model: "gpt-4o", Operation: "chat", InputTokens: 800, OutputTokens: 400, Status: 200,
		}
		f(i, &evs[i])
	}
	return evs
}

func merge(a, b []keywatch.Event) []keywatch.Event {
	out := append(slices.Clone(a), b...)
	slices.SortStableFunc(out, func(x, y keywatch.Event) int { return x.Time.Compare(y.Time) })
	return out
}

func TestAttacks(t *testing.T) {
	base := benign("k1", 15, 7)
	start := at(14, 10, 30)
	tests := []struct {
		name     string
		attack   []keywatch.Event
		key      *keywatch.Key
		want     string // a rule that must fire
		maxDelay time.Duration
	}{
		{"volume burst", attack(start, 3000, 50*time.Millisecond, func(int, *keywatch.Event) {}), nil, detect.RuleVolumeSpike, time.Minute},
		{"new country long prompts", attack(start, 30, 30*time.Second, func(_ int, ev *keywatch.Event) { ev.InputTokens = 60000 }), nil, detect.RuleNewCountry, 10 * time.Minute},
		{"new network", attack(start, 10, 10*time.Second, func(_ int, ev *keywatch.Event) { ev.Country = "US"; ev.ASN = 14061 }), nil, detect.RuleNewASN, 10 * time.Minute},
		{"fan-out", attack(start, 400, time.Second, func(i int, ev *keywatch.Event) {
			ev.ClientIP = netip.AddrFrom4([4]byte{100, 64, byte(i / 200), byte(i)})
			ev.Country, ev.ASN = "US", 14618
		}), nil, detect.RuleIPFanout, 5 * time.Minute},
		{"auth failures", attack(start, 200, time.Second, func(_ int, ev *keywatch.Event) { ev.Status = 401 }), nil, detect.RuleAuthFailures, 5 * time.Minute},
		{"expensive model, learned profile", attack(start, 5, time.Minute, func(_ int, ev *keywatch.Event) { ev.Model = "claude-opus-4"; ev.Country, ev.ASN = "US", 14618 }), nil, detect.RuleModelDeviation, time.Minute},
		{"model outside allow-list", attack(start, 5, time.Minute, func(_ int, ev *keywatch.Event) { ev.Model = "gpt-4.1"; ev.Country, ev.ASN = "US", 14618 }),
			&keywatch.Key{ID: "k1", Models: []string{"gpt-4o-mini"}}, detect.RuleModelDeviation, time.Minute},
		{"expired key", attack(start, 5, time.Minute, func(_ int, ev *keywatch.Event) {}),
			&keywatch.Key{ID: "k1", Expires: at(14, 0, 0)}, detect.RuleExpiredKeyUse, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := detect.New(detect.DefaultConfig())
			e.Clock = func() time.Time { return t0 }
			var key *keywatch.Key
			evs := merge(base, tt.attack)
			var alerts []*keywatch.Alert
			for i := range evs {
				key = nil
				if tt.key != nil && !evs[i].Time.Before(start) {
					key = tt.key
				}
				e.Process(&evs[i], key, func(a *keywatch.Alert) { alerts = append(alerts, a) })
			}
			var first *keywatch.Alert
			for _, a := range alerts {
				if a.Time.Before(start) {
					t.Errorf("alert before the attack: %s %s", a.Rule, a.Summary)
				}
				if a.Rule == tt.want && first == nil {
					first = a
				}
			}
			if first == nil {
				t.Fatalf("%s did not fire; got %v", tt.want, rules(alerts))
			}
			if d := first.Time.Sub(start); d > tt.maxDelay {
				t.Errorf("%s fired after %v, want within %v", tt.want, d, tt.maxDelay)
			}
			if first.Summary == "" || len(first.Evidence) == 0 || len(first.Tags) == 0 || first.Owner != "" && tt.key == nil {
				t.Errorf("alert does not explain itself: %+v", first)
			}
		})
	}
}

func TestDedupOneAlertPerIncident(t *testing.T) {
	e := detect.New(detect.DefaultConfig())
	evs := merge(benign("k1", 15, 3), attack(at(14, 10, 0), 6000, 100*time.Millisecond, func(int, *keywatch.Event) {}))
	var n int
	for i := range evs {
		e.Process(&evs[i], nil, func(a *keywatch.Alert) {
			if a.Rule == detect.RuleVolumeSpike {
				n++
			}
		})
	}
	if n != 1 {
		t.Fatalf("a 10-minute burst fired volume-spike %d times, want 1", n)
	}
}

func TestSaveLoadContinues(t *testing.T) {
	evs := merge(benign("k1", 15, 5), attack(at(14, 10, 30), 3000, 50*time.Millisecond, func(int, *keywatch.Event) {}))
	split := slices.IndexFunc(evs, func(ev keywatch.Event) bool { return !ev.Time.Before(at(10, 0, 0)) })

	whole := detect.New(detect.DefaultConfig())
	want := run(t, whole, evs, nil)

	first := detect.New(detect.DefaultConfig())
	if got := run(t, first, evs[:split], nil); len(got) != 0 {
		t.Fatalf("first half fired %d alerts", len(got))
	}
	var buf bytes.Buffer
	if err := first.Save(&buf); err != nil {
		t.Fatal(err)
	}
	second := detect.New(detect.DefaultConfig())
	if err := second.Load(&buf); err != nil {
		t.Fatal(err)
	}
	got := run(t, second, evs[split:], nil)
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("resumed run fired %d alerts, whole run %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Summary != want[i].Summary {
			t.Errorf("alert %d differs:\n got %s\nwant %s", i, got[i].Summary, want[i].Summary)
		}
	}
	if err := detect.New(detect.DefaultConfig()).Load(bytes.NewReader([]byte("garbage"))); keywatch.ErrorCode(err) != keywatch.EINVALID {
		t.Fatalf("loading garbage: %v, want an invalid-input error", err)
	}
}

func TestConfig(t *testing.T) {
	cfg, err := detect.ParseConfig([]byte("version: 1\nvolume_spike: {factor: 8}\nnew_country_high_tokens: {window: 5m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.VolumeSpike.Factor != 8 || cfg.VolumeSpike.MinRPM != 30 || time.Duration(cfg.NewCountry.Window) != 5*time.Minute {
		t.Fatalf("override did not keep defaults: %+v", cfg)
	}
	for _, bad := range []string{"volume_spike: {factr: 8}", "version: 2", "volume_spike: {factor: 0.5}\nip_fanout: {min_addresses: 1}", "learn: soon", "disabled: [nope]"} {
		if _, err := detect.ParseConfig([]byte(bad)); keywatch.ErrorCode(err) != keywatch.EINVALID {
			t.Errorf("ParseConfig(%q) = %v, want an invalid-input error", bad, err)
		}
	}
}

func sortEvents(evs []keywatch.Event) {
	slices.SortStableFunc(evs, func(a, b keywatch.Event) int { return a.Time.Compare(b.Time) })
}

// TestProcessDoesNotAllocate asserts the hot path's zero-allocation
// contract: once keys have learned, a benign event allocates nothing.
func TestProcessDoesNotAllocate(t *testing.T) {
	evs := benign("k1", 9, 4)
	split := slices.IndexFunc(evs, func(ev keywatch.Event) bool { return !ev.Time.Before(at(8, 0, 0)) })
	e := detect.New(detect.DefaultConfig())
	emit := func(a *keywatch.Alert) { t.Errorf("unexpected alert: %s", a.Summary) }
	for i := range evs[:split] {
		e.Process(&evs[i], nil, emit)
	}
	rest := evs[split:]
	i := 0
	allocs := testing.AllocsPerRun(len(rest)-1, func() {
		e.Process(&rest[i], nil, emit)
		i++
	})
	if allocs != 0 {
		t.Fatalf("Process allocates %.2f times per event, want 0", allocs)
	}
}
