namespace KeyAbuseContent.Targets.Esql;

/// <summary>
/// The Elastic stack version each ES|QL construct the generator emits needs (its GA version, or the
/// first version Elastic Security's ES|QL rules accept it in). The renderer records what a query uses;
/// the Elastic target refuses a query that needs more than the stack it targets.
/// </summary>
public static class EsqlCapabilities
{
    /// <summary>The stack the pack targets; <c>INLINE STATS</c> is GA from here.</summary>
    public static readonly Version Target = new(9, 3);

    /// <summary>Where ES|QL itself and the commands and functions not listed below are available.</summary>
    public static readonly Version Baseline = new(8, 11);

    private static readonly Dictionary<string, (Version Version, string Why)> Commands = new(StringComparer.Ordinal)
    {
        ["FROM METADATA"] = (new Version(8, 14), "METADATA _id lets the rule deduplicate alerts"),
        ["MV_EXPAND"] = (new Version(8, 14), "MV_EXPAND is GA"),
        ["LOOKUP JOIN"] = (new Version(9, 1), "LOOKUP JOIN is GA"),
        ["INLINE STATS"] = (new Version(9, 3), "INLINE STATS is GA"),
        ["::"] = (new Version(8, 14), "inline casts"),
    };

    private static readonly Dictionary<string, (Version Version, string Why)> Functions = new(StringComparer.Ordinal)
    {
        ["DATE_DIFF"] = (new Version(8, 14), "DATE_DIFF"),
        ["LOCATE"] = (new Version(8, 14), "LOCATE"),
        ["VALUES"] = (new Version(8, 14), "VALUES"),
        ["MV_CONTAINS"] = (new Version(9, 2), "MV_CONTAINS"),
        ["MV_SORT"] = (new Version(8, 14), "MV_SORT"),
        ["MV_SLICE"] = (new Version(8, 14), "MV_SLICE"),
        ["TOP"] = (new Version(8, 16), "TOP"),
    };

    /// <summary>The version a command needs; the baseline when it is not listed.</summary>
    public static (Version Version, string Why) Command(string name) =>
        Commands.TryGetValue(name, out var v) ? v : (Baseline, name);

    /// <summary>The version a function needs; the baseline when it is not listed.</summary>
    public static (Version Version, string Why) Function(string name) =>
        Functions.TryGetValue(name, out var v) ? v : (Baseline, name);

    /// <summary>Every gated construct with its version, for the README's capability table.</summary>
    public static IEnumerable<(string Construct, Version Version)> Table() =>
        Commands.Select(c => (c.Key, c.Value.Version))
            .Concat(Functions.Select(f => (f.Key + "()", f.Value.Version)))
            .OrderBy(x => x.Version).ThenBy(x => x.Item1, StringComparer.Ordinal);
}
