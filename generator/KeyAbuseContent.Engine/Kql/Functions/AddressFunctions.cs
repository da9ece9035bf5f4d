using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Functions;

// IPv4 and IPv6 functions. An address may carry a prefix length (10.1.0.0/16); text that is not an address gives null.
// The ipv6 functions read an IPv4 address as its IPv4-mapped IPv6 address (Ipv6.TryParse), so they take both families.
internal static partial class ScalarFunctions
{
    private static readonly (uint Network, int Prefix)[] PrivateRanges =
    [
        (Ipv4.Address(10, 0, 0, 0), 8),
        (Ipv4.Address(172, 16, 0, 0), 12),
        (Ipv4.Address(192, 168, 0, 0), 16),
    ];

    private static IEnumerable<ScalarFunction> Addresses()
    {
        yield return F("ipv4_is_private", 1, 1, ResultNaming.None, c => c.Row(KqlType.Bool, a =>
            Ipv4.TryParse(Scalars.ToKqlString(a[0])) is { } ip ? PrivateRanges.Any(r => Ipv4.InRange(ip.Address, r.Network, r.Prefix)) : null));
        yield return F("ipv4_is_in_range", 2, 2, ResultNaming.None, c => c.Row(KqlType.Bool, a =>
            Ipv4.TryParse(Scalars.ToKqlString(a[0])) is { } ip && Ipv4.TryParse(Scalars.ToKqlString(a[1])) is { } range
                ? Ipv4.InRange(ip.Address, range.Address, range.Prefix)
                : null));
        yield return F("ipv4_is_in_any_range", 2, 64, ResultNaming.None, c => c.Row(KqlType.Bool, a =>
        {
            if (Ipv4.TryParse(Scalars.ToKqlString(a[0])) is not { } ip)
            {
                return null;
            }
            var ranges = a.Skip(1).SelectMany(v => v is JsonArray array ? array.Select(e => Scalars.ToKqlString(e)) : [Scalars.ToKqlString(v)]);
            var any = false;
            foreach (var text in ranges)
            {
                if (Ipv4.TryParse(text) is not { } range)
                {
                    return null;
                }
                any |= Ipv4.InRange(ip.Address, range.Address, range.Prefix);
            }
            return any;
        }));
        yield return F("ipv4_is_match", 2, 3, ResultNaming.None, c => c.Row(KqlType.Bool, a => Ipv4.Compare(a) is { } cmp ? cmp == 0 : null));
        yield return F("ipv4_compare", 2, 3, ResultNaming.None, c => c.Row(KqlType.Long, a => Ipv4.Compare(a) is { } cmp ? (long)cmp : null));
        yield return F("ipv6_is_in_range", 2, 2, ResultNaming.None, c => c.Row(KqlType.Bool, a =>
            Ipv6.TryParse(Scalars.ToKqlString(a[0])) is { } ip && Ipv6.TryParse(Scalars.ToKqlString(a[1])) is { } range
                ? Ipv6.InRange(ip.Address, range.Address, range.Prefix)
                : null));
        yield return F("ipv6_is_in_any_range", 2, 64, ResultNaming.None, c => c.Row(KqlType.Bool, a =>
        {
            if (Ipv6.TryParse(Scalars.ToKqlString(a[0])) is not { } ip)
            {
                return null;
            }
            var ranges = a.Skip(1).SelectMany(v => v is JsonArray array ? array.Select(e => Scalars.ToKqlString(e)) : [Scalars.ToKqlString(v)]);
            var any = false;
            foreach (var text in ranges)
            {
                if (Ipv6.TryParse(text) is not { } range)
                {
                    return null;
                }
                any |= Ipv6.InRange(ip.Address, range.Address, range.Prefix);
            }
            return any;
        }));
        yield return F("ipv6_is_match", 2, 3, ResultNaming.None, c => c.Row(KqlType.Bool, a => Ipv6.Compare(a) is { } cmp ? cmp == 0 : null));
        yield return F("ipv6_compare", 2, 3, ResultNaming.None, c => c.Row(KqlType.Long, a => Ipv6.Compare(a) is { } cmp ? (long)cmp : null));
        yield return F("parse_ipv4", 1, 1, ResultNaming.None, c => c.Row(KqlType.Long, a =>
            Ipv4.TryParse(Scalars.ToKqlString(a[0])) is { } ip ? (long)(ip.Address & Ipv4.Mask(ip.Prefix)) : null));
    }
}

/// <summary>IPv4 addresses as 32-bit numbers with a prefix length.</summary>
internal static class Ipv4
{
    public static uint Address(byte a, byte b, byte c, byte d) => ((uint)a << 24) | ((uint)b << 16) | ((uint)c << 8) | d;

    public static uint Mask(int prefix) => prefix <= 0 ? 0 : prefix >= 32 ? uint.MaxValue : uint.MaxValue << (32 - prefix);

    public static bool InRange(uint address, uint network, int prefix) => (address & Mask(prefix)) == (network & Mask(prefix));

    /// <summary>An address with an optional /prefix (32 when absent); null when the text is not one.</summary>
    public static (uint Address, int Prefix)? TryParse(string text)
    {
        var t = text.Trim();
        var prefix = 32;
        var slash = t.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            if (!int.TryParse(t.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out prefix) || prefix > 32)
            {
                return null;
            }
            t = t[..slash];
        }
        var parts = t.Split('.');
        if (parts.Length != 4)
        {
            return null;
        }
        uint address = 0;
        foreach (var part in parts)
        {
            if (!byte.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var b))
            {
                return null;
            }
            address = (address << 8) | b;
        }
        return (address, prefix);
    }

    /// <summary>ipv4_compare(a, b[, prefix]): the order of the two addresses under the shortest prefix given.</summary>
    public static int? Compare(object?[] a)
    {
        if (TryParse(Scalars.ToKqlString(a[0])) is not { } x || TryParse(Scalars.ToKqlString(a[1])) is not { } y)
        {
            return null;
        }
        var prefix = Math.Min(x.Prefix, y.Prefix);
        if (a.Length > 2)
        {
            if (Scalars.ToLong(a[2]) is not { } p || p < 0 || p > 32)
            {
                return null;
            }
            prefix = Math.Min(prefix, (int)p);
        }
        var mask = Mask(prefix);
        return (x.Address & mask).CompareTo(y.Address & mask);
    }
}
