namespace KeyAbuseContent.Engine.Esql.Aggregation;

/// <summary>The names of ES|QL's aggregate functions; only STATS may call them.</summary>
internal static class AggregateFunctions
{
    private static readonly HashSet<string> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        "COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX", "MEDIAN", "MEDIAN_ABSOLUTE_DEVIATION", "PERCENTILE",
        "STD_DEV", "VARIANCE", "VALUES", "TOP", "WEIGHTED_AVG", "SAMPLE", "FIRST", "LAST", "ABSENT", "PRESENT",
        "RATE", "SPATIAL_CENTROID", "ST_CENTROID_AGG", "ST_EXTENT_AGG", "FIRST_OVER_TIME", "LAST_OVER_TIME",
    };

    public static bool IsAggregate(string name) => Names.Contains(name);
}
