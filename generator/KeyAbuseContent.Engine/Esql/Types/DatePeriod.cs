namespace KeyAbuseContent.Engine.Esql.Types;

/// <summary>An ES|QL <c>date_period</c>: calendar months and days, added to a date on the calendar (UTC).</summary>
internal readonly record struct DatePeriod(long Months, long Days)
{
    /// <summary>The date plus the period; beyond the calendar's range it throws <see cref="ArgumentOutOfRangeException"/>.</summary>
    public DateTime AddTo(DateTime time)
    {
        if (Math.Abs(Months) > 120_000 || Math.Abs(Days) > 3_660_000)
        {
            throw new ArgumentOutOfRangeException(nameof(time), "the period takes the date beyond the calendar");
        }
        return time.AddMonths((int)Months).AddDays(Days);
    }

    public DatePeriod Negate() => new(-Months, -Days);

    public override string ToString() =>
        Months != 0 && Days == 0 ? $"P{Months}M" : Months == 0 ? $"P{Days}D" : $"P{Months}M{Days}D";
}
