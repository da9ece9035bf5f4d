package sim

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"
	_ "time/tzdata" // the plan's time zones must not depend on the host's zoneinfo

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/enrich"
)

// netKind says who uses a network, so that attacks can pick plausible ones.
type netKind int

const (
	kindCloud netKind = iota
	kindOffice
	kindVPS
	kindResidential
	kindMobile
)

// network is one address range of the address plan.
type network struct {
	name    string
	prefix  netip.Prefix
	country string
	asn     uint32
	org     string
	kind    netKind
}

// networks is the address plan: real-looking public ranges, each with its
// own country and AS, so that a country or an ASN means something. No two
// overlap, and every address the simulator uses lies in one of them.
var networks = []*network{
	{"aws-us-east-1", pfx("3.80.0.0/12"), "US", 14618, "AMAZON-AES", kindCloud},
	{"aws-eu-west-1", pfx("34.240.0.0/13"), "IE", 16509, "AMAZON-02", kindCloud},
	{"aws-ap-southeast-1", pfx("13.228.0.0/15"), "SG", 16509, "AMAZON-02", kindCloud},
	{"gcp-us-central1", pfx("34.64.0.0/11"), "US", 396982, "GOOGLE-CLOUD-PLATFORM", kindCloud},
	{"azure-westeurope", pfx("20.40.0.0/13"), "NL", 8075, "MICROSOFT-CORP-MSN-AS-BLOCK", kindCloud},
	{"comcast", pfx("73.0.0.0/8"), "US", 7922, "COMCAST-7922", kindOffice},
	{"deutsche-telekom", pfx("80.128.0.0/11"), "DE", 3320, "Deutsche Telekom AG", kindOffice},
	{"hetzner-de", pfx("88.198.0.0/16"), "DE", 24940, "Hetzner Online GmbH", kindVPS},
	{"hetzner-fi", pfx("95.216.0.0/16"), "FI", 24940, "Hetzner Online GmbH", kindVPS},
	{"ovh-fr", pfx("51.38.0.0/16"), "FR", 16276, "OVH SAS", kindVPS},
	{"digitalocean-sg", pfx("128.199.0.0/16"), "SG", 14061, "DIGITALOCEAN-ASN", kindVPS},
	{"digitalocean-in", pfx("139.59.0.0/16"), "IN", 14061, "DIGITALOCEAN-ASN", kindVPS},
	{"m247-ro", pfx("146.70.0.0/16"), "RO", 9009, "M247 Europe SRL", kindVPS},
	{"vultr-jp", pfx("45.76.0.0/15"), "JP", 20473, "AS-CHOOPA", kindVPS},
	{"claro-br", pfx("177.32.0.0/12"), "BR", 28573, "Claro NXT Telecomunicacoes Ltda", kindResidential},
	{"viettel-vn", pfx("27.64.0.0/12"), "VN", 7552, "Viettel Group", kindMobile},
	{"rostelecom-ru", pfx("178.64.0.0/12"), "RU", 12389, "PJSC Rostelecom", kindResidential},
	{"telkom-id", pfx("36.64.0.0/11"), "ID", 7713, "PT Telekomunikasi Indonesia", kindResidential},
	{"mtn-ng", pfx("105.112.0.0/12"), "NG", 29465, "MTN NIGERIA Communication limited", kindMobile},
	{"jio-in", pfx("49.32.0.0/11"), "IN", 55836, "Reliance Jio Infocomm Limited", kindMobile},
	{"turktelekom-tr", pfx("78.160.0.0/11"), "TR", 9121, "Turk Telekomunikasyon Anonim Sirketi", kindResidential},
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) } // constants only

func netByName(name string) *network {
	for _, n := range networks {
		if n.name == name {
			return n
		}
	}
	return nil
}

// Networks returns the address plan as the geo and ASN database writers
// take it.
func Networks() []enrich.Network {
	out := make([]enrich.Network, len(networks))
	for i, n := range networks {
		out[i] = enrich.Network{Prefix: n.prefix, Country: n.country, ASN: n.asn, Org: n.org}
	}
	return out
}

// addrIn returns a random host address inside p (IPv4), avoiding the
// network and broadcast addresses of each /24.
func addrIn(r *rand.Rand, p netip.Prefix) netip.Addr {
	base := p.Masked().Addr().As4()
	b := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	size := uint32(1) << (32 - p.Bits())
	for {
		v := b + r.Uint32N(size)
		if last := v & 0xff; last != 0 && last != 255 {
			return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		}
	}
}

// role is what makes a service special in the simulation.
type role int

const (
	roleChat    role = iota // chat service that migrates gpt-4o → gpt-4.1
	roleEmbed               // embeddings only
	roleRotate              // its prod key is rotated mid-simulation
	roleBatch               // nightly batch job
	roleMulti               // deployed in three regions
	roleGrowth              // grows ~1.5% a day
	roleGeneric             // plain business-hours service
)

// siteSpec is where a service runs: a cloud region, its local time zone,
// its share of the traffic and how many egress addresses it has.
type siteSpec struct {
	net    string
	tz     string
	weight float64
	ips    int
}

// serviceSpec is a service template.
type serviceSpec struct {
	name, team, owner string
	role              role
	provider          string
	models            []string // allow-list; models[0] is the main model
	ops               []string
	ua                string
	sites             []siteSpec
	peak              float64 // business-hours requests per minute, all prod keys together
	weekend           float64 // weekend level relative to weekdays
	inMed, inSigma    float64 // input tokens, lognormal
	outMed, outSigma  float64 // output tokens, lognormal
	office            string  // office network of its developers
}

// specs are the service templates, special roles first, so that a small
// --services still has the most interesting ones. Services past the list
// repeat the generic templates with a number.
var specs = []serviceSpec{
	{name: "support-bot", team: "support", owner: "maya.chen@example.com", role: roleChat, provider: "openai",
		models: []string{"gpt-4o", "gpt-4.1", "gpt-4o-mini"}, ops: []string{"chat"}, ua: "OpenAI/Python 1.51.2",
		sites: []siteSpec{{"aws-us-east-1", "America/New_York", 1, 3}}, peak: 8, weekend: 0.35,
		inMed: 900, inSigma: 0.9, outMed: 260, outSigma: 0.7, office: "comcast"},
	{name: "search-embed", team: "search", owner: "dana.ortiz@example.com", role: roleEmbed, provider: "openai",
		models: []string{"text-embedding-3-small"}, ops: []string{"embeddings"}, ua: "OpenAI/Python 1.47.0",
		sites: []siteSpec{{"gcp-us-central1", "America/Chicago", 1, 8}}, peak: 10, weekend: 0.3,
		inMed: 180, inSigma: 0.6, office: "comcast"},
	{name: "billing-insights", team: "finance", owner: "lars.becker@example.com", role: roleRotate, provider: "openai",
		models: []string{"gpt-4o-mini"}, ops: []string{"chat"}, ua: "OpenAI/JS 4.67.3",
		sites: []siteSpec{{"aws-eu-west-1", "Europe/Dublin", 1, 2}}, peak: 3, weekend: 0.2,
		inMed: 1400, inSigma: 0.8, outMed: 300, outSigma: 0.6, office: "deutsche-telekom"},
	{name: "nightly-etl", team: "data", owner: "priya.nair@example.com", role: roleBatch, provider: "openai",
		models: []string{"gpt-4o-mini", "gpt-4.1-mini"}, ops: []string{"chat"}, ua: "OpenAI/Python 1.51.2",
		sites: []siteSpec{{"aws-us-east-1", "America/New_York", 1, 12}}, peak: 2.5, weekend: 0.4,
		inMed: 1200, inSigma: 0.7, outMed: 180, outSigma: 0.6, office: "comcast"},
	{name: "assistant", team: "platform", owner: "sam.okafor@example.com", role: roleMulti, provider: "anthropic",
		models: []string{"claude-sonnet-4", "claude-3-5-haiku"}, ops: []string{"chat"}, ua: "Anthropic/Python 0.39.0",
		sites: []siteSpec{
			{"aws-us-east-1", "America/New_York", 0.5, 4},
			{"aws-eu-west-1", "Europe/Dublin", 0.3, 3},
			{"aws-ap-southeast-1", "Asia/Singapore", 0.2, 3},
		}, peak: 10, weekend: 0.3,
		inMed: 1100, inSigma: 0.9, outMed: 350, outSigma: 0.8, office: "comcast"},
	{name: "doc-summarizer", team: "legal", owner: "ines.moreau@example.com", role: roleGrowth, provider: "openai",
		models: []string{"gpt-4.1-mini"}, ops: []string{"chat"}, ua: "OpenAI/Python 1.51.2",
		sites: []siteSpec{{"azure-westeurope", "Europe/Amsterdam", 1, 2}}, peak: 2.5, weekend: 0.25,
		inMed: 6000, inSigma: 0.8, outMed: 500, outSigma: 0.5, office: "deutsche-telekom"},
	{name: "sales-copilot", team: "sales", owner: "tom.reyes@example.com", role: roleGeneric, provider: "anthropic",
		models: []string{"claude-3-5-haiku", "claude-sonnet-4"}, ops: []string{"chat"}, ua: "Anthropic/JS 0.32.1",
		sites: []siteSpec{{"gcp-us-central1", "America/Los_Angeles", 1, 4}}, peak: 5, weekend: 0.25,
		inMed: 700, inSigma: 0.8, outMed: 220, outSigma: 0.7, office: "comcast"},
	{name: "translate", team: "i18n", owner: "jonas.weber@example.com", role: roleGeneric, provider: "google",
		models: []string{"gemini-2.0-flash"}, ops: []string{"chat"}, ua: "google-genai-sdk/1.2.0 gl-python/3.12.4",
		sites: []siteSpec{{"azure-westeurope", "Europe/Berlin", 1, 3}}, peak: 5, weekend: 0.3,
		inMed: 500, inSigma: 0.7, outMed: 450, outSigma: 0.6, office: "deutsche-telekom"},
}

// service is one simulated service with its resolved sites.
type service struct {
	serviceSpec
	sites []*site
	dev   *network // developers' office network
}

// site is a resolved siteSpec: a time zone and a fixed set of egress
// addresses inside the region's range.
type site struct {
	loc    *time.Location
	net    *network
	ips    []netip.Addr
	weight float64
}

// buildServices resolves n services from the templates.
func buildServices(r *rand.Rand, n int) ([]*service, error) {
	out := make([]*service, 0, n)
	generic := 0
	for i := range n {
		sp := specs[min(i, len(specs)-1)]
		if i >= len(specs) {
			// repeat the generic templates: sales-copilot-2, translate-2, ...
			g := specs[len(specs)-2+generic%2]
			sp = g
			sp.name = fmt.Sprintf("%s-%d", g.name, 2+generic/2)
			sp.sites = append([]siteSpec(nil), g.sites...)
			generic++
		}
		s := &service{serviceSpec: sp, dev: netByName(sp.office)}
		for _, ss := range sp.sites {
			loc, err := time.LoadLocation(ss.tz)
			if err != nil {
				return nil, fmt.Errorf("load time zone %s: %w", ss.tz, err)
			}
			st := &site{loc: loc, net: netByName(ss.net), weight: ss.weight}
			for range ss.ips {
				st.ips = append(st.ips, addrIn(r, st.net.prefix))
			}
			s.sites = append(s.sites, st)
		}
		out = append(out, s)
	}
	return out, nil
}

// inventoryKey builds the inventory record of a key.
func inventoryKey(k *keyGen, r *rand.Rand, start time.Time) keywatch.Key {
	s := k.svc
	ik := keywatch.Key{
		ID:         k.id,
		Provider:   s.provider,
		Name:       fmt.Sprintf("%s %s key", s.name, k.env),
		Owner:      s.owner,
		Team:       s.team,
		Service:    s.name,
		Env:        k.env,
		OnCall:     keywatch.OnCall{Webhook: "https://hooks.example.com/keywatch/" + s.team, Email: s.owner},
		Models:     append([]string(nil), s.models...),
		Operations: append([]string(nil), s.ops...),
		Labels:     map[string]string{"cost_center": fmt.Sprintf("cc-%d", 100+len(s.team)*7)},
	}
	day := 24 * time.Hour
	ik.Created = start.Add(-time.Duration(60+r.IntN(300)) * day)
	ik.Expires = start.Add(time.Duration(90+r.IntN(240)) * day)
	if r.IntN(2) == 0 {
		ik.Rotated = start.Add(-time.Duration(5+r.IntN(50)) * day)
		if ik.Rotated.Before(ik.Created) {
			ik.Rotated = ik.Created
		}
	}
	peak := k.peak
	if s.role == roleBatch && !k.dev {
		peak *= 15
	}
	rpm := int64(peak*6/10+1) * 10
	ik.Quotas = keywatch.Quotas{
		RPM:              rpm,
		TPM:              rpm * int64(s.inMed+s.outMed) * 4,
		TokensPerDay:     rpm * int64(s.inMed+s.outMed) * 600,
		MonthlyBudgetUSD: float64(int64(peak*40+10) * 10),
	}
	return ik
}
