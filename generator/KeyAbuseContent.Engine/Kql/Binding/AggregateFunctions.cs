namespace KeyAbuseContent.Engine.Kql.Binding;

/// <summary>The aggregate functions of the subset and the prefixes of the columns they name.</summary>
internal static class AggregateFunctions
{
    private static readonly Dictionary<string, string?> Prefixes = new(StringComparer.Ordinal)
    {
        ["count"] = "count",
        ["countif"] = "countif",
        ["dcount"] = "dcount",
        ["dcountif"] = "dcountif",
        ["sum"] = "sum",
        ["sumif"] = "sumif",
        ["avg"] = "avg",
        ["avgif"] = "avgif",
        ["min"] = "min",
        ["max"] = "max",
        ["minif"] = "minif",
        ["maxif"] = "maxif",
        ["stdev"] = "stdev",
        ["stdevif"] = "stdevif",
        ["stdevp"] = "stdevp",
        ["variance"] = "variance",
        ["varianceif"] = "varianceif",
        ["variancep"] = "variancep",
        ["make_set"] = "set",
        ["make_set_if"] = "set",
        ["make_list"] = "list",
        ["make_list_if"] = "list",
        ["percentile"] = null,
        ["percentiles"] = null,
        ["arg_max"] = null,
        ["arg_min"] = null,
        ["take_any"] = null,
        ["any"] = null,
    };

    public static bool IsAggregate(string name) => Prefixes.ContainsKey(name);

    /// <summary>The prefix of a single-column aggregate's name (<c>sum</c> gives <c>sum_x</c>); null for the others.</summary>
    public static string? NamePrefix(string name) => Prefixes.GetValueOrDefault(name);
}
