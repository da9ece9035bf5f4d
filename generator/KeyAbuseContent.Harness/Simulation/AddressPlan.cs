using System.Collections.Immutable;
using System.Globalization;

namespace KeyAbuseContent.Harness.Simulation;

/// <summary>Who uses a network, so that benign traffic and attacks pick plausible ones.</summary>
public enum NetworkKind
{
    /// <summary>A cloud region where services run.</summary>
    Cloud,

    /// <summary>A company office.</summary>
    Office,

    /// <summary>Developers' home broadband.</summary>
    Home,

    /// <summary>A hotel or conference network abroad.</summary>
    Travel,

    /// <summary>Rented servers: attackers' favourite.</summary>
    Vps,

    /// <summary>Residential broadband abroad (proxies, compromised hosts).</summary>
    Residential,

    /// <summary>Mobile carriers abroad.</summary>
    Mobile,
}

/// <summary>One IPv4 range of the address plan, with where it is and whose it is.</summary>
public sealed record SimulatedNetwork(string Name, uint First, int PrefixLength, string Country, long Asn, string Org, NetworkKind Kind)
{
    /// <summary>The range in CIDR notation.</summary>
    public string Cidr => AddressPlan.Format(First) + "/" + PrefixLength.ToString(CultureInfo.InvariantCulture);

    /// <summary>A random host address inside the range, never the .0 or .255 of a /24.</summary>
    public uint AddressIn(SimulationRandom random)
    {
        var size = 1UL << (32 - PrefixLength);
        while (true)
        {
            var address = First + (uint)random.NextLong((long)size);
            if ((address & 0xFF) is not 0 and not 0xFF)
            {
                return address;
            }
        }
    }
}

/// <summary>
/// The simulator's address plan: real-looking public ranges, each with one country and one AS, so that a
/// country or an ASN means something; no two overlap, every address the simulator uses lies in one, and
/// <c>geo.csv</c> lists them all, so the platforms' enrichment (the KeyAbuseGeo watchlist, the keyabuse-geo enrich policy) agrees with the plan.
/// </summary>
public static class AddressPlan
{
    public static readonly ImmutableArray<SimulatedNetwork> Networks =
    [
        Net("aws-us-east-1", "3.80.0.0/12", "US", 14618, "AMAZON-AES", NetworkKind.Cloud),
        Net("aws-eu-west-1", "34.240.0.0/13", "IE", 16509, "AMAZON-02", NetworkKind.Cloud),
        Net("azure-southeastasia", "52.163.0.0/16", "SG", 8075, "MICROSOFT-CORP-MSN-AS-BLOCK", NetworkKind.Cloud),
        Net("gcp-us-central1", "34.64.0.0/11", "US", 396982, "GOOGLE-CLOUD-PLATFORM", NetworkKind.Cloud),
        Net("azure-westeurope", "20.40.0.0/13", "NL", 8075, "MICROSOFT-CORP-MSN-AS-BLOCK", NetworkKind.Cloud),
        Net("comcast-office", "73.0.0.0/8", "US", 7922, "COMCAST-7922", NetworkKind.Office),
        Net("telekom-office", "80.128.0.0/11", "DE", 3320, "Deutsche Telekom AG", NetworkKind.Office),
        Net("att-home", "99.0.0.0/10", "US", 7018, "ATT-INTERNET4", NetworkKind.Home),
        Net("vodafone-home", "88.64.0.0/12", "DE", 3209, "Vodafone GmbH", NetworkKind.Home),
        Net("softbank-travel", "126.0.0.0/8", "JP", 17676, "SoftBank Corp.", NetworkKind.Travel),
        Net("bt-travel", "86.128.0.0/10", "GB", 2856, "British Telecommunications PLC", NetworkKind.Travel),
        Net("hetzner-de", "88.198.0.0/16", "DE", 24940, "Hetzner Online GmbH", NetworkKind.Vps),
        Net("hetzner-fi", "95.216.0.0/16", "FI", 24940, "Hetzner Online GmbH", NetworkKind.Vps),
        Net("ovh-fr", "51.38.0.0/16", "FR", 16276, "OVH SAS", NetworkKind.Vps),
        Net("digitalocean-sg", "128.199.0.0/16", "SG", 14061, "DIGITALOCEAN-ASN", NetworkKind.Vps),
        Net("digitalocean-in", "139.59.0.0/16", "IN", 14061, "DIGITALOCEAN-ASN", NetworkKind.Vps),
        Net("m247-ro", "146.70.0.0/16", "RO", 9009, "M247 Europe SRL", NetworkKind.Vps),
        Net("vultr-jp", "45.76.0.0/15", "JP", 20473, "AS-CHOOPA", NetworkKind.Vps),
        Net("claro-br", "177.32.0.0/12", "BR", 28573, "Claro NXT Telecomunicacoes Ltda", NetworkKind.Residential),
        Net("viettel-vn", "27.64.0.0/12", "VN", 7552, "Viettel Group", NetworkKind.Mobile),
        Net("rostelecom-ru", "178.64.0.0/12", "RU", 12389, "PJSC Rostelecom", NetworkKind.Residential),
        Net("telkom-id", "36.64.0.0/11", "ID", 7713, "PT Telekomunikasi Indonesia", NetworkKind.Residential),
        Net("mtn-ng", "105.112.0.0/12", "NG", 29465, "MTN NIGERIA Communication limited", NetworkKind.Mobile),
        Net("jio-in", "49.32.0.0/11", "IN", 55836, "Reliance Jio Infocomm Limited", NetworkKind.Mobile),
        Net("turktelekom-tr", "78.160.0.0/11", "TR", 9121, "Turk Telekomunikasyon Anonim Sirketi", NetworkKind.Residential),
    ];

    /// <summary>The network of a name of the plan.</summary>
    public static SimulatedNetwork ByName(string name) =>
        Networks.FirstOrDefault(n => n.Name == name) ?? throw new ArgumentException($"no network '{name}' in the address plan", nameof(name));

    /// <summary>The index in <see cref="Networks"/> of a network.</summary>
    public static int IndexOf(SimulatedNetwork network) => Networks.IndexOf(network);

    private static SimulatedNetwork Net(string name, string cidr, string country, long asn, string org, NetworkKind kind)
    {
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        var prefix = int.Parse(cidr[(slash + 1)..], CultureInfo.InvariantCulture);
        var parts = cidr[..slash].Split('.').Select(p => uint.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        var first = (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3];
        return new SimulatedNetwork(name, first, prefix, country, asn, org, kind);
    }

    /// <summary>An IPv4 address in dotted-decimal notation.</summary>
    public static string Format(uint address) =>
        string.Create(CultureInfo.InvariantCulture, $"{address >> 24}.{(address >> 16) & 0xFF}.{(address >> 8) & 0xFF}.{address & 0xFF}");
}
