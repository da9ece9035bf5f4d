using System.Collections.Immutable;
using System.Net;
using System.Text.Json.Nodes;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Targets.Elastic;

namespace KeyAbuseContent.Harness.Tables;

/// <summary>
/// A dataset's address ranges (<c>geo.csv</c>) as Elastic's <c>keyabuse-geo</c> range enrich policy holds them: the
/// pipelines' <c>enrich</c> processor reads them (<see cref="IEnrichPolicies"/>), and <see cref="Enrich"/> applies the
/// activity pipeline (<see cref="ElasticGeo.Pipeline"/>) to normalized events without building a document each. On
/// Sentinel the same ranges are the <c>KeyAbuseGeo</c> watchlist the activity parser looks up at query time.
/// </summary>
public sealed class GeoEnrichment(ImmutableArray<GeoRange> ranges) : IEnrichPolicies
{
    private readonly ImmutableArray<GeoRange> _ranges = ranges;

    /// <summary>The first range that holds an address (ranges must not overlap), or null.</summary>
    public GeoRange? Find(string? address) =>
        address is not null && IPAddress.TryParse(address, out var ip) && _ranges.FirstOrDefault(r => Contains(r, ip)) is { } range ? range : null;

    public JsonObject? Match(string policy, JsonNode value)
    {
        if (policy != ElasticGeo.Policy)
        {
            throw new NotSupportedException($"enrich policy {policy} is not one the pack ships");
        }
        return Find(value is JsonValue v && v.TryGetValue<string>(out var text) ? text : null) is { } range
            ? new JsonObject { ["network"] = Cidr(range), ["country"] = range.Country, ["asn"] = range.Asn }
            : null;
    }

    /// <summary>
    /// The activity pipeline on a normalized event: country and AS from the range that holds its address, where the
    /// event has none (the event itself when there is nothing to fill).
    /// </summary>
    public ActivityEvent Enrich(ActivityEvent ev)
    {
        if (_ranges.IsEmpty || (ev.Country is not null && ev.Asn is not null) || Find(ev.ClientIp) is not { } range)
        {
            return ev;
        }
        return ev with { Country = ev.Country ?? range.Country, Asn = ev.Asn ?? range.Asn };
    }

    /// <summary>The ranges as <c>_GetWatchlist('KeyAbuseGeo')</c> rows: network, country and AS as strings.</summary>
    public static string Cidr(GeoRange range) => $"{range.Network}/{range.PrefixLength}";

    /// <summary>Whether an address is in a CIDR range (same family only).</summary>
    public static bool Contains(GeoRange range, IPAddress address)
    {
        if (range.Network.AddressFamily != address.AddressFamily)
        {
            return false;
        }
        var a = range.Network.GetAddressBytes();
        var b = address.GetAddressBytes();
        var bits = range.PrefixLength;
        for (var i = 0; i < a.Length && bits > 0; i++, bits -= 8)
        {
            var mask = bits >= 8 ? 0xFF : (byte)(0xFF << (8 - bits));
            if ((a[i] & mask) != (b[i] & mask))
            {
                return false;
            }
        }
        return true;
    }
}
