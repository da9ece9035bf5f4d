package enrich_test

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/enrich"
	"github.com/keywatch/keywatch/ingest"
	"github.com/keywatch/keywatch/inventory"
)

var nets = []enrich.Network{
	{Prefix: netip.MustParsePrefix("203.0.113.0/24"), Country: "US", ASN: 64500, Org: "Example Cloud"},
	{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Country: "DE", ASN: 64501, Org: "Beispiel GmbH"},
	{Prefix: netip.MustParsePrefix("2001:db8::/32"), Country: "JP", ASN: 64502, Org: "Rei KK"},
}

// openDBs writes tiny country and ASN databases and opens them.
func openDBs(t testing.TB) (*enrich.Geo, *enrich.ASN) {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, f func(io.Writer, []enrich.Network, int64) error) string {
		var b bytes.Buffer
		if err := f(&b, nets, 1700000000); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	geo, err := enrich.OpenGeo(write("country.mmdb", enrich.WriteCountryDB))
	if err != nil {
		t.Fatal(err)
	}
	asn, err := enrich.OpenASN(write("asn.mmdb", enrich.WriteASNDB))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { geo.Close(); asn.Close() })
	return geo, asn
}

func TestLookups(t *testing.T) {
	geo, asn := openDBs(t)
	tests := []struct {
		addr    string
		country string
		asn     uint32
		org     string
	}{
		{"203.0.113.7", "US", 64500, "Example Cloud"},
		{"::ffff:203.0.113.8", "US", 64500, "Example Cloud"},
		{"198.51.100.1", "DE", 64501, "Beispiel GmbH"},
		{"2001:db8::1", "JP", 64502, "Rei KK"},
		{"192.0.2.1", "", 0, ""},
		{"2002::1", "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			a := netip.MustParseAddr(tt.addr)
			for range 2 { // miss, then hit
				if got := geo.Country(a); got != tt.country {
					t.Errorf("Country = %q, want %q", got, tt.country)
				}
				n, org := asn.Lookup(a)
				if n != tt.asn || org != tt.org {
					t.Errorf("Lookup = %d %q, want %d %q", n, org, tt.asn, tt.org)
				}
			}
		})
	}
	if got := geo.Country(netip.Addr{}); got != "" {
		t.Errorf("Country(invalid) = %q", got)
	}
	if got := asn.OrgName(64501); got != "Beispiel GmbH" {
		t.Errorf("OrgName = %q", got)
	}
}

func TestOpenErrors(t *testing.T) {
	geo, asn := openDBs(t)
	_, _ = geo, asn
	if _, err := enrich.OpenGeo(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Error("OpenGeo of a missing file: no error")
	}
	dir := t.TempDir()
	var b bytes.Buffer
	if err := enrich.WriteASNDB(&b, nets, 1); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "asn.mmdb")
	os.WriteFile(p, b.Bytes(), 0o644)
	if _, err := enrich.OpenGeo(p); err == nil {
		t.Error("OpenGeo of an ASN database: no error")
	}
}

func TestEnrich(t *testing.T) {
	geo, asn := openDBs(t)
	keys := []keywatch.Key{{ID: "k1", Service: "search", Env: "prod"}}
	e := &enrich.Enricher{Inventory: inventory.NewIndex(keys), Geo: geo, ASN: asn}
	ev := keywatch.Event{KeyID: "k1", ClientIP: netip.MustParseAddr("198.51.100.9")}
	if k := e.Enrich(&ev); k == nil || k.ID != "k1" {
		t.Fatalf("Enrich returned %v", k)
	}
	want := keywatch.Event{KeyID: "k1", Service: "search", Env: "prod", ClientIP: ev.ClientIP, Country: "DE", ASN: 64501}
	if ev != want {
		t.Errorf("got %+v\nwant %+v", ev, want)
	}
	kept := keywatch.Event{KeyID: "other", Service: "s", Country: "FR", ASN: 7, ClientIP: ev.ClientIP}
	before := kept
	if k := e.Enrich(&kept); k != nil || kept != before {
		t.Errorf("unknown key: got %v %+v", k, kept)
	}
	var none enrich.Enricher
	if k := none.Enrich(&kept); k != nil {
		t.Errorf("empty Enricher returned %v", k)
	}
}

func TestEnrichAllocs(t *testing.T) {
	geo, asn := openDBs(t)
	e := &enrich.Enricher{Inventory: inventory.NewIndex([]keywatch.Key{{ID: "k1", Service: "s"}}), Geo: geo, ASN: asn}
	ev := keywatch.Event{KeyID: "k1", ClientIP: netip.MustParseAddr("203.0.113.7")}
	e.Enrich(&ev)
	if n := testing.AllocsPerRun(1000, func() {
		ev.Country, ev.ASN = "", 0
		e.Enrich(&ev)
	}); n != 0 {
		t.Errorf("allocs per Enrich = %v, want 0", n)
	}
}

func benchAddrs() []netip.Addr {
	var addrs []netip.Addr
	for i := range 100 {
		if i%10 == 0 {
			addrs = append(addrs, netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", i)))
		} else {
			addrs = append(addrs, netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}))
		}
	}
	return addrs
}

func BenchmarkEnrich(b *testing.B) {
	geo, asn := openDBs(b)
	var keys []keywatch.Key
	for i := range 60 {
		keys = append(keys, keywatch.Key{ID: fmt.Sprintf("svc-%02d-key-%d", i/3, i), Service: "s", Env: "prod"})
	}
	e := &enrich.Enricher{Inventory: inventory.NewIndex(keys), Geo: geo, ASN: asn}
	addrs := benchAddrs()
	b.ReportAllocs()
	var ev keywatch.Event
	for i := 0; b.Loop(); i++ {
		ev = keywatch.Event{KeyID: keys[i%len(keys)].ID, ClientIP: addrs[i%len(addrs)]}
		e.Enrich(&ev)
	}
}

func BenchmarkDecodeEnrich(b *testing.B) {
	geo, asn := openDBs(b)
	var keys []keywatch.Key
	var data []byte
	addrs := benchAddrs()
	for i := range 60 {
		keys = append(keys, keywatch.Key{ID: fmt.Sprintf("svc-%02d-key-%d", i/3, i), Service: "s", Env: "prod"})
	}
	for i := range 10000 {
		ev := keywatch.Event{KeyID: keys[i%len(keys)].ID, ClientIP: addrs[(i*7)%len(addrs)],
			UserAgent: "openai-python/1.40.0 (Linux; x86_64) CPython/3.12.4", Provider: "openai", Model: "gpt-4o-mini",
			Operation: "chat", InputTokens: int64(i % 4000), OutputTokens: int64(i % 800), Status: 200,
			LatencyMS: float64(i%30000) / 10, RequestID: fmt.Sprintf("req_%016x", i*7919)}
		ev.Time = ev.Time.AddDate(2026, 0, 0).Add(37 * 1e6 * time.Duration(i))
		data = ingest.AppendNative(data, &ev)
	}
	e := &enrich.Enricher{Inventory: inventory.NewIndex(keys), Geo: geo, ASN: asn}
	r := bytes.NewReader(data)
	d := ingest.NewNative(r)
	b.SetBytes(int64(len(data) / 10000))
	b.ReportAllocs()
	var ev keywatch.Event
	for b.Loop() {
		err := d.Next(&ev)
		if err == io.EOF {
			r.Reset(data)
			d.Reset(r)
			err = d.Next(&ev)
		}
		if err != nil {
			b.Fatal(err)
		}
		e.Enrich(&ev)
	}
}
