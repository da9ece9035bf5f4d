// Package detect runs the built-in detectors over enriched events, keeping a
// profile per key and per service, and emits alerts that explain
// themselves.
//
// An Engine is driven by event time only: replaying a file and serving live
// traffic run the same code and fire the same alerts. It is owned by one
// goroutine; shard keys across engines for parallelism.
package detect

import (
	"net/netip"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/profile"
)

// Engine holds the profiles and runs the detectors. Not safe for concurrent
// use.
type Engine struct {
	cfg      Config
	disabled [nRules]bool

	keys     map[string]*KeyState
	services map[string]*profile.Key
	syms     symbols
	ipFails  map[netip.Addr]*ipFailures

	// Clock returns the wall-clock time stamped as detected_at; nil means
	// time.Now.
	Clock func() time.Time

	stats Stats
}

// Stats counts what an Engine has seen.
type Stats struct {
	Events int64
	Alerts map[string]int64 // by rule
}

// KeyState is the engine's state of one key: its profile and the incident
// book-keeping of each rule.
type KeyState struct {
	Profile profile.Key
	Service string
	// LastFired is the Unix second each rule last fired or last held while
	// deduplicated; 0 when never.
	LastFired [nRules]int64
	// Incident is the Unix second each rule's current incident started.
	Incident [nRules]int64
}

const nRules = 7

const (
	iVolume = iota
	iCountry
	iModel
	iASN
	iFanout
	iAuth
	iExpired
)

// ruleIndex maps rule ids to their index in KeyState arrays; Rules has the
// same order.
func ruleIndex(id string) int {
	for i, r := range Rules {
		if r == id {
			return i
		}
	}
	return -1
}

// New returns an Engine with cfg, which must be valid.
func New(cfg Config) *Engine {
	e := &Engine{
		cfg:      cfg,
		keys:     make(map[string]*KeyState),
		services: make(map[string]*profile.Key),
		ipFails:  make(map[netip.Addr]*ipFailures),
		syms:     newSymbols(),
		stats:    Stats{Alerts: make(map[string]int64)},
	}
	for _, r := range cfg.Disabled {
		if i := ruleIndex(r); i >= 0 {
			e.disabled[i] = true
		}
	}
	return e
}

// Stats returns counts so far.
func (e *Engine) Stats() Stats { return e.stats }

// Keys returns the number of keys profiled.
func (e *Engine) Keys() int { return len(e.keys) }

// Process runs every detector on ev, whose enrichment is done, with key its
// inventory record (nil when unknown), and passes each alert fired to emit.
// ev is not retained. Events should come in nondecreasing time order per
// key; small disorder is tolerated.
func (e *Engine) Process(ev *keywatch.Event, key *keywatch.Key, emit func(*keywatch.Alert)) {
	e.stats.Events++
	ks := e.keys[ev.KeyID]
	if ks == nil {
		ks = &KeyState{Service: ev.Service}
		e.keys[ev.KeyID] = ks
	}
	var svc *profile.Key
	if ks.Service != "" {
		svc = e.services[ks.Service]
		if svc == nil {
			svc = &profile.Key{}
			e.services[ks.Service] = svc
		}
	}
	c := check{e: e, ev: ev, key: key, ks: ks, p: &ks.Profile, svc: svc, emit: emit}
	c.t = ev.Time.Unix()
	c.now = profile.MinuteOf(c.t)
	c.p.Touch(c.t)
	if svc != nil {
		svc.Touch(c.t)
	}
	learn := e.cfg.Learn.Seconds()
	c.learning = c.p.Age(c.t) < learn
	c.svcMature = svc != nil && svc.Age(c.t) >= learn
	c.incident = ks.inIncident(c.t, e.cfg.Dedup.Seconds())

	if key != nil {
		c.expired()
	}
	if ev.AuthFailure() {
		// Refused requests cost nothing and must not teach the baseline
		// where the key is used from.
		c.authFailure()
		return
	}
	c.volume()
	c.country()
	c.asn()
	c.fanout()
	c.model()
	if !c.learning {
		c.p.ObserveInput(ev.InputTokens)
	}
}

func (ks *KeyState) inIncident(t, dedup int64) bool {
	for _, last := range ks.LastFired {
		if last != 0 && t-last < dedup {
			return true
		}
	}
	return false
}

// check is the work of one event: the state it touches, gathered once.
type check struct {
	e         *Engine
	ev        *keywatch.Event
	key       *keywatch.Key
	ks        *KeyState
	p         *profile.Key
	svc       *profile.Key // nil when the event names no service
	emit      func(*keywatch.Alert)
	t         int64 // Unix second
	now       profile.Minute
	learning  bool // the key is younger than Config.Learn
	svcMature bool // the service is at least Config.Learn old
	incident  bool // a rule fired on the key within Config.Dedup
}

// judge returns the profile novelty is judged against: the key's own once
// it has learned, else its service's when that has, else none.
func (c *check) judge() *profile.Key {
	switch {
	case !c.learning:
		return c.p
	case c.svcMature:
		return c.svc
	}
	return nil
}

// symbols interns model and operation names to small ids for profile sets,
// and caches each model's price.
type symbols struct {
	ids    map[string]uint32
	names  []string
	prices []float64 // blended price by id; 0 when unknown
}

func newSymbols() symbols {
	return symbols{ids: make(map[string]uint32), names: []string{""}, prices: []float64{0}}
}

func (s *symbols) id(name string) uint32 {
	if name == "" {
		return 0
	}
	if id, ok := s.ids[name]; ok {
		return id
	}
	id := uint32(len(s.names))
	s.ids[name] = id
	s.names = append(s.names, name)
	p, _ := ModelPrice(name)
	s.prices = append(s.prices, p.blended())
	return id
}

type ipFailures struct {
	fails profile.Failures
	keys  [8]string // distinct keys failing recently, newest last
	n     int
	last  int64
}
