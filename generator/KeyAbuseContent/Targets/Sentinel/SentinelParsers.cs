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

    /// <summary>The table provider audit events land in.</summary>
    public const string AuditTable = "LlmAudit_CL";

    /// <summary>The table application and CI log lines land in.</summary>
    public const string LogsTable = "LlmLogs_CL";

    /// <summary>The columns of a table that holds a source's normalized fields as they are (tokens is derived).</summary>
    private static ImmutableArray<(string Name, string Type)> NormalizedColumns(SourceSchema source) =>
        [("TimeGenerated", "datetime"), .. source.Fields.Where(f => f.Name is not ("time" or "tokens")).Select(f => (f.Kql, KqlType(f.Type)))];

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
        new(ActivityTable, NormalizedColumns(Sources.Activity), "Normalized LLM API requests, one row a request (KeyAbuseContent)."),
        new(AuditTable, NormalizedColumns(Sources.Audit), "Normalized LLM provider audit events (KeyAbuseContent)."),
        new(LogsTable, NormalizedColumns(Sources.Logs), "Application and CI log lines searched for key material (KeyAbuseContent)."),
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

    /// <summary>A parser that projects a normalized table's columns, in the source's order.</summary>
    private static SentinelFunction Normalized(SourceSchema source, string table, string description)
    {
        var body = KqlNodes.From(table).Then(new KqlProject([.. source.Fields.Select(f => KqlNodes.Bare(KqlNodes.Col(f.Kql)))]));
        return new SentinelFunction(source.KqlFunction, "", KqlRenderer.Render(body), description);
    }

    /// <summary>The control-plane parser: AWS CloudTrail and Azure Activity in one shape.</summary>
    public static SentinelFunction ControlPlane()
    {
        static KqlExpr Str(string s) => KqlLiteral.Str(s);
        var aws = KqlNodes.From("AWSCloudTrail").Then(new KqlProject([
            KqlNodes.Bare(KqlNodes.Col("TimeGenerated")),
            KqlNodes.As("Cloud", Str("aws")),
            KqlNodes.Bare(KqlNodes.Col("EventSource")),
            KqlNodes.Bare(KqlNodes.Col("EventName")),
            KqlNodes.As("Actor", KqlNodes.Col("UserIdentityArn")),
            // Not every AWSCloudTrail schema has the access key column.
            KqlNodes.As("KeyId", KqlNodes.Call("tostring", KqlNodes.Call("column_ifexists", Str("UserIdentityAccessKeyId"), Str("")))),
            KqlNodes.As("AccountId", KqlNodes.Col("RecipientAccountId")),
            KqlNodes.As("Region", KqlNodes.Col("AWSRegion")),
            KqlNodes.As("SrcIpAddr", KqlNodes.Col("SourceIpAddress")),
            KqlNodes.As("HttpUserAgent", KqlNodes.Col("UserAgent")),
            KqlNodes.As("Outcome", KqlNodes.Call("iff", KqlNodes.Call("isempty", KqlNodes.Col("ErrorCode")), Str("success"), Str("failure"))),
            KqlNodes.Bare(KqlNodes.Col("ErrorCode")),
            KqlNodes.As("Model", KqlNodes.Call("tostring", new KqlMember(KqlNodes.Col("RequestParameters"), "modelId")))]));
        var azure = KqlNodes.From("AzureActivity").Then(new KqlProject([
            KqlNodes.Bare(KqlNodes.Col("TimeGenerated")),
            KqlNodes.As("Cloud", Str("azure")),
            KqlNodes.As("EventSource", KqlNodes.Col("ResourceProviderValue")),
            KqlNodes.As("EventName", KqlNodes.Col("OperationNameValue")),
            KqlNodes.As("Actor", KqlNodes.Col("Caller")),
            KqlNodes.As("KeyId", Str("")),
            KqlNodes.As("AccountId", KqlNodes.Col("SubscriptionId")),
            KqlNodes.As("Region", Str("")),
            KqlNodes.As("SrcIpAddr", KqlNodes.Col("CallerIpAddress")),
            KqlNodes.As("HttpUserAgent", Str("")),
            KqlNodes.As("Outcome", KqlNodes.Call("iff", KqlNodes.Op("=~", KqlNodes.Col("ActivityStatusValue"), Str("Failure")), Str("failure"), Str("success"))),
            KqlNodes.As("ErrorCode", KqlNodes.Col("ActivitySubstatusValue")),
            KqlNodes.As("Model", Str(""))]));
        var query = new KqlQuery([new KqlLet("Aws", aws, null), new KqlLet("Azure", azure, null)], new KqlTabular(new KqlTableSource("Aws"), [new KqlUnion(["Azure"])]));
        return new SentinelFunction(Sources.ControlPlane.KqlFunction, "", KqlRenderer.Render(query), "AWS CloudTrail and Azure Activity as KeyAbuseContent control-plane events.");
    }

    public static ImmutableArray<SentinelFunction> Functions =>
    [
        Activity(),
        Inventory(),
        ControlPlane(),
        Normalized(Sources.Audit, AuditTable, "LLM provider audit events for KeyAbuseContent rules."),
        Normalized(Sources.Logs, LogsTable, "Application and CI log lines for KeyAbuseContent rules."),
    ];
}
