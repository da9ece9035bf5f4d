namespace KeyAbuseContent.Harness.Simulation;

/// <summary>Which daylight-saving rule a place follows.</summary>
public enum DaylightRule
{
    /// <summary>No daylight saving (Singapore).</summary>
    None,

    /// <summary>United States: second Sunday of March to first Sunday of November, at 02:00 local time.</summary>
    UnitedStates,

    /// <summary>European Union: last Sunday of March to last Sunday of October, at 01:00 UTC.</summary>
    EuropeanUnion,
}

/// <summary>
/// A place's local time: a standard offset and a daylight-saving rule, written out here rather than read
/// from the host's time zone database, so the simulation is the same on every machine.
/// </summary>
public sealed record LocalClock(string Name, int StandardOffsetMinutes, DaylightRule Rule)
{
    public static readonly LocalClock NewYork = new("America/New_York", -300, DaylightRule.UnitedStates);
    public static readonly LocalClock Chicago = new("America/Chicago", -360, DaylightRule.UnitedStates);
    public static readonly LocalClock LosAngeles = new("America/Los_Angeles", -480, DaylightRule.UnitedStates);
    public static readonly LocalClock Dublin = new("Europe/Dublin", 0, DaylightRule.EuropeanUnion);
    public static readonly LocalClock Berlin = new("Europe/Berlin", 60, DaylightRule.EuropeanUnion);
    public static readonly LocalClock Amsterdam = new("Europe/Amsterdam", 60, DaylightRule.EuropeanUnion);
    public static readonly LocalClock Singapore = new("Asia/Singapore", 480, DaylightRule.None);
    public static readonly LocalClock Tokyo = new("Asia/Tokyo", 540, DaylightRule.None);

    /// <summary>The local time of a UTC time.</summary>
    public DateTime ToLocal(DateTime utc) => utc.AddMinutes(OffsetMinutes(utc));

    /// <summary>The UTC time of a local wall-clock time (the standard-time reading when it is ambiguous).</summary>
    public DateTime ToUtc(DateTime local)
    {
        var guess = local.AddMinutes(-StandardOffsetMinutes);
        return local.AddMinutes(-OffsetMinutes(guess));
    }

    /// <summary>The offset from UTC in minutes at a UTC time.</summary>
    public int OffsetMinutes(DateTime utc)
    {
        var (start, end) = Rule switch
        {
            DaylightRule.UnitedStates => (
                NthSunday(utc.Year, 3, 2).AddHours(2).AddMinutes(-StandardOffsetMinutes),
                NthSunday(utc.Year, 11, 1).AddHours(2).AddMinutes(-StandardOffsetMinutes - 60)),
            DaylightRule.EuropeanUnion => (LastSunday(utc.Year, 3).AddHours(1), LastSunday(utc.Year, 10).AddHours(1)),
            _ => (DateTime.MaxValue, DateTime.MaxValue),
        };
        return utc >= start && utc < end ? StandardOffsetMinutes + 60 : StandardOffsetMinutes;
    }

    private static DateTime NthSunday(int year, int month, int n)
    {
        var first = new DateTime(year, month, 1, 0, 0, 0, DateTimeKind.Utc);
        return first.AddDays(((7 - (int)first.DayOfWeek) % 7) + (7 * (n - 1)));
    }

    private static DateTime LastSunday(int year, int month)
    {
        var last = new DateTime(year, month, DateTime.DaysInMonth(year, month), 0, 0, 0, DateTimeKind.Utc);
        return last.AddDays(-(int)last.DayOfWeek);
    }
}
