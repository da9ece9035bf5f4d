package detect

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/profile"
)

// expired fires expired-key-use on any use of a key past its expiry, or
// disabled or revoked in the inventory.
func (c *check) expired() {
	k := c.key
	if !k.ExpiredAt(c.ev.Time) {
		return
	}
	why := "expired " + k.Expires.UTC().Format(time.DateOnly)
	if k.Status == keywatch.KeyDisabled || k.Status == keywatch.KeyRevoked {
		why = string(k.Status) + " in the inventory"
	}
	if !c.should(iExpired) {
		return
	}
	c.fire(iExpired, keywatch.SeverityCritical, c.t,
		"Use of an expired or revoked key",
		fmt.Sprintf("%s was used %s from %s although it is %s.", c.ev.KeyID, c.opDesc(), c.origin(), why),
		map[string]any{
			"key_status": statusOf(k),
			"expires":    dateOrNil(k.Expires),
			"status":     c.ev.Status,
		})
}

// authFailure fires auth-failures on a burst of 401/403 on one key, or on
// one address failing across many keys.
func (c *check) authFailure() {
	cfg := c.e.cfg.AuthFailures
	n := c.p.Auth.Add(c.t)
	threshold := max(float64(cfg.MinFailures), cfg.Factor*float64(c.p.Auth.Peak))
	if float64(n) >= threshold && c.should(iAuth) {
		c.fire(iAuth, keywatch.SeverityHigh, c.t-300,
			"Burst of authentication failures",
			fmt.Sprintf("%s got %d refused requests (401/403) in 5 minutes from %s; usual is %.0f, threshold %.0f.",
				c.ev.KeyID, n, c.origin(), c.p.Auth.Peak, threshold),
			map[string]any{"failures_5m": n, "baseline_5m": round1(float64(c.p.Auth.Peak)), "threshold": threshold, "last_status": c.ev.Status})
	}
	if !c.ev.ClientIP.IsValid() {
		return
	}
	f := c.e.ipFails[c.ev.ClientIP]
	if f == nil {
		if len(c.e.ipFails) >= 1<<16 {
			c.e.ipFails = make(map[netip.Addr]*ipFailures) // crude bound; failing addresses are few
		}
		f = &ipFailures{}
		c.e.ipFails[c.ev.ClientIP] = f
	}
	if c.t-f.last > 300 {
		f.n = 0
	}
	f.last = c.t
	f.fails.Add(c.t)
	seen := false
	for i := 0; i < f.n; i++ {
		seen = seen || f.keys[i] == c.ev.KeyID
	}
	if !seen {
		if f.n == len(f.keys) {
			copy(f.keys[:], f.keys[1:])
			f.n--
		}
		f.keys[f.n] = c.ev.KeyID
		f.n++
	}
	if f.n >= cfg.MinKeysPerAddress {
		keys := append([]string(nil), f.keys[:f.n]...)
		if !c.should(iAuth) {
			return
		}
		c.fire(iAuth, keywatch.SeverityHigh, c.t-300,
			"One address failing authentication across keys",
			fmt.Sprintf("%s was refused on %d different keys within 5 minutes, most recently %s: someone is trying credentials.",
				c.ev.ClientIP, f.n, c.ev.KeyID),
			map[string]any{"keys": keys, "distinct_keys": f.n, "threshold": cfg.MinKeysPerAddress})
	}
}

// volume fires volume-spike when the sliding minute's requests or tokens
// exceed Factor times the usual busiest minute for this hour of the week.
func (c *check) volume() {
	cfg := c.e.cfg.VolumeSpike
	m := c.p.Volume.Add(c.t, c.ev.Tokens())
	if c.svc != nil {
		c.svc.Volume.Add(c.t, c.ev.Tokens())
		if c.incident {
			c.svc.Volume.Poison()
		}
	}
	if c.incident {
		c.p.Volume.Poison()
	}
	j := c.judge()
	if j == nil {
		return
	}
	base, ok := j.Volume.Baseline(c.t)
	if !ok {
		return
	}
	reqLimit := max(cfg.Factor*float64(base.Req), cfg.MinRPM)
	tokLimit := max(cfg.Factor*float64(base.Tok), cfg.MinTPM)
	var what string
	var obs, baseline, limit float64
	switch {
	case float64(m.Req) > reqLimit:
		what, obs, baseline, limit = "requests", float64(m.Req), float64(base.Req), reqLimit
	case float64(m.Tok) > tokLimit:
		what, obs, baseline, limit = "tokens", float64(m.Tok), float64(base.Tok), tokLimit
	default:
		return
	}
	ratio := obs / max(baseline, 1)
	sev := keywatch.SeverityHigh
	if ratio >= 4*cfg.Factor {
		sev = keywatch.SeverityCritical
	}
	slot := time.Unix(c.t, 0).UTC().Format("Mon 15:00")
	from := "the key's"
	if j == c.svc {
		from = "its service's"
	}
	c.p.Volume.Poison()
	if !c.should(iVolume) {
		return
	}
	c.fire(iVolume, sev, c.t-60,
		"Request volume far above baseline",
		fmt.Sprintf("%s made %.0f %s in the last minute, %.1fx %s usual busiest minute around %s UTC (%.0f); threshold %.0f.",
			c.ev.KeyID, obs, what, ratio, from, slot, baseline, limit),
		map[string]any{
			"measure": what, "observed_per_min": obs, "baseline_per_min": round1(baseline),
			"threshold_per_min": round1(limit), "ratio": round1(ratio), "baseline_of": baselineOf(j == c.svc),
			"requests_last_min": m.Req, "tokens_last_min": m.Tok,
		})
}

// country fires new-country-high-tokens when a country outside the baseline
// (or outside the key's declared countries) uses many tokens within the
// window.
func (c *check) country() {
	code := c.ev.Country
	if code == "" {
		return
	}
	cfg := c.e.cfg.NewCountry
	id := profile.CountryID(code)
	ent, _ := c.p.Countries.Observe(id, c.now, c.ev.Tokens(), c.learning, c.e.cfg.MaxCountries)
	if c.svc != nil {
		c.svc.Countries.Observe(id, c.now, c.ev.Tokens(), c.svc.Age(c.t) < c.e.cfg.Learn.Seconds(), c.e.cfg.MaxCountries)
	}
	win := profile.Minute(cfg.Window.Seconds() / 60)
	if c.now-ent.Since >= win {
		ent.Since, ent.Tokens = c.now, uint32(min(c.ev.Tokens(), 1<<32-1))
	}
	declared := c.key != nil && len(c.key.Countries) > 0
	var novel bool
	switch {
	case declared:
		novel = !contains(c.key.Countries, code)
	case c.judge() == c.p:
		novel = !ent.Established
	case c.judge() != nil:
		novel = !c.svc.Countries.Known(id, c.now)
	}
	if !novel || int64(ent.Tokens) < cfg.MinTokens {
		return
	}
	usual := c.usualCountries()
	if !c.should(iCountry) {
		return
	}
	c.fire(iCountry, keywatch.SeverityHigh, int64(ent.First)*60,
		"High token use from a new country",
		fmt.Sprintf("%s used %d tokens from %s (%s) within %s of its first request there; its usual countries are %s.",
			c.ev.KeyID, ent.Tokens, code, c.origin(), time.Duration(cfg.Window), usual),
		map[string]any{
			"country": code, "tokens_in_window": ent.Tokens, "window": time.Duration(cfg.Window).String(),
			"threshold_tokens": cfg.MinTokens, "requests_from_country": ent.Count, "usual_countries": usual,
			"declared_countries": declared, "first_seen_there": time.Unix(int64(ent.First)*60, 0).UTC(),
		})
}

// asn fires new-asn when an autonomous system outside the baseline makes
// several requests within the window.
func (c *check) asn() {
	if c.ev.ASN == 0 {
		return
	}
	cfg := c.e.cfg.NewASN
	ent, _ := c.p.ASNs.Observe(c.ev.ASN, c.now, c.ev.Tokens(), c.learning, c.e.cfg.MaxASNs)
	if c.svc != nil {
		c.svc.ASNs.Observe(c.ev.ASN, c.now, c.ev.Tokens(), c.svc.Age(c.t) < c.e.cfg.Learn.Seconds(), c.e.cfg.MaxASNs)
	}
	var novel bool
	switch j := c.judge(); {
	case j == c.p:
		novel = !ent.Established
	case j != nil:
		novel = !c.svc.ASNs.Known(c.ev.ASN, c.now)
	}
	if !novel || int(ent.Count) < cfg.MinRequests || c.t-int64(ent.First)*60 > cfg.Window.Seconds()+60 {
		return
	}
	if !c.should(iASN) {
		return
	}
	c.fire(iASN, keywatch.SeverityMedium, int64(ent.First)*60,
		"Key used from a new network",
		fmt.Sprintf("%s made %d requests from AS%d (%s), a network it has not used in the last 30 days.",
			c.ev.KeyID, ent.Count, c.ev.ASN, c.origin()),
		map[string]any{"asn": c.ev.ASN, "requests_from_asn": ent.Count, "usual_asns": c.usualASNs()})
}

// fanout fires ip-fanout when one key is used from many more addresses at
// once than usual.
func (c *check) fanout() {
	if !c.ev.ClientIP.IsValid() {
		return
	}
	cfg := c.e.cfg.IPFanout
	f := &c.p.Fanout
	threshold := max(float64(cfg.MinAddresses), cfg.Factor*float64(f.Peak))
	n := f.Add(c.t, c.ev.ClientIP, min(int(threshold)+1, 1024), c.incident)
	if c.learning || float64(n) < threshold {
		return
	}
	if !c.should(iFanout) {
		return
	}
	c.fire(iFanout, keywatch.SeverityCritical, c.t-300,
		"Key used from many addresses at once",
		fmt.Sprintf("%s was used from %d distinct addresses in 5 minutes; usual is %.0f, threshold %.0f. A shared or leaked key looks like this.",
			c.ev.KeyID, n, f.Peak, threshold),
		map[string]any{"distinct_addresses_5m": n, "baseline_5m": round1(float64(f.Peak)), "threshold": threshold})
}

// model fires model-deviation on a model or operation outside the key's
// declared allow-lists, or new to its profile and much dearer than what it
// uses.
func (c *check) model() {
	ev := c.ev
	if ev.Model == "" && ev.Operation == "" {
		return
	}
	cfg := c.e.cfg.ModelDeviation
	mid, oid := c.e.syms.id(ev.Model), c.e.syms.id(ev.Operation)
	price := c.e.syms.prices[mid]
	var ment, oent *profile.Entry
	if mid != 0 {
		ment, _ = c.p.Models.Observe(mid, c.now, ev.Tokens(), c.learning, c.e.cfg.MaxModels)
		if c.svc != nil {
			c.svc.Models.Observe(mid, c.now, ev.Tokens(), c.svc.Age(c.t) < c.e.cfg.Learn.Seconds(), c.e.cfg.MaxModels)
		}
	}
	if oid != 0 {
		oent, _ = c.p.Operations.Observe(oid, c.now, 0, c.learning, c.e.cfg.MaxModels)
		if c.svc != nil {
			c.svc.Operations.Observe(oid, c.now, 0, c.svc.Age(c.t) < c.e.cfg.Learn.Seconds(), c.e.cfg.MaxModels)
		}
	}
	if ment != nil && ment.Established && float32(price) > c.p.MaxPrice {
		c.p.MaxPrice = float32(price)
	}

	if k := c.key; k != nil && (!k.AllowsModel(ev.Model) || !k.AllowsOperation(ev.Operation)) {
		if !c.should(iModel) {
			return
		}
		c.fire(iModel, keywatch.SeverityHigh, c.t,
			"Model or operation outside the key's allow-list",
			fmt.Sprintf("%s called %s %s from %s; the inventory allows models %v and operations %v.",
				ev.KeyID, ev.Operation, ev.Model, c.origin(), k.Models, k.Operations),
			map[string]any{"model": ev.Model, "operation": ev.Operation, "allowed_models": k.Models,
				"allowed_operations": k.Operations, "price_usd_per_mtok": round1(price)})
		return
	}
	j := c.judge()
	if j == nil {
		return
	}
	novelOp := oid != 0 && len(j.Operations.Entries) > 0 && !j.Operations.Known(oid, c.now) && costlyOp(ev.Operation)
	usualPrice := float64(j.MaxPrice)
	novelModel := mid != 0 && !j.Models.Known(mid, c.now) && price > 0 &&
		price >= cfg.PriceFactor*max(usualPrice, 0.05)
	if j == c.p {
		novelOp = novelOp && oent != nil && !oent.Established
		novelModel = novelModel && ment != nil && !ment.Established
	}
	if !novelOp && !novelModel {
		return
	}
	if !c.should(iModel) {
		return
	}
	c.fire(iModel, keywatch.SeverityHigh, c.t,
		"Model or operation outside the usual profile",
		fmt.Sprintf("%s called %s %s (%.2f USD per million tokens) from %s; its profile uses %s at up to %.2f USD.",
			ev.KeyID, ev.Operation, ev.Model, price, c.origin(), c.usualModels(j), usualPrice),
		map[string]any{"model": ev.Model, "operation": ev.Operation, "price_usd_per_mtok": round1(price),
			"usual_max_price_usd_per_mtok": round1(usualPrice), "new_operation": novelOp, "new_model": novelModel})
}

// costlyOp reports whether op generates text or media, as opposed to the
// cheap embeddings and moderation calls.
func costlyOp(op string) bool {
	switch op {
	case "embeddings", "moderation", "moderations":
		return false
	}
	return true
}
