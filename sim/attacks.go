package sim

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/keywatch/keywatch"
)

// attack is one injected attack with its events, precomputed in time order
// (attacks are small next to the benign traffic).
type attack struct {
	scenario string
	victim   *keyGen
	events   []item
	next     int // first event not yet emitted
}

func (a *attack) first() time.Time { return a.events[0].ev.Time }
func (a *attack) last() time.Time  { return a.events[len(a.events)-1].ev.Time }

// label returns the attack's label.
func (a *attack) label() Label {
	return Label{Scenario: a.scenario, KeyID: a.victim.id, Start: a.first().UTC(), End: a.last().UTC()}
}

// attackerUAs are the user agents of attack tooling.
var attackerUAs = []string{
	"python-requests/2.32.3", "curl/8.5.0", "OpenAI/Python 1.54.4",
	"Python/3.11 aiohttp/3.9.5", "Go-http-client/2.0",
}

// attackPlanner places attacks on victims deterministically.
type attackPlanner struct {
	w    *world
	r    *rand.Rand
	used map[*keyGen][]window // windows taken on each victim (lookups only)
}

// planAttacks places one attack of each scenario whose victim exists, from
// day 14 on, never overlapping another attack on the same key.
func planAttacks(w *world) []*attack {
	if w.cfg.Days <= firstAttackDay {
		return nil
	}
	p := &attackPlanner{w: w, r: newRand(w.cfg.Seed, streamAttacks), used: map[*keyGen][]window{}}
	var out []*attack
	for i, sc := range Scenarios {
		ar := newRand(w.cfg.Seed, streamAttacks+1+i)
		for try := 0; try < 40; try++ {
			victim := p.victim(sc)
			if victim == nil {
				break
			}
			a := p.build(ar, sc, victim)
			if a == nil || len(a.events) == 0 || !a.last().Before(w.end) || p.overlaps(victim, a) {
				continue
			}
			slices.SortStableFunc(a.events, func(x, y item) int { return x.ev.Time.Compare(y.ev.Time) })
			p.used[victim] = append(p.used[victim], window{start: a.first(), end: a.last()})
			out = append(out, a)
			break
		}
	}
	slices.SortStableFunc(out, func(x, y *attack) int {
		return cmp.Or(x.first().Compare(y.first()), cmp.Compare(x.scenario, y.scenario))
	})
	return out
}

func (p *attackPlanner) overlaps(k *keyGen, a *attack) bool {
	const margin = 2 * time.Hour
	for _, u := range p.used[k] {
		if a.first().Before(u.end.Add(margin)) && u.start.Before(a.last().Add(margin)) {
			return true
		}
	}
	return false
}

// victim picks the key a scenario targets, preferring keys no attack has
// used yet.
func (p *attackPlanner) victim(sc string) *keyGen {
	var cands []*keyGen
	for _, k := range p.w.keys {
		if k.dev || !k.from.IsZero() || !k.until.IsZero() {
			continue
		}
		ok := false
		switch r := k.svc.role; sc {
		case ScenarioVolumeBurst:
			ok = r == roleChat || r == roleGeneric || r == roleGrowth || r == roleMulti
		case ScenarioLowSlow:
			ok = (r == roleChat || r == roleGeneric || r == roleMulti) && k.peak >= 5
		case ScenarioModelAbuse:
			ok = r == roleEmbed
		case ScenarioPublicLeak, ScenarioAuthFailures:
			ok = r != roleEmbed
		}
		if ok {
			cands = append(cands, k)
		}
	}
	if sc == ScenarioExpiredKeyUse && p.w.rotatedOld != nil {
		cands = append(cands, p.w.rotatedOld)
	}
	if len(cands) == 0 {
		return nil
	}
	var fresh []*keyGen
	for _, k := range cands {
		if len(p.used[k]) == 0 {
			fresh = append(fresh, k)
		}
	}
	if len(fresh) > 0 {
		cands = fresh
	}
	return cands[p.r.IntN(len(cands))]
}

// build makes the events of one attack, or returns nil when the drawn time
// does not suit the scenario.
func (p *attackPlanner) build(r *rand.Rand, sc string, k *keyGen) *attack {
	w := p.w
	days := w.cfg.Days
	d := firstAttackDay + r.IntN(days-firstAttackDay)
	date := w.start.AddDate(0, 0, d)
	anyTime := date.Add(time.Duration(r.IntN(24*60)) * time.Minute)
	local := func(h int) time.Time { // business hours in the victim's main time zone
		loc := k.sites[0].loc
		t := time.Date(date.Year(), date.Month(), date.Day(), h, r.IntN(60), 0, 0, loc)
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			return time.Time{}
		}
		return t.UTC()
	}
	b := &attackBuilder{r: r, k: k, a: &attack{scenario: sc, victim: k}}
	switch sc {
	case ScenarioVolumeBurst:
		t := local(10 + r.IntN(5))
		if t.IsZero() || t.Before(w.start.AddDate(0, 0, firstAttackDay)) {
			return nil
		}
		b.volumeBurst(t, w)
	case ScenarioLowSlow:
		t := local(9 + r.IntN(3))
		if t.IsZero() || t.Before(w.start.AddDate(0, 0, firstAttackDay)) {
			return nil
		}
		if !b.lowSlow(t, w) {
			return nil
		}
	case ScenarioModelAbuse:
		b.modelAbuse(anyTime)
	case ScenarioPublicLeak:
		b.fanout(anyTime)
	case ScenarioAuthFailures:
		b.authBurst(anyTime)
	case ScenarioExpiredKeyUse:
		if !anyTime.After(k.inv.Expires) {
			return nil
		}
		b.expired(anyTime)
	}
	return b.a
}

// attackBuilder appends an attack's events.
type attackBuilder struct {
	r *rand.Rand
	k *keyGen
	a *attack
}

// nets returns the attacker networks of the given kinds in neither a
// country nor an AS the victim uses.
func (b *attackBuilder) nets(kinds ...netKind) []*network {
	var out []*network
	for _, n := range networks {
		if !slices.Contains(kinds, n.kind) {
			continue
		}
		clash := false
		for _, s := range b.k.sites {
			if s.net.country == n.country || s.net.asn == n.asn {
				clash = true
			}
		}
		if !clash {
			out = append(out, n)
		}
	}
	return out
}

// ips draws n addresses from one attacker network of the given kinds.
func (b *attackBuilder) ips(n int, kinds ...netKind) []netip.Addr {
	ns := b.nets(kinds...)
	net := ns[b.r.IntN(len(ns))]
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = addrIn(b.r, net.prefix)
	}
	return out
}

func (b *attackBuilder) ua() string { return attackerUAs[b.r.IntN(len(attackerUAs))] }

// add appends one attack request at t.
func (b *attackBuilder) add(t time.Time, ip netip.Addr, ua, model, op string, in, out int64, status int) {
	ev := keywatch.Event{
		Time: t, KeyID: b.k.id, Service: b.k.svc.name, Env: b.k.env, ClientIP: ip, UserAgent: ua,
		Provider: b.k.svc.provider, Model: model, Operation: op, Status: status,
	}
	if status == 200 {
		ev.InputTokens, ev.OutputTokens = in, out
		ev.LatencyMS = round1(250 + float64(out)*msPerToken(model)*lognormal(b.r, 1, 0.2))
		ev.CostUSD = cost(model, in, out)
	} else {
		ev.LatencyMS = round1(15 + 45*b.r.Float64())
	}
	b.a.events = append(b.a.events, item{ev: ev, owner: int32(b.k.idx)})
}

// at returns a time uniformly in the minute starting at t, to the
// millisecond.
func (b *attackBuilder) at(t time.Time) time.Time {
	return t.Add(time.Duration(b.r.IntN(60000)) * time.Millisecond)
}

func (b *attackBuilder) expensiveModel() string {
	switch b.k.svc.provider {
	case "anthropic":
		return "claude-opus-4"
	case "google":
		return "gemini-2.5-pro"
	}
	return "gpt-4o"
}

func (b *attackBuilder) tokens(inMed, outMed float64) (int64, int64) {
	return clamp(int64(lognormal(b.r, inMed, 0.7)), 10, 120000), clamp(int64(lognormal(b.r, outMed, 0.5)), 1, 16000)
}

// volumeBurst: 30–100x the key's normal rate for that hour, for 20–60 min,
// from a couple of VPS addresses, on an expensive model.
func (b *attackBuilder) volumeBurst(start time.Time, w *world) {
	r := b.r
	dur := 20 + r.IntN(41)
	factor := 30 + 70*r.Float64()
	ips := b.ips(2, kindVPS)
	ua, model := b.ua(), b.expensiveModel()
	for m := range dur {
		t0 := start.Add(time.Duration(m) * time.Minute)
		day := int(t0.Sub(w.start) / (24 * time.Hour))
		n := poisson(r, min(3000, factor*max(1, b.k.expectedRate(t0, day))))
		for range n {
			in, out := b.tokens(2000, 900)
			status := 200
			if r.IntN(50) == 0 {
				status = 429
			}
			b.add(b.at(t0), ips[r.IntN(len(ips))], ua, model, "chat", in, out, status)
		}
	}
}

// lowSlow: 1–3 requests a minute with 40k–120k-token prompts for a few
// hours from a new country, below the key's normal rate.
func (b *attackBuilder) lowSlow(start time.Time, w *world) bool {
	r := b.r
	day := int(start.Sub(w.start) / (24 * time.Hour))
	normal := b.k.expectedRate(start, day)
	rate := 1 + 2*r.Float64()
	if rate > normal/2 {
		rate = normal / 2
	}
	if rate < 1 {
		return false
	}
	dur := 120 + r.IntN(121)
	ips := b.ips(1+r.IntN(2), kindResidential, kindMobile, kindVPS)
	ua, model := b.ua(), b.k.svc.models[0]
	for m := range dur {
		t0 := start.Add(time.Duration(m) * time.Minute)
		for range poisson(r, rate) {
			in := 40000 + r.Int64N(80001)
			out := clamp(int64(lognormal(r, 1500, 0.5)), 1, 16000)
			b.add(b.at(t0), ips[r.IntN(len(ips))], ua, model, "chat", in, out, 200)
		}
	}
	return true
}

// modelAbuse: the embeddings-only key used for expensive chat for about an
// hour at a modest rate.
func (b *attackBuilder) modelAbuse(start time.Time) {
	r := b.r
	dur := 50 + r.IntN(21)
	rate := 2 + 3*r.Float64()
	ips := b.ips(1+r.IntN(2), kindVPS)
	ua := b.ua()
	for m := range dur {
		t0 := start.Add(time.Duration(m) * time.Minute)
		for range poisson(r, rate) {
			model := "gpt-4o"
			if r.IntN(10) < 3 {
				model = "o1"
			}
			in, out := b.tokens(3000, 800)
			b.add(b.at(t0), ips[r.IntN(len(ips))], ua, model, "chat", in, out, 200)
		}
	}
}

// fanout: a key posted publicly: hundreds of addresses across many
// countries and networks, most arriving in the first minutes, each making a
// few requests.
func (b *attackBuilder) fanout(start time.Time) {
	r := b.r
	dur := float64(30 + r.IntN(61))
	nets := b.nets(kindVPS, kindResidential, kindMobile)
	addrs := 200 + r.IntN(301)
	models := []string{b.k.svc.models[0], b.expensiveModel()}
	for range addrs {
		net := nets[r.IntN(len(nets))]
		ip := addrIn(r, net.prefix)
		ua := b.ua()
		u := r.Float64()
		t := start.Add(time.Duration(dur * u * u * float64(time.Minute))).Truncate(time.Millisecond)
		for range 1 + r.IntN(5) {
			status := 200
			if r.IntN(12) == 0 {
				status = 429
			}
			in, out := b.tokens(800, 400)
			b.add(t, ip, ua, models[r.IntN(len(models))], "chat", in, out, status)
			t = t.Add(time.Duration(2000+r.IntN(118000)) * time.Millisecond)
		}
	}
}

// authBurst: hundreds of 401s within minutes from one or two addresses.
func (b *attackBuilder) authBurst(start time.Time) {
	r := b.r
	n := 200 + r.IntN(401)
	span := int64(3+r.IntN(6)) * 60000
	ips := b.ips(1+r.IntN(2), kindVPS)
	ua := attackerUAs[r.IntN(2)]
	for range n {
		t := start.Add(time.Duration(r.Int64N(span)) * time.Millisecond)
		b.add(t, ips[r.IntN(len(ips))], ua, b.k.svc.models[0], b.k.svc.ops[0], 0, 0, 401)
	}
}

// expired: the rotated-out key used after it expired, at a modest rate, for
// about an hour.
func (b *attackBuilder) expired(start time.Time) {
	r := b.r
	dur := 45 + r.IntN(31)
	rate := 1 + 3*r.Float64()
	ips := b.ips(1, kindVPS, kindResidential)
	ua := b.ua()
	for m := range dur {
		t0 := start.Add(time.Duration(m) * time.Minute)
		for range poisson(r, rate) {
			in, out := b.tokens(b.k.svc.inMed, b.k.svc.outMed)
			b.add(b.at(t0), ips[0], ua, b.k.svc.models[0], "chat", in, out, 200)
		}
	}
}
