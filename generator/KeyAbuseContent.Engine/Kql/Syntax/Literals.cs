using System.Globalization;

namespace KeyAbuseContent.Engine.Kql.Syntax;

/// <summary>The text forms of KQL timespan, datetime and number literals.</summary>
internal static class Literals
{
    private static readonly Dictionary<string, long> TicksPerUnit = new(StringComparer.Ordinal)
    {
        ["d"] = TimeSpan.TicksPerDay,
        ["day"] = TimeSpan.TicksPerDay,
        ["days"] = TimeSpan.TicksPerDay,
        ["h"] = TimeSpan.TicksPerHour,
        ["hr"] = TimeSpan.TicksPerHour,
        ["hrs"] = TimeSpan.TicksPerHour,
        ["hour"] = TimeSpan.TicksPerHour,
        ["hours"] = TimeSpan.TicksPerHour,
        ["m"] = TimeSpan.TicksPerMinute,
        ["min"] = TimeSpan.TicksPerMinute,
        ["minute"] = TimeSpan.TicksPerMinute,
        ["minutes"] = TimeSpan.TicksPerMinute,
        ["s"] = TimeSpan.TicksPerSecond,
        ["sec"] = TimeSpan.TicksPerSecond,
        ["second"] = TimeSpan.TicksPerSecond,
        ["seconds"] = TimeSpan.TicksPerSecond,
        ["ms"] = TimeSpan.TicksPerMillisecond,
        ["milli"] = TimeSpan.TicksPerMillisecond,
        ["millis"] = TimeSpan.TicksPerMillisecond,
        ["millisec"] = TimeSpan.TicksPerMillisecond,
        ["millisecond"] = TimeSpan.TicksPerMillisecond,
        ["milliseconds"] = TimeSpan.TicksPerMillisecond,
        ["microsec"] = 10,
        ["microsecond"] = 10,
        ["microseconds"] = 10,
        ["tick"] = 1,
        ["ticks"] = 1,
    };

    /// <summary>Ticks in one <paramref name="unit"/> (<c>d</c>, <c>h</c>, <c>m</c>, <c>s</c>, <c>ms</c>, <c>microsecond</c>, <c>tick</c> and their long forms).</summary>
    public static bool TryUnit(string unit, out long ticks) => TicksPerUnit.TryGetValue(unit.ToLowerInvariant(), out ticks);

    /// <summary>A number with a unit, as the lexer found it: <c>5m</c>, <c>1.5h</c>.</summary>
    public static bool TryTimeSpan(string number, string unit, out TimeSpan value)
    {
        value = default;
        if (!TryUnit(unit, out var ticks) || !double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }
        value = new TimeSpan(checked((long)Math.Round(amount * ticks)));
        return true;
    }

    /// <summary>The content of <c>timespan(...)</c>/<c>time(...)</c>: <c>1d</c>, <c>1.02:03:04</c>, <c>00:05:00</c>, a bare number of days, or <c>null</c>.</summary>
    public static bool TryTimeSpanLiteral(string text, out TimeSpan? value)
    {
        value = null;
        var t = Unquote(text.Trim());
        if (t == "null")
        {
            return true;
        }
        var negative = t.StartsWith('-');
        var body = negative ? t[1..].Trim() : t;
        var split = 0;
        while (split < body.Length && (char.IsAsciiDigit(body[split]) || body[split] == '.'))
        {
            split++;
        }
        if (split > 0 && split < body.Length && char.IsAsciiLetter(body[split]) && TryTimeSpan(body[..split], body[split..], out var unit))
        {
            value = negative ? -unit : unit;
            return true;
        }
        if (split == body.Length && double.TryParse(body, NumberStyles.Float, CultureInfo.InvariantCulture, out var days))
        {
            value = TimeSpan.FromDays(negative ? -days : days);
            return true;
        }
        if (TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out var parsed))
        {
            value = parsed;
            return true;
        }
        return false;
    }

    /// <summary>The content of <c>datetime(...)</c>: ISO 8601 and the common date-time forms, read as UTC; or <c>null</c>.</summary>
    public static bool TryDateTimeLiteral(string text, out DateTime? value)
    {
        value = null;
        var t = Unquote(text.Trim());
        if (t == "null")
        {
            return true;
        }
        if (TryParseDateTime(t, out var parsed))
        {
            value = parsed;
            return true;
        }
        return false;
    }

    /// <summary>A date-time in a form <c>todatetime</c> accepts, as UTC.</summary>
    public static bool TryParseDateTime(string text, out DateTime value)
    {
        var t = text.Trim();
        if (t.Length == 0)
        {
            value = default;
            return false;
        }
        if (DateTime.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out value))
        {
            value = DateTime.SpecifyKind(value, DateTimeKind.Utc);
            return true;
        }
        return false;
    }

    private static string Unquote(string t) =>
        t.Length >= 2 && (t[0] == '"' || t[0] == '\'') && t[^1] == t[0] ? t[1..^1] : t;
}
