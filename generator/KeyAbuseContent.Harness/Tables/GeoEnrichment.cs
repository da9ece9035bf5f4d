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

    /// <summary>The IPv4 ranges as [first, last] address numbers sorted by first; null when two overlap (then every range is scanned).</summary>
    private readonly (uint First, uint Last, GeoRange Range)[]? _ipv4 = SortedIpv4(ranges);

    /// <summary>The first range that holds an address (ranges must not overlap), or null.</summary>
    public GeoRange? Find(string? address)
    {
        if (address is null || !IPAddress.TryParse(address, out var ip))
        {
            return null;
        }
        if (_ipv4 is { } sorted && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            // Non-overlapping ranges sorted by their first address: the only candidate is the last one starting at or before it.
            var value = Number(ip);
            int low = 0, high = sorted.Length - 1;
            while (low <= high)
            {
                var middle = (low + high) >>> 1;
                if (sorted[middle].First <= value)
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle - 1;
                }
            }
            return high >= 0 && value <= sorted[high].Last ? sorted[high].Range : null;
        }
        return _ranges.FirstOrDefault(r => Contains(r, ip)) is { } range ? range : null;
    }

    private static uint Number(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    private static (uint First, uint Last, GeoRange Range)[]? SortedIpv4(ImmutableArray<GeoRange> ranges)
    {
        var sorted = ranges
            .Where(r => r.Network.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            .Select(r =>
            {
                var mask = r.PrefixLength <= 0 ? 0u : r.PrefixLength >= 32 ? uint.MaxValue : uint.MaxValue << (32 - r.PrefixLength);
                var first = Number(r.Network) & mask;
                return (First: first, Last: first | ~mask, Range: r);
            })
            .OrderBy(r => r.First)
            .ToArray();
        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].First <= sorted[i - 1].Last)
            {
                return null;
            }
        }
        return sorted;
    }

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
