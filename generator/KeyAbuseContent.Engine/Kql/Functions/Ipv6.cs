using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace KeyAbuseContent.Engine.Kql.Functions;

/// <summary>
/// IPv6 addresses as 128-bit numbers with a prefix length, as the ipv6 functions and <c>ipv6_lookup</c> read them: an
/// IPv4 address is read as its IPv4-mapped IPv6 address (<c>::ffff:a.b.c.d</c>, its prefix moved by 96 bits).
/// </summary>
internal static class Ipv6
{
    public static UInt128 Mask(int prefix) => prefix <= 0 ? UInt128.Zero : prefix >= 128 ? UInt128.MaxValue : UInt128.MaxValue << (128 - prefix);

    public static bool InRange(UInt128 address, UInt128 network, int prefix) => (address & Mask(prefix)) == (network & Mask(prefix));

    /// <summary>An address with an optional /prefix (128 when absent); null when the text is not one.</summary>
    public static (UInt128 Address, int Prefix)? TryParse(string text)
    {
        var t = text.Trim();
        int? prefix = null;
        var slash = t.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            if (!int.TryParse(t.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var p))
            {
                return null;
            }
            prefix = p;
            t = t[..slash];
        }
        if (t.Contains('%', StringComparison.Ordinal))
        {
            return null;
        }
        if (!t.Contains(':', StringComparison.Ordinal))
        {
            // IPv4, written out in full (IPAddress.TryParse would also take inet_aton's shorthands).
            return Ipv4.TryParse(prefix is { } p4 ? $"{t}/{p4}" : t) is { } v4
                ? ((UInt128)0xFFFF << 32 | v4.Address, 96 + v4.Prefix)
                : null;
        }
        if (!IPAddress.TryParse(t, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6 || prefix > 128)
        {
            return null;
        }
        var bytes = address.GetAddressBytes();
        var value = UInt128.Zero;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
        }
        return (value, prefix ?? 128);
    }

    /// <summary>
    /// ipv6_compare(a, b[, prefix]): the order of the two addresses under the shortest prefix given (a prefix argument
    /// counts IPv6 bits, 0 to 128); null when either is not an address or the prefix is out of range.
    /// </summary>
    public static int? Compare(object?[] a)
    {
        if (TryParse(Storage.Scalars.ToKqlString(a[0])) is not { } x || TryParse(Storage.Scalars.ToKqlString(a[1])) is not { } y)
        {
            return null;
        }
        var prefix = Math.Min(x.Prefix, y.Prefix);
        if (a.Length > 2)
        {
            if (Storage.Scalars.ToLong(a[2]) is not { } p || p < 0 || p > 128)
            {
                return null;
            }
            prefix = Math.Min(prefix, (int)p);
        }
        var mask = Mask(prefix);
        return (x.Address & mask).CompareTo(y.Address & mask);
    }
}
