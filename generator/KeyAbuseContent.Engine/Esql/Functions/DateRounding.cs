using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Functions;

/// <summary>
/// Elasticsearch's date roundings in UTC (what DATE_TRUNC and BUCKET use): a fixed interval rounds down to a
/// multiple of it counted from the epoch; one day, one week (from Monday), one quarter and calendar months and
/// years round on the calendar, months and years in multiples counted from year 1, as <c>Rounding</c> does.
/// </summary>
internal abstract class DateRounding
{
    public const long Second = 1000;
    public const long Minute = 60 * Second;
    public const long Hour = 60 * Minute;
    public const long Day = 24 * Hour;

    public abstract long Round(long millis);

    /// <summary>The start of the next bucket after the one starting at <paramref name="bucket"/>.</summary>
    public abstract long Next(long bucket);

    public static long FloorDiv(long a, long b)
    {
        var q = a / b;
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
    }

    public static DateRounding Fixed(long interval) => new FixedRounding(interval);

    /// <summary>The rounding DATE_TRUNC makes of a date period; null (with the reason) when Elasticsearch refuses the period.</summary>
    public static DateRounding FromPeriod(DatePeriod period, out string? error)
    {
        error = null;
        if (period.Months < 0 || period.Days < 0 || (period.Months == 0 && period.Days == 0))
        {
            error = "Zero or negative time interval is not supported";
            return null!;
        }
        if (period.Months > 120_000 || period.Days > 3_660_000)
        {
            error = "Time interval is not supported";
            return null!;
        }
        if (period.Months != 0 && period.Days != 0)
        {
            error = "Time interval with multiple periods is not supported";
            return null!;
        }
        if (period.Days == 1)
        {
            return new FixedRounding(Day);
        }
        if (period.Days == 7)
        {
            return new WeekRounding();
        }
        if (period.Days > 1)
        {
            return new FixedRounding(period.Days * Day);
        }
        if (period.Months % 12 == 0 && period.Months != 3)
        {
            return new MonthRounding((int)period.Months, years: true);
        }
        return new MonthRounding((int)period.Months, years: false, quarter: period.Months == 3);
    }

    public static DateRounding FromDuration(long millis, out string? error)
    {
        error = millis <= 0 ? "Zero or negative time interval is not supported" : null;
        return new FixedRounding(Math.Max(1, millis));
    }

    /// <summary>The roundings BUCKET picks from, coarsest first (after years).</summary>
    public static IReadOnlyList<DateRounding> Human { get; } =
    [
        new MonthRounding(1, years: false),
        new WeekRounding(),
        new FixedRounding(Day),
        new FixedRounding(12 * Hour),
        new FixedRounding(3 * Hour),
        new FixedRounding(Hour),
        new FixedRounding(30 * Minute),
        new FixedRounding(10 * Minute),
        new FixedRounding(5 * Minute),
        new FixedRounding(Minute),
        new FixedRounding(30 * Second),
        new FixedRounding(10 * Second),
        new FixedRounding(5 * Second),
        new FixedRounding(Second),
        new FixedRounding(100),
        new FixedRounding(50),
        new FixedRounding(10),
        new FixedRounding(1),
    ];

    public static DateRounding Year { get; } = new MonthRounding(12, years: true);

    /// <summary>BUCKET's choice for a target count over [from, to]: the finest human rounding that needs at most that many buckets.</summary>
    public static DateRounding Pick(int buckets, long from, long to)
    {
        var previous = Year;
        foreach (var rounding in Human)
        {
            if (!Fits(rounding, buckets, from, to))
            {
                return previous;
            }
            previous = rounding;
        }
        return previous;
    }

    private static bool Fits(DateRounding rounding, int buckets, long from, long to)
    {
        var bucket = rounding.Round(from);
        for (var used = 0; used < buckets; used++)
        {
            bucket = rounding.Next(bucket);
            if (bucket > to)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Rounds down to a multiple of a fixed interval from the epoch.</summary>
    public sealed class FixedRounding(long interval) : DateRounding
    {
        public long Interval { get; } = interval;

        public override long Round(long millis) => FloorDiv(millis, Interval) * Interval;

        public override long Next(long bucket) => bucket + Interval;
    }

    private sealed class WeekRounding : DateRounding
    {
        // 1970-01-01 was a Thursday; Monday 1969-12-29 starts the week.
        private const long MondayOffset = 3 * Day;

        public override long Round(long millis) => (FloorDiv(millis + MondayOffset, 7 * Day) * 7 * Day) - MondayOffset;

        public override long Next(long bucket) => bucket + (7 * Day);
    }

    private sealed class MonthRounding(int months, bool years, bool quarter = false) : DateRounding
    {
        public override long Round(long millis)
        {
            var time = ValueFormat.ToDateTime(millis);
            int year, month;
            if (quarter)
            {
                year = time.Year;
                month = (((time.Month - 1) / 3) * 3) + 1;
            }
            else if (years)
            {
                var span = months / 12;
                year = (int)(FloorDiv(time.Year - 1, span) * span) + 1;
                month = 1;
            }
            else
            {
                var total = ((time.Year - 1) * 12) + (time.Month - 1);
                var first = (int)FloorDiv(total, months) * months;
                year = (first / 12) + 1;
                month = (first % 12) + 1;
            }
            return ValueFormat.ToMillis(new DateTime(year, month, 1, 0, 0, 0, DateTimeKind.Utc));
        }

        public override long Next(long bucket) => ValueFormat.ToMillis(ValueFormat.ToDateTime(bucket).AddMonths(months));
    }
}
