using System.Globalization;
using System.Text;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Functions;

/// <summary>
/// The Java <c>DateTimeFormatter</c> pattern letters DATE_FORMAT and DATE_PARSE take (Locale.ROOT, UTC):
/// <c>y u M L d D H h K k m s S a E Q X x Z V z G</c>, quoted literals and optional sections. Elasticsearch's named
/// formats <c>strict_date_optional_time</c>, <c>epoch_millis</c> and <c>epoch_second</c> are also known.
/// </summary>
internal sealed class JavaDateFormat
{
    private static readonly string[] MonthsShort = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    private static readonly string[] MonthsLong = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    private static readonly string[] DaysShort = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    private static readonly string[] DaysLong = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

    private readonly List<Part> parts;
    private readonly string? named;

    private JavaDateFormat(List<Part> parts, string? named)
    {
        this.parts = parts;
        this.named = named;
    }

    /// <summary>Compiles a pattern; throws <see cref="FormatException"/> with Java's message for a bad one.</summary>
    public static JavaDateFormat Compile(string pattern)
    {
        switch (pattern)
        {
            case "strict_date_optional_time" or "date_optional_time" or "iso8601" or "strict_date_time" or "date_time":
                return new JavaDateFormat([], "iso");
            case "epoch_millis":
                return new JavaDateFormat([], "epoch_millis");
            case "epoch_second":
                return new JavaDateFormat([], "epoch_second");
        }
        var parts = new List<Part>();
        for (var i = 0; i < pattern.Length;)
        {
            var c = pattern[i];
            if (c == '\'')
            {
                var end = i + 1;
                var literal = new StringBuilder();
                while (true)
                {
                    if (end >= pattern.Length)
                    {
                        throw new FormatException($"Pattern ends with an incomplete string literal: {pattern}");
                    }
                    if (pattern[end] == '\'')
                    {
                        if (end + 1 < pattern.Length && pattern[end + 1] == '\'')
                        {
                            literal.Append('\'');
                            end += 2;
                            continue;
                        }
                        break;
                    }
                    literal.Append(pattern[end++]);
                }
                parts.Add(new Part('\0', 0, end == i + 1 ? "'" : literal.ToString()));
                i = end + 1;
            }
            else if (c is '[' or ']')
            {
                parts.Add(new Part(c, 0, ""));
                i++;
            }
            else if (char.IsAsciiLetter(c))
            {
                var end = i;
                while (end < pattern.Length && pattern[end] == c)
                {
                    end++;
                }
                if ("yuMLdDHhKkmsSaEQXxZVzGn".IndexOf(c, StringComparison.Ordinal) < 0)
                {
                    throw new FormatException($"Unknown pattern letter: {c}");
                }
                parts.Add(new Part(c, end - i, ""));
                i = end;
            }
            else
            {
                parts.Add(new Part('\0', 0, c.ToString()));
                i++;
            }
        }
        return new JavaDateFormat(parts, null);
    }

    public string Format(long millis)
    {
        switch (named)
        {
            case "iso":
                return ValueFormat.Date(millis);
            case "epoch_millis":
                return millis.ToString(CultureInfo.InvariantCulture);
            case "epoch_second":
                return DateRounding.FloorDiv(millis, 1000).ToString(CultureInfo.InvariantCulture);
        }
        var t = ValueFormat.ToDateTime(millis);
        var text = new StringBuilder();
        foreach (var part in parts)
        {
            if (part.Letter is '\0')
            {
                text.Append(part.Literal);
                continue;
            }
            var n = part.Count;
            switch (part.Letter)
            {
                case '[' or ']':
                    break;
                case 'y' or 'u':
                    text.Append(n == 2 ? (t.Year % 100).ToString("00", CultureInfo.InvariantCulture) : Pad(t.Year, n));
                    break;
                case 'M' or 'L':
                    text.Append(n switch { 1 or 2 => Pad(t.Month, n), 3 => MonthsShort[t.Month - 1], _ => MonthsLong[t.Month - 1] });
                    break;
                case 'Q':
                    var q = ((t.Month - 1) / 3) + 1;
                    text.Append(n switch { 1 or 2 => Pad(q, n), 3 => $"Q{q}", _ => $"{q}{(q == 1 ? "st" : q == 2 ? "nd" : q == 3 ? "rd" : "th")} quarter" });
                    break;
                case 'd':
                    text.Append(Pad(t.Day, n));
                    break;
                case 'D':
                    text.Append(Pad(t.DayOfYear, n));
                    break;
                case 'H':
                    text.Append(Pad(t.Hour, n));
                    break;
                case 'k':
                    text.Append(Pad(t.Hour == 0 ? 24 : t.Hour, n));
                    break;
                case 'h':
                    text.Append(Pad(t.Hour % 12 == 0 ? 12 : t.Hour % 12, n));
                    break;
                case 'K':
                    text.Append(Pad(t.Hour % 12, n));
                    break;
                case 'm':
                    text.Append(Pad(t.Minute, n));
                    break;
                case 's':
                    text.Append(Pad(t.Second, n));
                    break;
                case 'S':
                    text.Append(t.Millisecond.ToString("000", CultureInfo.InvariantCulture).PadRight(n, '0')[..n]);
                    break;
                case 'n':
                    text.Append((t.Millisecond * 1_000_000).ToString(CultureInfo.InvariantCulture));
                    break;
                case 'a':
                    text.Append(t.Hour < 12 ? "AM" : "PM");
                    break;
                case 'E':
                    var dow = ((int)t.DayOfWeek + 6) % 7;
                    text.Append(n >= 4 ? DaysLong[dow] : DaysShort[dow]);
                    break;
                case 'G':
                    text.Append(n >= 4 ? "Anno Domini" : "AD");
                    break;
                case 'X' or 'V' or 'z':
                    text.Append(part.Letter == 'z' && n >= 4 ? "Coordinated Universal Time" : "Z");
                    break;
                case 'x':
                    text.Append(n switch { 1 => "+00", 2 => "+0000", 3 => "+00:00", 4 => "+0000", _ => "+00:00" });
                    break;
                case 'Z':
                    text.Append(n switch { <= 3 => "+0000", 4 => "GMT", _ => "Z" });
                    break;
            }
        }
        return text.ToString();
    }

    private static string Pad(int value, int width) => value.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0');

    /// <summary>Parses text with the pattern; missing fields default to 1970-01-01T00:00:00Z as in Elasticsearch.</summary>
    public bool TryParse(string text, out long millis)
    {
        millis = 0;
        switch (named)
        {
            case "iso":
                return ValueFormat.TryParseDate(text, out millis);
            case "epoch_millis":
                return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out millis);
            case "epoch_second":
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
                {
                    millis = seconds * 1000;
                    return true;
                }
                return false;
        }
        int year = 1970, month = 1, day = 1, dayOfYear = 0, hour = 0, minute = 0, second = 0, fractionMillis = 0, offsetMinutes = 0;
        var pm = -1;
        var twelveHour = false;
        var i = 0;
        var optionalDepth = 0;
        var optionalFailed = false;
        foreach (var part in parts)
        {
            if (part.Letter == '[')
            {
                optionalDepth++;
                continue;
            }
            if (part.Letter == ']')
            {
                optionalDepth--;
                optionalFailed = false;
                continue;
            }
            if (optionalFailed)
            {
                continue;
            }
            var start = i;
            var ok = part.Letter switch
            {
                '\0' => Literal(text, ref i, part.Literal),
                'y' or 'u' => part.Count == 2 ? Number(text, ref i, 2, 2, out year) && (year += 2000) > 0 : Number(text, ref i, part.Count, 9, out year),
                'M' or 'L' => part.Count >= 3 ? Name(text, ref i, part.Count == 3 ? MonthsShort : MonthsLong, out month) : Number(text, ref i, part.Count, 2, out month),
                'd' => Number(text, ref i, part.Count, 2, out day),
                'D' => Number(text, ref i, part.Count, 3, out dayOfYear),
                'H' or 'k' => Number(text, ref i, part.Count, 2, out hour),
                'h' or 'K' => (twelveHour = true) && Number(text, ref i, part.Count, 2, out hour),
                'm' => Number(text, ref i, part.Count, 2, out minute),
                's' => Number(text, ref i, part.Count, 2, out second),
                'S' => Fraction(text, ref i, part.Count, out fractionMillis),
                'a' => Name(text, ref i, ["AM", "PM"], out pm),
                'E' => Name(text, ref i, part.Count >= 4 ? DaysLong : DaysShort, out _),
                'X' or 'x' or 'Z' or 'V' or 'z' => Offset(text, ref i, out offsetMinutes),
                _ => false,
            };
            if (!ok)
            {
                if (optionalDepth == 0)
                {
                    return false;
                }
                i = start;
                optionalFailed = true;
            }
        }
        if (i != text.Length)
        {
            return false;
        }
        if (twelveHour && pm >= 0)
        {
            hour = (hour % 12) + (pm == 2 ? 12 : 0);
        }
        try
        {
            var date = dayOfYear > 0
                ? new DateTime(year, 1, 1, hour, minute, second, DateTimeKind.Utc).AddDays(dayOfYear - 1)
                : new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc);
            millis = ValueFormat.ToMillis(date.AddMilliseconds(fractionMillis).AddMinutes(-offsetMinutes));
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static bool Literal(string text, ref int i, string literal)
    {
        if (string.CompareOrdinal(text, i, literal, 0, literal.Length) != 0 || i + literal.Length > text.Length)
        {
            return false;
        }
        i += literal.Length;
        return true;
    }

    /// <summary>A number of <paramref name="count"/> digits; one letter reads up to <paramref name="maxDigits"/>, and years read up to 9.</summary>
    private static bool Number(string text, ref int i, int count, int maxDigits, out int value)
    {
        value = 0;
        var start = i;
        var max = count == 1 || maxDigits == 9 ? Math.Max(count, maxDigits) : count;
        while (i < text.Length && i - start < max && char.IsAsciiDigit(text[i]))
        {
            value = (value * 10) + (text[i] - '0');
            i++;
        }
        return i - start >= count;
    }

    private static bool Fraction(string text, ref int i, int digits, out int millis)
    {
        millis = 0;
        var start = i;
        while (i < text.Length && i - start < digits && char.IsAsciiDigit(text[i]))
        {
            i++;
        }
        if (i - start != digits)
        {
            return false;
        }
        var fraction = text[start..i].PadRight(3, '0')[..3];
        millis = int.Parse(fraction, CultureInfo.InvariantCulture);
        return true;
    }

    private static bool Name(string text, ref int i, string[] names, out int index)
    {
        for (var k = 0; k < names.Length; k++)
        {
            if (string.Compare(text, i, names[k], 0, names[k].Length, StringComparison.OrdinalIgnoreCase) == 0 && i + names[k].Length <= text.Length)
            {
                i += names[k].Length;
                index = k + 1;
                return true;
            }
        }
        index = 0;
        return false;
    }

    private static bool Offset(string text, ref int i, out int minutes)
    {
        minutes = 0;
        if (i < text.Length && text[i] == 'Z')
        {
            i++;
            return true;
        }
        if (i >= text.Length || (text[i] != '+' && text[i] != '-'))
        {
            return false;
        }
        var sign = text[i] == '-' ? -1 : 1;
        i++;
        if (!Number(text, ref i, 2, 2, out var hours))
        {
            return false;
        }
        var mins = 0;
        if (i < text.Length && text[i] == ':')
        {
            i++;
        }
        if (i + 1 < text.Length && char.IsAsciiDigit(text[i]))
        {
            Number(text, ref i, 2, 2, out mins);
        }
        minutes = sign * ((hours * 60) + mins);
        return true;
    }

    private readonly record struct Part(char Letter, int Count, string Literal);
}
