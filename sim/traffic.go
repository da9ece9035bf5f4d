package sim

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/keywatch/keywatch"
)

// dayShape is the weekday level of business traffic by local hour (linearly
// interpolated between hours): a night trough, a morning ramp, a lunch dip
// and an evening tail.
var dayShape = [25]float64{
	0.10, 0.08, 0.07, 0.07, 0.08, 0.12, 0.22, 0.40, 0.70, 0.92, 1.00, 1.00,
	0.86, 0.95, 1.00, 0.97, 0.90, 0.75, 0.55, 0.40, 0.30, 0.22, 0.16, 0.12, 0.10,
}

// devShape is the level of a developer key: office hours only.
var devShape = [25]float64{
	0, 0, 0, 0, 0, 0, 0, 0.02, 0.2, 0.7, 1, 1,
	0.5, 0.9, 1, 1, 0.8, 0.5, 0.2, 0.08, 0.03, 0.01, 0, 0, 0,
}

func shapeAt(tab *[25]float64, h float64) float64 {
	i := int(h)
	f := h - float64(i)
	return tab[i]*(1-f) + tab[i+1]*f
}

// item is an event with the index of the key it belongs to.
type item struct {
	ev    keywatch.Event
	owner int32
}

// keyGen generates one key's benign traffic, a minute at a time. Each key
// has its own random stream, so attacks never change benign traffic.
type keyGen struct {
	idx     int
	id      string
	svc     *service
	env     string
	dev     bool
	sites   []*site
	peak    float64   // business-hours requests per minute
	from    time.Time // first minute with traffic; zero for the whole run
	until   time.Time // first minute without traffic; zero for the whole run
	rng     *rand.Rand
	dayMul  []float64 // ±15% day-to-day
	hourMul []float64 // hourly noise
	batch   []window  // nightly batch windows, by day
	devIPs  [][]netip.Addr
	days    []bool // days with at least one event

	// migration of the chat service: fraction of traffic on models[1]
	migrate time.Time
	inv     keywatch.Key
}

// window is a nightly batch run.
type window struct {
	start, end time.Time
	mul        float64
}

// initNoise draws the key's day and hour multipliers and batch windows.
func (k *keyGen) initNoise(start time.Time, days int) {
	k.dayMul = make([]float64, days)
	for d := range k.dayMul {
		k.dayMul[d] = 0.85 + 0.3*k.rng.Float64()
	}
	k.hourMul = make([]float64, days*24)
	for h := range k.hourMul {
		k.hourMul[h] = math.Exp(0.1 * k.rng.NormFloat64())
	}
	k.days = make([]bool, days)
	if k.svc.role == roleBatch && !k.dev {
		k.batch = make([]window, days)
		for d := range k.batch {
			s := start.Add(time.Duration(d)*24*time.Hour + time.Hour + time.Duration(k.rng.IntN(31)-15)*time.Minute)
			k.batch[d] = window{start: s, end: s.Add(90*time.Minute + time.Duration(k.rng.IntN(11)-5)*time.Minute), mul: 8 + 7*k.rng.Float64()}
		}
	}
	if k.dev {
		pool := make([]netip.Addr, 6)
		for i := range pool {
			pool[i] = addrIn(k.rng, k.svc.dev.prefix)
		}
		k.devIPs = make([][]netip.Addr, days)
		for d := range k.devIPs {
			n := 1 + k.rng.IntN(3)
			for range n {
				k.devIPs[d] = append(k.devIPs[d], pool[k.rng.IntN(len(pool))])
			}
		}
	}
}

// active reports whether the key is in use at t.
func (k *keyGen) active(t time.Time) bool {
	return (k.from.IsZero() || !t.Before(k.from)) && (k.until.IsZero() || t.Before(k.until))
}

// baseRate is the expected requests per minute from site s at t, without
// noise. day is the simulation day of t.
func (k *keyGen) baseRate(s *site, t time.Time, day int) float64 {
	if k.batch != nil && day < len(k.batch) {
		if w := k.batch[day]; !t.Before(w.start) && t.Before(w.end) {
			return k.peak * w.mul
		}
	}
	lt := t.In(s.loc)
	h := float64(lt.Hour()) + float64(lt.Minute())/60
	weekend := lt.Weekday() == time.Saturday || lt.Weekday() == time.Sunday
	var r float64
	if k.dev {
		r = k.peak * shapeAt(&devShape, h)
		if weekend {
			r *= 0.03
		}
	} else {
		r = k.peak * s.weight * shapeAt(&dayShape, h)
		if weekend {
			r *= k.svc.weekend
		}
	}
	if k.svc.role == roleGrowth {
		r *= math.Pow(1.015, float64(day))
	}
	return r
}

// expectedRate is the key's expected requests per minute at t over all its
// sites, without noise.
func (k *keyGen) expectedRate(t time.Time, day int) float64 {
	var sum float64
	for _, s := range k.sites {
		sum += k.baseRate(s, t, day)
	}
	return sum
}

// appendMinute appends the key's events of the minute starting at t0,
// minute m of the run.
func (k *keyGen) appendMinute(items []item, t0 time.Time, m int) []item {
	if !k.active(t0) {
		return items
	}
	day, hour := m/1440, m/60
	for _, s := range k.sites {
		lambda := k.baseRate(s, t0, day) * k.dayMul[day] * k.hourMul[hour]
		n := poisson(k.rng, lambda)
		for range n {
			items = append(items, item{owner: int32(k.idx)})
			k.fill(&items[len(items)-1].ev, t0.Add(time.Duration(k.rng.IntN(60000))*time.Millisecond), s, day)
		}
	}
	return items
}

// fill sets ev to one benign request of the key at t from site s.
func (k *keyGen) fill(ev *keywatch.Event, t time.Time, s *site, day int) {
	r := k.rng
	svc := k.svc
	*ev = keywatch.Event{
		Time: t, KeyID: k.id, Service: svc.name, Env: k.env,
		UserAgent: svc.ua, Provider: svc.provider, Operation: svc.ops[0], Status: 200,
	}
	if k.dev {
		ips := k.devIPs[day]
		ev.ClientIP = ips[r.IntN(len(ips))]
		if r.IntN(10) == 0 {
			ev.UserAgent = "curl/8.7.1"
		}
	} else {
		ev.ClientIP = s.ips[r.IntN(len(s.ips))]
	}
	ev.Model = k.pickModel(t)
	inBatch := k.batch != nil && !t.Before(k.batch[day].start) && t.Before(k.batch[day].end)
	u := r.Float64()
	switch {
	case inBatch && u < 0.03:
		ev.Status = 429
	case u < 0.0004:
		ev.Status = 500
	case u < 0.0006:
		ev.Status = 401
	}
	if ev.Status != 200 {
		ev.LatencyMS = round1(15 + 40*r.Float64())
		return
	}
	ev.InputTokens = clamp(int64(lognormal(r, svc.inMed, svc.inSigma)), 4, 120000)
	if svc.ops[0] == "embeddings" {
		ev.LatencyMS = round1(lognormal(r, 70, 0.3))
	} else {
		ev.OutputTokens = clamp(int64(lognormal(r, svc.outMed, svc.outSigma)), 1, 16000)
		ev.LatencyMS = round1(250 + float64(ev.OutputTokens)*msPerToken(ev.Model)*lognormal(r, 1, 0.2))
	}
	ev.CostUSD = cost(ev.Model, ev.InputTokens, ev.OutputTokens)
}

// pickModel chooses the model of a request: mostly the main one, some on the
// second; the chat service migrates gpt-4o → gpt-4.1 as a canary.
func (k *keyGen) pickModel(t time.Time) string {
	m := k.svc.models
	if len(m) == 1 {
		return m[0]
	}
	u := k.rng.Float64()
	if k.svc.role == roleChat {
		if u < 0.15 && len(m) > 2 {
			return m[2]
		}
		if k.rng.Float64() < k.migrationShare(t) {
			return m[1]
		}
		return m[0]
	}
	if u < 0.15 {
		return m[1]
	}
	return m[0]
}

// migrationShare is the canary's share at t: 5% the first day, 25% the next
// two, then everything.
func (k *keyGen) migrationShare(t time.Time) float64 {
	if k.migrate.IsZero() || t.Before(k.migrate) {
		return 0
	}
	switch d := t.Sub(k.migrate); {
	case d < 24*time.Hour:
		return 0.05
	case d < 72*time.Hour:
		return 0.25
	}
	return 1
}

// price is a model's list price in USD per million tokens.
type price struct{ in, out float64 }

func modelPrice(model string) price {
	switch model {
	case "gpt-4o":
		return price{2.5, 10}
	case "gpt-4o-mini":
		return price{0.15, 0.6}
	case "gpt-4.1":
		return price{2, 8}
	case "gpt-4.1-mini":
		return price{0.4, 1.6}
	case "o1":
		return price{15, 60}
	case "o3":
		return price{2, 8}
	case "text-embedding-3-small":
		return price{0.02, 0}
	case "claude-3-5-haiku":
		return price{0.8, 4}
	case "claude-sonnet-4":
		return price{3, 15}
	case "claude-opus-4":
		return price{15, 75}
	case "gemini-2.0-flash":
		return price{0.1, 0.4}
	case "gemini-2.5-pro":
		return price{1.25, 10}
	}
	return price{1, 4}
}

func cost(model string, in, out int64) float64 {
	p := modelPrice(model)
	c := (float64(in)*p.in + float64(out)*p.out) / 1e6
	return math.Round(c*1e7) / 1e7
}

// msPerToken is a model's streaming time per output token.
func msPerToken(model string) float64 {
	switch model {
	case "gpt-4o-mini", "gpt-4.1-mini", "claude-3-5-haiku", "gemini-2.0-flash":
		return 7
	case "o1", "claude-opus-4":
		return 25
	}
	return 14
}

// poisson draws a Poisson variate: exact for small means, normal
// approximation for large ones.
func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda < 30 {
		l, p, n := math.Exp(-lambda), 1.0, 0
		for {
			p *= r.Float64()
			if p <= l {
				return n
			}
			n++
		}
	}
	return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())))
}

func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

func clamp(v, lo, hi int64) int64 { return min(max(v, lo), hi) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }
