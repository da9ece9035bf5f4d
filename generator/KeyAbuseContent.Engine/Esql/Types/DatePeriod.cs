namespace KeyAbuseContent.Engine.Esql.Types;

/// <summary>An ES|QL <c>date_period</c>: calendar months and days, added to a date on the calendar (UTC).</summary>
internal readonly record struct DatePeriod(int Months, int Days)
{
    public DateTime AddTo(DateTime time) => time.AddMonths(Months).AddDays(Days);

    public DatePeriod Negate() => new(-Months, -Days);

    public override string ToString() =>
        Months != 0 && Days == 0 ? $"P{Months}M" : Months == 0 ? $"P{Days}D" : $"P{Months}M{Days}D";
}
