using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace KeyAbuseContent.Engine.Esql.Types;

/// <summary>Text forms of values as Elasticsearch writes and reads them: Java's double format, ISO dates, canonical IPs.</summary>
internal static class ValueFormat
{
    private static readonly UInt128 V4Prefix = (UInt128)0xFFFF << 32;

    /// <summary>Java's <c>Double.toString</c>: shortest digits; plain between 10^-3 and 10^7, else <c>1.0E10</c>.</summary>
    public static string Double(double value)
    {
        if (value == 0)
        {
            return 1 / value < 0 ? "-0.0" : "0.0";
        }
        if (double.IsNaN(value))
        {
            return "NaN";
        }
        if (double.IsInfinity(value))
        {
            return value > 0 ? "Infinity" : "-Infinity";
        }
        var shortest = value.ToString("R", CultureInfo.InvariantCulture);
        // Split the shortest form into its digits and the exponent of its first digit.
        var negative = shortest[0] == '-';
        var body = negative ? shortest[1..] : shortest;
        var exponent = 0;
        var e = body.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(body.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            body = body[..e];
        }
        var point = body.IndexOf('.', StringComparison.Ordinal);
        var integerDigits = point < 0 ? body.Length : point;
        var digits = body.Replace(".", "", StringComparison.Ordinal);
        var leadingZeros = 0;
        while (leadingZeros < digits.Length - 1 && digits[leadingZeros] == '0')
        {
            leadingZeros++;
        }
        digits = digits[leadingZeros..].TrimEnd('0');
        if (digits.Length == 0)
        {
            digits = "0";
        }
        var decimalExponent = exponent + integerDigits - leadingZeros - 1;
        var text = new StringBuilder();
        if (negative)
        {
            text.Append('-');
        }
        if (decimalExponent is >= -3 and < 7)
        {
            if (decimalExponent < 0)
            {
                text.Append("0.").Append('0', -decimalExponent - 1).Append(digits);
            }
            else
            {
                var whole = decimalExponent + 1;
                if (digits.Length <= whole)
                {
                    text.Append(digits).Append('0', whole - digits.Length).Append(".0");
                }
                else
                {
                    text.Append(digits, 0, whole).Append('.').Append(digits, whole, digits.Length - whole);
                }
            }
        }
        else
        {
            text.Append(digits[0]).Append('.');
            text.Append(digits.Length > 1 ? digits[1..] : "0");
            text.Append('E').Append(decimalExponent.ToString(CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    /// <summary>ISO 8601 with milliseconds in UTC, as ES|QL prints a date: <c>2026-11-30T03:17:00.000Z</c>.</summary>
    public static string Date(long millis)
    {
        var time = DateTime.UnixEpoch.AddMilliseconds(millis);
        return time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    }

    public static DateTime ToDateTime(long millis) => DateTime.SpecifyKind(DateTime.UnixEpoch.AddMilliseconds(millis), DateTimeKind.Utc);

    /// <summary>Epoch milliseconds of a time; sub-millisecond ticks are dropped (floor), as a <c>date</c> field stores it.</summary>
    public static long ToMillis(DateTime time)
    {
        var utc = time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : time;
        return (long)Math.Floor((utc.Ticks - DateTime.UnixEpoch.Ticks) / (double)TimeSpan.TicksPerMillisecond);
    }

    /// <summary>
    /// Parses <c>strict_date_optional_time</c>, the default date format of Elasticsearch: <c>yyyy[-MM[-dd]]</c>, then
    /// optionally <c>THH[:mm[:ss[.fraction]]]</c> and a zone (<c>Z</c>, <c>+hh:mm</c>, <c>+hhmm</c>, <c>+hh</c>); no zone is UTC.
    /// </summary>
    public static bool TryParseDate(string text, out long millis)
    {
        millis = 0;
        var s = text.AsSpan();
        var i = 0;
        if (!Digits(s, ref i, 4, out var year))
        {
            return false;
        }
        int month = 1, day = 1, hour = 0, minute = 0, second = 0;
        long fractionTicks = 0;
        var offsetMinutes = 0;
        if (i < s.Length && s[i] == '-')
        {
            i++;
            if (!Digits(s, ref i, 2, out month))
            {
                return false;
            }
            if (i < s.Length && s[i] == '-')
            {
                i++;
                if (!Digits(s, ref i, 2, out day))
                {
                    return false;
                }
            }
        }
        if (i < s.Length && s[i] == 'T')
        {
            i++;
            if (!Digits(s, ref i, 2, out hour))
            {
                return false;
            }
            if (i < s.Length && s[i] == ':')
            {
                i++;
                if (!Digits(s, ref i, 2, out minute))
                {
                    return false;
                }
                if (i < s.Length && s[i] == ':')
                {
                    i++;
                    if (!Digits(s, ref i, 2, out second))
                    {
                        return false;
                    }
                    if (i < s.Length && (s[i] == '.' || s[i] == ','))
                    {
                        i++;
                        var start = i;
                        long fraction = 0;
                        while (i < s.Length && char.IsAsciiDigit(s[i]) && i - start < 9)
                        {
                            fraction = (fraction * 10) + (s[i] - '0');
                            i++;
                        }
                        if (i == start)
                        {
                            return false;
                        }
                        for (var k = i - start; k < 7; k++)
                        {
                            fraction *= 10;
                        }
                        for (var k = i - start; k > 7; k--)
                        {
                            fraction /= 10;
                        }
                        fractionTicks = fraction;
                    }
                }
            }
            if (i < s.Length)
            {
                if (s[i] == 'Z')
                {
                    i++;
                }
                else if (s[i] == '+' || s[i] == '-')
                {
                    var sign = s[i] == '-' ? -1 : 1;
                    i++;
                    if (!Digits(s, ref i, 2, out var offsetHours))
                    {
                        return false;
                    }
                    var offsetMins = 0;
                    if (i < s.Length && s[i] == ':')
                    {
                        i++;
                    }
                    if (i < s.Length && !Digits(s, ref i, 2, out offsetMins))
                    {
                        return false;
                    }
                    offsetMinutes = sign * ((offsetHours * 60) + offsetMins);
                }
            }
        }
        if (i != s.Length || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(Math.Max(year, 1), month) || hour > 23 || minute > 59 || second > 59 || year < 1)
        {
            return false;
        }
        var time = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).AddTicks(fractionTicks).AddMinutes(-offsetMinutes);
        millis = ToMillis(time);
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> s, ref int i, int count, out int value)
    {
        value = 0;
        if (i + count > s.Length)
        {
            return false;
        }
        for (var k = 0; k < count; k++)
        {
            var c = s[i + k];
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
            value = (value * 10) + (c - '0');
        }
        i += count;
        return true;
    }

    /// <summary>An address as Elasticsearch prints it: dotted IPv4 (also for IPv4-mapped IPv6), else RFC 5952 IPv6.</summary>
    public static string Ip(UInt128 value)
    {
        if (value >> 32 == 0xFFFF)
        {
            var v4 = (uint)(value & uint.MaxValue);
            return $"{v4 >> 24}.{(v4 >> 16) & 0xFF}.{(v4 >> 8) & 0xFF}.{v4 & 0xFF}";
        }
        Span<ushort> groups = stackalloc ushort[8];
        for (var g = 0; g < 8; g++)
        {
            groups[g] = (ushort)(value >> (112 - (16 * g)));
        }
        int bestStart = -1, bestLength = 0;
        for (var g = 0; g < 8;)
        {
            if (groups[g] != 0)
            {
                g++;
                continue;
            }
            var start = g;
            while (g < 8 && groups[g] == 0)
            {
                g++;
            }
            if (g - start > bestLength && g - start >= 2)
            {
                bestStart = start;
                bestLength = g - start;
            }
        }
        var text = new StringBuilder();
        for (var g = 0; g < 8; g++)
        {
            if (g == bestStart)
            {
                text.Append("::");
                g += bestLength - 1;
                continue;
            }
            if (text.Length > 0 && text[^1] != ':')
            {
                text.Append(':');
            }
            text.Append(groups[g].ToString("x", CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    /// <summary>Parses an IPv4 or IPv6 address (no zone index, no leading zeros in IPv4 octets).</summary>
    public static bool TryParseIp(string text, out UInt128 value)
    {
        value = 0;
        if (text.Contains(':', StringComparison.Ordinal))
        {
            if (text.Contains('%', StringComparison.Ordinal) || !IPAddress.TryParse(text, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }
            return FromAddress(address, out value);
        }
        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            return false;
        }
        uint v4 = 0;
        foreach (var part in parts)
        {
            if (part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0') || !part.All(char.IsAsciiDigit))
            {
                return false;
            }
            var octet = int.Parse(part, CultureInfo.InvariantCulture);
            if (octet > 255)
            {
                return false;
            }
            v4 = (v4 << 8) | (uint)octet;
        }
        value = V4Prefix | v4;
        return true;
    }

    public static bool FromAddress(IPAddress address, out UInt128 value)
    {
        var bytes = address.GetAddressBytes();
        if (bytes.Length == 4)
        {
            value = V4Prefix | ((uint)bytes[0] << 24) | ((uint)bytes[1] << 16) | ((uint)bytes[2] << 8) | bytes[3];
            return true;
        }
        value = 0;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
        }
        return true;
    }

    /// <summary>Whether the address is IPv4 (stored IPv4-mapped).</summary>
    public static bool IsV4(UInt128 value) => value >> 32 == 0xFFFF;
}
