// Package sim generates labelled LLM API traffic for testing detection, and
// scores alerts against the labels.
//
// Run writes a month of usage events for a small organisation (services in
// several regions and time zones, with daily and weekly seasonality, a
// nightly batch job, growth, a model migration and a key rotation) plus
// injected attacks, together with the inventory, geo and ASN databases that
// cover every address used, the attack labels and a metadata file. The same
// Config always gives the same bytes. Evaluate scores a detector's alerts
// against the labels.
package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/keywatch/keywatch"
)

// Config says what to simulate. Zero Services, KeysPerService, Days and
// Start mean their defaults; Seed is used as it is (0 is a seed like any
// other; the command line's default is DefaultSeed).
type Config struct {
	Services       int       // number of services; default 8
	KeysPerService int       // keys per service (the last is a dev key when ≥ 2); default 2
	Days           int       // length of the run in days; default 35
	Seed           uint64    // random seed; the same Config gives the same bytes
	Start          time.Time // first day (midnight UTC); default DefaultStart

	// Progress, when set, is called once per simulated day with the day
	// finished and the events written so far.
	Progress func(day, days int, events int64)
}

// DefaultStart is the default first day of a simulation, fixed so that runs
// are reproducible.
var DefaultStart = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

// Defaults of Config.
const (
	DefaultServices       = 8
	DefaultKeysPerService = 2
	DefaultDays           = 35
	DefaultSeed           = 1
)

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Services == 0 {
		c.Services = DefaultServices
	}
	if c.KeysPerService == 0 {
		c.KeysPerService = DefaultKeysPerService
	}
	if c.Days == 0 {
		c.Days = DefaultDays
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	var problems []string
	if c.Services < 1 || c.Services > 200 {
		problems = append(problems, fmt.Sprintf("services %d: want 1 to 200", c.Services))
	}
	if c.KeysPerService < 1 || c.KeysPerService > 20 {
		problems = append(problems, fmt.Sprintf("keys per service %d: want 1 to 20", c.KeysPerService))
	}
	if c.Days < 1 || c.Days > 366 {
		problems = append(problems, fmt.Sprintf("days %d: want 1 to 366", c.Days))
	}
	c.Start = c.Start.UTC()
	if !c.Start.Equal(c.Start.Truncate(24 * time.Hour)) {
		problems = append(problems, fmt.Sprintf("start %s: want a date (midnight UTC)", c.Start.Format(time.RFC3339)))
	}
	if len(problems) > 0 {
		return c, keywatch.Errorf(keywatch.EINVALID, "simulation config: %s", joinProblems(problems))
	}
	return c, nil
}

func joinProblems(p []string) string {
	s := p[0]
	for _, x := range p[1:] {
		s += "; " + x
	}
	return s
}

// Label is one injected attack: its scenario, the key it used, and the
// times of its first and last events.
type Label struct {
	Scenario string    `json:"scenario"`
	KeyID    string    `json:"key_id"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
}

// Attack scenarios, the stable names used in labels.
const (
	ScenarioVolumeBurst   = "volume-burst"
	ScenarioLowSlow       = "low-slow-new-country"
	ScenarioModelAbuse    = "model-abuse"
	ScenarioPublicLeak    = "public-leak-fanout"
	ScenarioAuthFailures  = "auth-failure-burst"
	ScenarioExpiredKeyUse = "expired-key-use"
)

// Fixed points of the plan.
const (
	firstAttackDay      = 14 // attacks start after two weeks of learning
	migrationDayPercent = 45 // the model migration starts this far into the run
	rotationHourUTC     = 10 // the rotated key switches at this hour of the middle day
	rotationGraceDays   = 1  // the old key expires this long after the rotation day
	streamPlan          = 0x706c616e
	streamAttacks       = 2000
)

// Scenarios lists every attack scenario, in the order they are planned.
var Scenarios = []string{
	ScenarioVolumeBurst, ScenarioLowSlow, ScenarioModelAbuse,
	ScenarioPublicLeak, ScenarioAuthFailures, ScenarioExpiredKeyUse,
}

// Meta describes a finished simulation (sim.json).
type Meta struct {
	Seed    uint64    `json:"seed"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Days    int       `json:"days"`
	Keys    int       `json:"keys"`
	KeyDays int       `json:"key_days"` // Σ over keys of days with at least one event
	Events  int64     `json:"events"`
	Attacks int       `json:"attacks"`
}

// world is a planned simulation: services, keys and attacks.
type world struct {
	cfg        Config
	start, end time.Time
	services   []*service
	keys       []*keyGen
	attacks    []*attack
	rotatedOld *keyGen // the key rotated out, or nil
}

func newRand(seed uint64, stream int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(stream)))
}

// plan builds the world of cfg (already defaulted).
func plan(cfg Config) (*world, error) {
	w := &world{cfg: cfg, start: cfg.Start, end: cfg.Start.AddDate(0, 0, cfg.Days)}
	pr := newRand(cfg.Seed, streamPlan)
	var err error
	if w.services, err = buildServices(pr, cfg.Services); err != nil {
		return nil, err
	}
	nprod := max(1, cfg.KeysPerService-1)
	ndev := cfg.KeysPerService - nprod
	day := 24 * time.Hour
	add := func(k *keyGen) {
		k.idx = len(w.keys)
		k.rng = newRand(cfg.Seed, 1000+k.idx)
		k.initNoise(w.start, cfg.Days)
		k.inv = inventoryKey(k, pr, w.start)
		w.keys = append(w.keys, k)
	}
	for si, s := range w.services {
		for n := 1; n <= nprod; n++ {
			k := &keyGen{id: fmt.Sprintf("%s-prod-%d", s.name, n), svc: s, env: "prod", sites: s.sites,
				peak: s.peak / float64(nprod) * (0.85 + 0.3*pr.Float64())}
			if s.role == roleChat {
				k.migrate = w.start.Add(time.Duration(cfg.Days*migrationDayPercent/100)*day + 15*time.Hour)
			}
			add(k)
			if s.role == roleRotate && n == 1 && cfg.Days >= 2 {
				rotDay := w.start.Add(time.Duration(cfg.Days/2) * day)
				sw := rotDay.Add(rotationHourUTC * time.Hour)
				nk := &keyGen{id: fmt.Sprintf("%s-prod-%d", s.name, nprod+1), svc: s, env: "prod", sites: s.sites,
					peak: k.peak, from: sw}
				k.until = sw
				add(nk)
				k.inv.Rotated = rotDay
				k.inv.Expires = rotDay.Add(rotationGraceDays * day)
				k.inv.Labels["replaced_by"] = nk.id
				nk.inv.Created = rotDay
				nk.inv.Rotated = time.Time{}
				nk.inv.Expires = rotDay.AddDate(1, 0, 0)
				nk.inv.Labels["replaces"] = k.id
				w.rotatedOld = k
			}
		}
		for n := 1; n <= ndev; n++ {
			env := "dev"
			if si%2 == 1 {
				env = "staging"
			}
			add(&keyGen{id: fmt.Sprintf("%s-%s-%d", s.name, env, n), svc: s, env: env, dev: true,
				sites: s.sites[:1], peak: 1.5 + 1.5*pr.Float64()})
		}
	}
	// A few keys declare where they may be used; detection must learn the
	// rest.
	for _, k := range w.keys {
		if k.dev {
			continue
		}
		switch k.svc.role {
		case roleRotate:
			k.inv.Countries = []string{k.sites[0].net.country}
		case roleEmbed:
			k.inv.CIDRs = append(k.inv.CIDRs, k.sites[0].net.prefix)
		}
	}
	w.attacks = planAttacks(w)
	return w, nil
}
