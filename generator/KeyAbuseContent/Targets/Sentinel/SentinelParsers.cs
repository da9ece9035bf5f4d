using System.Collections.Immutable;
using KeyAbuseContent.Expressions;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Kql;

namespace KeyAbuseContent.Targets.Sentinel;

/// <summary>A parser function: a saved search with a function alias, deployed before the rules that call it.</summary>
public sealed record SentinelFunction(string Name, string Parameters, string Body, string Description);

/// <summary>A custom Log Analytics table the pack creates, with its columns.</summary>
public sealed record SentinelTable(string Name, ImmutableArray<(string Name, string Type)> Columns, string Description);

/// <summary>
/// The normalization layer on Sentinel: the tables the pack writes, the parser functions the rules call,
/// and the inventory watchlist's columns. Field names come from <see cref="Sources"/>, the one mapping.
/// </summary>
public static class SentinelParsers
{
    /// <summary>The watchlist alias of the key inventory.</summary>
    public const string InventoryWatchlist = "KeyAbuseInventory";

    /// <summary>The table normalized activity events land in (Logs Ingestion API).</summary>
    public const string ActivityTable = "LlmActivity_CL";

    /// <summary>A KQL column type for a language type; addresses are strings in Log Analytics.</summary>
    public static string KqlType(ExprType type) => type switch
    {
        ExprType.Long => "long",
        ExprType.Real => "real",
        ExprType.Bool => "bool",
        ExprType.DateTime => "datetime",
        ExprType.TimeSpan => "timespan",
        ExprType.StringList => "dynamic",
        _ => "string",
    };

    /// <summary>The columns of the inventory watchlist's CSV, in order: the normalized inventory field names.</summary>
    public static ImmutableArray<string> WatchlistColumns => [.. Sources.Inventory.Fields.Select(f => f.Name)];

    public static ImmutableArray<SentinelTable> Tables =>
    [
        new(ActivityTable,
            [("TimeGenerated", "datetime"), .. Sources.Activity.Fields.Where(f => f.Name is not ("time" or "tokens")).Select(f => (f.Kql, KqlType(f.Type)))],
            "Normalized LLM API requests, one row a request (KeyAbuseContent)."),
        new(HistoryTables.SentinelHourly,
            [("TimeGenerated", "datetime"), ("Rule", "string"), ("Entity", "string"), ("Value", "string"), ("Metric", "real")],
            "Hourly per-rule aggregates written by KeyAbuseContent's summary rules."),
        new(HistoryTables.SentinelBaseline,
            [("TimeGenerated", "datetime"), ("Rule", "string"), ("Entity", "string"), ("Slot", "string"), ("Value", "string"), ("Baseline", "real"), ("Samples", "long")],
            "Per-rule baselines and known values, refreshed daily by KeyAbuseContent's refresh workflows."),
    ];

    /// <summary>The activity parser: the normalized view every activity rule reads.</summary>
    public static SentinelFunction Activity()
    {
        var fields = Sources.Activity.Fields;
        var tokens = KqlNodes.Op("+",
            KqlNodes.Call("coalesce", KqlNodes.Col("InputTokens"), KqlLiteral.Long(0)),
            KqlNodes.Call("coalesce", KqlNodes.Col("OutputTokens"), KqlLiteral.Long(0)));
        var body = KqlNodes.From(ActivityTable).Then(
            new KqlExtend([KqlNodes.As("TotalTokens", tokens)]),
            new KqlProject([.. fields.Select(f => KqlNodes.Bare(KqlNodes.Col(f.Kql)))]));
        return new SentinelFunction(Sources.Activity.KqlFunction, "", KqlRenderer.Render(body), "Normalized LLM API activity for KeyAbuseContent rules.");
    }

    /// <summary>The inventory parser: the watchlist with typed columns (dates as datetime, lists as arrays).</summary>
    public static SentinelFunction Inventory()
    {
        var columns = Sources.Inventory.Fields.Select(f =>
        {
            KqlExpr raw = f.Name == "key_id" ? KqlNodes.Col("SearchKey") : KqlNodes.Col(f.Name);
            KqlExpr value = f.Type switch
            {
                ExprType.DateTime => KqlNodes.Call("todatetime", raw),
                ExprType.StringList => KqlNodes.Call("iff", KqlNodes.Call("isempty", KqlNodes.Call("tostring", raw)), KqlNodes.Call("parse_json", KqlLiteral.Str("[]")), KqlNodes.Call("split", KqlNodes.Call("tostring", raw), KqlLiteral.Str(";"))),
                _ => KqlNodes.Call("tostring", raw),
            };
            return KqlNodes.As(f.Kql, value);
        });
        var body = KqlNodes.FromFunction("_GetWatchlist", KqlLiteral.Str(InventoryWatchlist)).Then(new KqlProject([.. columns]));
        return new SentinelFunction(Sources.Inventory.KqlFunction, "", KqlRenderer.Render(body), "The KeyAbuseContent key inventory watchlist, typed.");
    }

    public static ImmutableArray<SentinelFunction> Functions => [Activity(), Inventory()];
}
