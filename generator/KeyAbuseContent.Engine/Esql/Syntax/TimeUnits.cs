using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Syntax;

internal enum TimeUnit
{
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// <summary>The unit words of ES|QL's time span literals (<c>5 minutes</c>, <c>1 hour</c>, <c>30 days</c>).</summary>
internal static class TimeUnits
{
    private static readonly Dictionary<string, TimeUnit> Words = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ms"] = TimeUnit.Millisecond,
        ["millisecond"] = TimeUnit.Millisecond,
        ["milliseconds"] = TimeUnit.Millisecond,
        ["s"] = TimeUnit.Second,
        ["sec"] = TimeUnit.Second,
        ["second"] = TimeUnit.Second,
        ["seconds"] = TimeUnit.Second,
        ["min"] = TimeUnit.Minute,
        ["minute"] = TimeUnit.Minute,
        ["minutes"] = TimeUnit.Minute,
        ["h"] = TimeUnit.Hour,
        ["hour"] = TimeUnit.Hour,
        ["hours"] = TimeUnit.Hour,
        ["d"] = TimeUnit.Day,
        ["day"] = TimeUnit.Day,
        ["days"] = TimeUnit.Day,
        ["w"] = TimeUnit.Week,
        ["week"] = TimeUnit.Week,
        ["weeks"] = TimeUnit.Week,
        ["mo"] = TimeUnit.Month,
        ["month"] = TimeUnit.Month,
        ["months"] = TimeUnit.Month,
        ["q"] = TimeUnit.Quarter,
        ["quarter"] = TimeUnit.Quarter,
        ["quarters"] = TimeUnit.Quarter,
        ["yr"] = TimeUnit.Year,
        ["y"] = TimeUnit.Year,
        ["year"] = TimeUnit.Year,
        ["years"] = TimeUnit.Year,
    };

    public static bool TryParse(string word, out TimeUnit unit) => Words.TryGetValue(word, out unit);

    /// <summary>A <see cref="TimeSpan"/> (time_duration) for units up to hours, a <see cref="DatePeriod"/> from days.</summary>
    public static object Create(int quantity, TimeUnit unit) => unit switch
    {
        TimeUnit.Millisecond => TimeSpan.FromMilliseconds(quantity),
        TimeUnit.Second => TimeSpan.FromSeconds(quantity),
        TimeUnit.Minute => TimeSpan.FromMinutes(quantity),
        TimeUnit.Hour => TimeSpan.FromHours(quantity),
        TimeUnit.Day => new DatePeriod(0, quantity),
        TimeUnit.Week => new DatePeriod(0, quantity * 7L),
        TimeUnit.Month => new DatePeriod(quantity, 0),
        TimeUnit.Quarter => new DatePeriod(quantity * 3L, 0),
        _ => new DatePeriod(quantity * 12L, 0),
    };

    /// <summary>Parses "1 hour", "5 minutes", "2d" as a cast from a string does.</summary>
    public static object? ParseText(string text)
    {
        var trimmed = text.Trim();
        var i = 0;
        while (i < trimmed.Length && char.IsAsciiDigit(trimmed[i]))
        {
            i++;
        }
        if (i == 0 || !int.TryParse(trimmed.AsSpan(0, i), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var quantity))
        {
            return null;
        }
        return TryParse(trimmed[i..].Trim(), out var unit) ? Create(quantity, unit) : null;
    }
}
