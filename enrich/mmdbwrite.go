package enrich

import (
	"fmt"
	"io"
	"net"
	"net/netip"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Network is one address range and what the geo and ASN databases say of it.
type Network struct {
	Prefix  netip.Prefix
	Country string // ISO 3166-1 alpha-2
	ASN     uint32
	Org     string // the AS's organisation name
}

// WriteCountryDB writes a MaxMind-format database in the GeoLite2-Country
// layout (country.iso_code) covering nets. buildEpoch is stored as the build
// time, so the same input gives the same bytes.
func WriteCountryDB(w io.Writer, nets []Network, buildEpoch int64) error {
	return writeDB(w, "GeoLite2-Country", nets, buildEpoch, func(n Network) mmdbtype.DataType {
		return mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(n.Country)}}
	})
}

// WriteASNDB writes a MaxMind-format database in the GeoLite2-ASN layout
// (autonomous_system_number, autonomous_system_organization) covering nets.
func WriteASNDB(w io.Writer, nets []Network, buildEpoch int64) error {
	return writeDB(w, "GeoLite2-ASN", nets, buildEpoch, func(n Network) mmdbtype.DataType {
		return mmdbtype.Map{
			"autonomous_system_number":       mmdbtype.Uint32(n.ASN),
			"autonomous_system_organization": mmdbtype.String(n.Org),
		}
	})
}

func writeDB(w io.Writer, dbType string, nets []Network, buildEpoch int64, value func(Network) mmdbtype.DataType) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            dbType,
		BuildEpoch:              buildEpoch,
		RecordSize:              24,
		IncludeReservedNetworks: true, // simulations may use private and documentation ranges
		Description:             map[string]string{"en": "keywatch " + dbType},
	})
	if err != nil {
		return fmt.Errorf("new %s database: %w", dbType, err)
	}
	for _, n := range nets {
		p := n.Prefix.Masked()
		ipnet := &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
		if err := tree.Insert(ipnet, value(n)); err != nil {
			return fmt.Errorf("%s database: insert %s: %w", dbType, p, err)
		}
	}
	if _, err := tree.WriteTo(w); err != nil {
		return fmt.Errorf("write %s database: %w", dbType, err)
	}
	return nil
}
