namespace KeyAbuseContent.Harness.Running;

/// <summary>The scheduled times of a rule over a dataset: every interval, aligned to the epoch, covering the data.</summary>
public static class RunSchedule
{
    /// <summary>Times t = k·every with first &lt;= t &lt;= last + every (the run after the last event included).</summary>
    public static IEnumerable<DateTime> Times(DateTime first, DateTime last, TimeSpan every)
    {
        var start = new DateTime((first.Ticks + every.Ticks - 1) / every.Ticks * every.Ticks, DateTimeKind.Utc);
        for (var t = start; t <= last + every; t += every)
        {
            yield return t;
        }
    }

    /// <summary>Floors a time to a multiple of a span since the epoch.</summary>
    public static DateTime Floor(DateTime t, TimeSpan span) => new(t.Ticks / span.Ticks * span.Ticks, DateTimeKind.Utc);
}
