namespace KeyAbuseContent.Targets;

/// <summary>
/// Names shared by the pieces that keep a rule's history outside its scheduled run: Sentinel's hourly
/// summary table and daily baseline table, Elastic's lookup indices. One place, so every target and the
/// harness agree.
/// </summary>
public static class HistoryTables
{
    /// <summary>Sentinel: hourly per-rule aggregates, written by each history rule's summary rule.</summary>
    public const string SentinelHourly = "KeyAbuseHourly_CL";

    /// <summary>Sentinel: per-rule baselines and known values, written daily by the refresh (Logs Ingestion API).</summary>
    public const string SentinelBaseline = "KeyAbuseBaseline_CL";

    /// <summary>How far back a detection reads the daily baseline table: one refresh and an hour of slack, under Sentinel's 2-day limit.</summary>
    public static readonly TimeSpan BaselineReach = TimeSpan.FromHours(25);

    /// <summary>How far back a new-value detection reads raw events the hourly summary may not hold yet.</summary>
    public static readonly TimeSpan UnsummarizedReach = TimeSpan.FromHours(3);

    /// <summary>Elastic: a rule's baselines by slot, a lookup-mode index kept by a transform (one index a rule, so retention never crosses rules).</summary>
    public static string ElasticBaseline(string rule) => "keyabuse-baseline-" + rule;

    /// <summary>Elastic: a rule's values seen per entity, a lookup-mode index kept by a transform.</summary>
    public static string ElasticKnownValues(string rule) => "keyabuse-known-values-" + rule;

    /// <summary>Elastic: a rule's entities seen, a lookup-mode index kept by a transform.</summary>
    public static string ElasticKnownEntities(string rule) => "keyabuse-known-entities-" + rule;

    /// <summary>The Monday every hour-of-week slot counts from, in both dialects (KQL's startofweek is a Sunday).</summary>
    public static readonly DateTimeOffset WeekOrigin = new(1970, 1, 5, 0, 0, 0, TimeSpan.Zero);
}
