package enrich

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// cacheSize bounds each per-address cache; a full cache is cleared.
const cacheSize = 1 << 16

// Geo finds the country of an address in a MaxMind-format country database
// (GeoLite2-Country or GeoIP2-Country layout). Lookups go through a bounded
// per-address cache, so a Geo is not safe for concurrent use: give each shard
// its own (opening the same file twice shares the page cache).
type Geo struct {
	db    *maxminddb.Reader
	cache map[netip.Addr]string
	codes map[string]string // interned country codes
}

// OpenGeo opens a country database, memory-mapped.
func OpenGeo(path string) (*Geo, error) {
	db, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open geo database %s: %w", path, err)
	}
	if t := db.Metadata.DatabaseType; !strings.Contains(t, "Country") && !strings.Contains(t, "City") {
		db.Close()
		return nil, fmt.Errorf("open geo database %s: type %q is not a country database", path, t)
	}
	return &Geo{db: db, cache: make(map[netip.Addr]string), codes: make(map[string]string)}, nil
}

type countryRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
}

// Country returns the ISO 3166-1 alpha-2 code of addr's country (falling back
// to its registered country), or "" when the database does not know it. The
// result is interned; a cache hit does not allocate.
func (g *Geo) Country(addr netip.Addr) string {
	if !addr.IsValid() {
		return ""
	}
	addr = addr.Unmap()
	if c, ok := g.cache[addr]; ok {
		return c
	}
	var rec countryRecord
	code := ""
	if err := g.db.Lookup(addr).Decode(&rec); err == nil {
		code = rec.Country.ISOCode
		if code == "" {
			code = rec.RegisteredCountry.ISOCode
		}
		if c, ok := g.codes[code]; ok {
			code = c
		} else if len(g.codes) < 1024 {
			g.codes[code] = code
		}
	}
	if len(g.cache) >= cacheSize {
		clear(g.cache)
	}
	g.cache[addr] = code
	return code
}

// Close releases the database.
func (g *Geo) Close() error { return g.db.Close() }

// ASN finds the autonomous system of an address in a MaxMind-format ASN
// database (GeoLite2-ASN layout). Like Geo it caches per address and is not
// safe for concurrent use.
type ASN struct {
	db    *maxminddb.Reader
	cache map[netip.Addr]asnEntry
	orgs  map[uint32]string
}

type asnEntry struct {
	asn uint32
	org string
}

// OpenASN opens an ASN database, memory-mapped.
func OpenASN(path string) (*ASN, error) {
	db, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open asn database %s: %w", path, err)
	}
	if t := db.Metadata.DatabaseType; !strings.Contains(t, "ASN") {
		db.Close()
		return nil, fmt.Errorf("open asn database %s: type %q is not an ASN database", path, t)
	}
	return &ASN{db: db, cache: make(map[netip.Addr]asnEntry), orgs: make(map[uint32]string)}, nil
}

type asnRecord struct {
	Number uint32 `maxminddb:"autonomous_system_number"`
	Org    string `maxminddb:"autonomous_system_organization"`
}

// Lookup returns addr's autonomous system number and organisation, or 0 and
// "" when the database does not know it. A cache hit does not allocate.
func (a *ASN) Lookup(addr netip.Addr) (asn uint32, org string) {
	if !addr.IsValid() {
		return 0, ""
	}
	addr = addr.Unmap()
	if e, ok := a.cache[addr]; ok {
		return e.asn, e.org
	}
	var rec asnRecord
	var e asnEntry
	if err := a.db.Lookup(addr).Decode(&rec); err == nil && rec.Number != 0 {
		e.asn = rec.Number
		if o, ok := a.orgs[rec.Number]; ok && o == rec.Org {
			e.org = o // share one string per AS
		} else {
			e.org = rec.Org
			if len(a.orgs) < cacheSize {
				a.orgs[rec.Number] = rec.Org
			}
		}
	}
	if len(a.cache) >= cacheSize {
		clear(a.cache)
	}
	a.cache[addr] = e
	return e.asn, e.org
}

// OrgName returns the organisation name of an AS seen by earlier lookups, or
// "". It does not allocate.
func (a *ASN) OrgName(asn uint32) string {
	if a == nil {
		return ""
	}
	return a.orgs[asn]
}

// Close releases the database.
func (a *ASN) Close() error { return a.db.Close() }
