package enrich

import (
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/inventory"
)

// Enricher fills what an event leaves out from the inventory and the geo and
// ASN databases. Any of its fields may be nil. It is not safe for concurrent
// use (Geo and ASN cache per address): use one Enricher per shard.
type Enricher struct {
	Inventory *inventory.Index
	Geo       *Geo
	ASN       *ASN
}

// Enrich looks up ev.KeyID in the inventory and returns its key record (nil
// when absent or with no inventory). It fills ev.Service and ev.Env from the
// key when they are empty, ev.Country when empty and ClientIP is valid, and
// ev.ASN when 0 and ClientIP is valid. In steady state (cache hits) it does
// not allocate.
func (e *Enricher) Enrich(ev *keywatch.Event) *keywatch.Key {
	k := e.Inventory.Lookup(ev.KeyID)
	if k != nil {
		if ev.Service == "" {
			ev.Service = k.Service
		}
		if ev.Env == "" {
			ev.Env = k.Env
		}
	}
	if ev.ClientIP.IsValid() {
		if ev.Country == "" && e.Geo != nil {
			ev.Country = e.Geo.Country(ev.ClientIP)
		}
		if ev.ASN == 0 && e.ASN != nil {
			ev.ASN, _ = e.ASN.Lookup(ev.ClientIP)
		}
	}
	return k
}

// OrgName returns the organisation name of asn for alert evidence, or "" when
// no ASN database is set or it has not seen asn.
func (e *Enricher) OrgName(asn uint32) string { return e.ASN.OrgName(asn) }
