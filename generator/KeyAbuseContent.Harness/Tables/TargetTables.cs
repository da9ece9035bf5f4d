using System.Collections.Immutable;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Expressions;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Elastic;
using KeyAbuseContent.Targets.Sentinel;

namespace KeyAbuseContent.Harness.Tables;

/// <summary>
/// A dataset as each platform stores it: Sentinel's tables (PascalCase columns, strings never null, the
/// inventory as a watchlist) and Elastic's indices (ECS and OpenTelemetry names, missing values null, lists
/// as multi-values). Column names come from <see cref="Sources"/>, the one mapping the rules use too.
/// </summary>
public static class TargetTables
{
    /// <summary>The Elastic data stream backing index the activity events are written to.</summary>
    public const string ElasticActivityIndex = "logs-keyabuse.activity-default";

    /// <summary>The table _GetWatchlist('KeyAbuseInventory') reads in the harness.</summary>
    public const string WatchlistTable = "Watchlist_" + SentinelParsers.InventoryWatchlist;

    private static object? Value(ActivityEvent e, string field) => field switch
    {
        "time" => e.Time,
        "key_id" => e.KeyId,
        "service" => e.Service,
        "env" => e.Env,
        "client_ip" => e.ClientIp,
        "country" => e.Country,
        "asn" => e.Asn,
        "user_agent" => e.UserAgent,
        "provider" => e.Provider,
        "model" => e.Model,
        "operation" => e.Operation,
        "input_tokens" => e.InputTokens,
        "output_tokens" => e.OutputTokens,
        "tokens" => e.InputTokens + e.OutputTokens,
        "status" => e.Status,
        "latency_ms" => e.LatencyMs,
        "cost_usd" => e.CostUsd,
        "request_id" => e.RequestId,
        _ => throw new ArgumentException("unknown activity field " + field, nameof(field)),
    };

    /// <summary>Sentinel's <c>LlmActivity_CL</c>: the normalized columns, as the parser function reads them.</summary>
    public static DataTable SentinelActivity(Dataset dataset)
    {
        var table = SentinelParsers.Tables.Single(t => t.Name == SentinelParsers.ActivityTable);
        var fields = table.Columns.Select(c => c.Name == "TimeGenerated" ? Sources.Activity.Field("time")! : Sources.Activity.Fields.Single(f => f.Kql == c.Name)).ToList();
        return new DataTable(table.Name, [.. table.Columns.Select(c => new ColumnSchema(c.Name, c.Type))], Typed(dataset.Events, fields, kql: true));
    }

    /// <summary>
    /// The events' fields in typed columns (no boxed row an event): the activity tables are the dataset's largest,
    /// and the engines build their own columns from these. KQL strings are never null.
    /// </summary>
    private static TypedColumns Typed(ImmutableArray<ActivityEvent> events, IReadOnlyList<SourceField> fields, bool kql) =>
        new([.. fields.Select(f => Typed(events, f, kql))]);

    private static TypedColumn Typed(ImmutableArray<ActivityEvent> events, SourceField field, bool kql)
    {
        var n = events.Length;
        bool[]? nulls = null;
        void Missing(int i) => (nulls ??= new bool[n])[i] = true;
        switch (field.Type)
        {
            case ExprType.String or ExprType.Ip:
                {
                    var values = new string?[n];
                    for (var i = 0; i < n; i++)
                    {
                        var value = (string?)Value(events[i], field.Name);
                        values[i] = kql ? value ?? "" : value;
                    }
                    return new StringValues(values);
                }
            case ExprType.DateTime:
                {
                    var ticks = new long[n];
                    for (var i = 0; i < n; i++)
                    {
                        if (Value(events[i], field.Name) is DateTime t)
                        {
                            ticks[i] = t.Ticks;
                        }
                        else
                        {
                            Missing(i);
                        }
                    }
                    return new DateTimeValues(ticks, nulls);
                }
            case ExprType.Long:
                {
                    var values = new long[n];
                    for (var i = 0; i < n; i++)
                    {
                        if (Value(events[i], field.Name) is long l)
                        {
                            values[i] = l;
                        }
                        else
                        {
                            Missing(i);
                        }
                    }
                    return new LongValues(values, nulls);
                }
            case ExprType.Real:
                {
                    var values = new double[n];
                    for (var i = 0; i < n; i++)
                    {
                        if (Value(events[i], field.Name) is double d)
                        {
                            values[i] = d;
                        }
                        else
                        {
                            Missing(i);
                        }
                    }
                    return new DoubleValues(values, nulls);
                }
            default:
                throw new ArgumentException($"activity field {field.Name} has type {field.Type}, which has no typed column", nameof(field));
        }
    }

    /// <summary>The Elastic data stream backing index the log lines are written to.</summary>
    public const string ElasticLogsIndex = "logs-keyabuse.logs-default";

    private static object? LogValue(LogLine l, string field) => field switch
    {
        "time" => l.Time,
        "host" => l.Host,
        "source" => l.Source,
        "pipeline" => l.Pipeline,
        "repository" => l.Repository,
        "message" => l.Message,
        _ => throw new ArgumentException("unknown log field " + field, nameof(field)),
    };

    /// <summary>Sentinel's <c>LlmLogs_CL</c>: the normalized log columns, strings never null.</summary>
    public static DataTable SentinelLogs(Dataset dataset)
    {
        var table = SentinelParsers.Tables.Single(t => t.Name == SentinelParsers.LogsTable);
        var fields = table.Columns.Select(c => Sources.Logs.Fields.Single(f => f.Kql == c.Name)).ToList();
        var rows = dataset.Logs.Select(l => fields.Select(f => Kql(LogValue(l, f.Name), f.Type)).ToArray()).ToList();
        return new DataTable(table.Name, [.. table.Columns.Select(c => new ColumnSchema(c.Name, c.Type))], rows);
    }

    /// <summary>The Elastic logs index: ECS names, missing values null.</summary>
    public static DataTable ElasticLogs(Dataset dataset)
    {
        var fields = Sources.Logs.Fields;
        var rows = dataset.Logs.Select(l => fields.Select(f => LogValue(l, f.Name)).ToArray()).ToList();
        return new DataTable(ElasticLogsIndex, [.. fields.Select(f => new ColumnSchema(f.Esql, ElasticIngestPipelines.EsType(f.Type)))], rows);
    }

    /// <summary>KQL values: a missing string is the empty string; other types keep null.</summary>
    private static object? Kql(object? value, ExprType type) => type is ExprType.String or ExprType.Ip ? value ?? "" : value;

    /// <summary>The table _GetWatchlist('KeyAbuseGeo') reads in the harness.</summary>
    public const string GeoWatchlistTable = "Watchlist_" + SentinelParsers.GeoWatchlist;

    /// <summary>
    /// <c>_GetWatchlist(alias)</c> in the harness: the watchlist of that alias (SearchKey and its CSV's columns, all
    /// strings), as Sentinel returns it.
    /// </summary>
    public const string GetWatchlistBody = WatchlistTable + " | where watchlistAlias == '" + SentinelParsers.InventoryWatchlist + "' | union ("
        + GeoWatchlistTable + " | where watchlistAlias == '" + SentinelParsers.GeoWatchlist + "')";

    /// <summary>The address-range watchlist as <c>_GetWatchlist</c> returns it: SearchKey (the network) and network, country, asn as strings.</summary>
    public static DataTable SentinelGeoWatchlist(Dataset dataset) => new(GeoWatchlistTable,
        [new("SearchKey", "string"), .. SentinelParsers.GeoWatchlistColumns.Select(c => new ColumnSchema(c, "string"))],
        [.. dataset.Geo.Select(r => new object?[] { GeoEnrichment.Cidr(r), GeoEnrichment.Cidr(r), r.Country, r.Asn.ToString(System.Globalization.CultureInfo.InvariantCulture) })]);

    /// <summary>The inventory watchlist as <c>_GetWatchlist</c> returns it: SearchKey and the CSV's columns, all strings.</summary>
    public static DataTable SentinelWatchlist(Dataset dataset)
    {
        var names = SentinelParsers.WatchlistColumns;
        var columns = new List<ColumnSchema> { new("SearchKey", "string") };
        columns.AddRange(names.Select(n => new ColumnSchema(n, "string")));
        var rows = dataset.Inventory.Select(k => new object?[] { k.Id }.Concat(names.Select(n => (object?)WatchlistCell(k, n))).ToArray()).ToList();
        return new DataTable(WatchlistTable, columns, rows);
    }

    private static string WatchlistCell(InventoryKey k, string field) => field switch
    {
        "key_id" => k.Id,
        "provider" => k.Provider ?? "",
        "owner" => k.Owner ?? "",
        "team" => k.Team ?? "",
        "service" => k.Service ?? "",
        "env" => k.Env ?? "",
        "oncall" => k.Oncall ?? "",
        "created" => Day(k.Created),
        "expires" => Day(k.Expires),
        "rotated" => Day(k.Rotated),
        "last_used" => Day(k.LastUsed),
        "models" => string.Join(';', k.Models),
        "operations" => string.Join(';', k.Operations),
        "countries" => string.Join(';', k.Countries),
        "cidrs" => string.Join(';', k.Cidrs),
        "floor_scale" => Number(k.FloorScale),
        "min_ratio" => Number(k.MinRatio),
        _ => throw new ArgumentException("unknown inventory field " + field, nameof(field)),
    };

    private static string Number(double? d) => d?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "";

    private static string Day(DateTime? d) => d?.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) ?? "";


    /// <summary>The Elastic activity index: ECS and GenAI field names, missing values null.</summary>
    public static DataTable ElasticActivity(Dataset dataset)
    {
        // total_tokens is computed by the query (EVAL), not stored.
        var fields = Sources.Activity.Fields.Where(f => f.Name != "tokens").ToList();
        // Events are shipped through the activity pipeline, which fills country and AS from the address ranges.
        var geo = new GeoEnrichment(dataset.Geo);
        var events = dataset.Geo.IsEmpty ? dataset.Events : [.. dataset.Events.Select(geo.Enrich)];
        return new DataTable(ElasticActivityIndex, [.. fields.Select(f => new ColumnSchema(f.Esql, ElasticIngestPipelines.EsType(f.Type)))], Typed(events, fields, kql: false));
    }

    /// <summary>The Elastic inventory lookup index: one document a key, lists as multi-values, @timestamp the sync time.</summary>
    public static DataTable ElasticInventory(Dataset dataset, DateTime syncedAt)
    {
        var fields = Sources.Inventory.Fields;
        var columns = new List<ColumnSchema> { new("@timestamp", "date") };
        columns.AddRange(fields.Select(f => new ColumnSchema(f.Esql, f.Type switch { ExprType.DateTime => "date", ExprType.Real => "double", _ => "keyword" })));
        var rows = dataset.Inventory.Select(k => new object?[] { syncedAt }.Concat(fields.Select(f => InventoryValue(k, f.Name))).ToArray()).ToList();
        return new DataTable(Sources.Inventory.EsqlIndex, columns, rows);
    }

    private static object? InventoryValue(InventoryKey k, string field) => field switch
    {
        "key_id" => k.Id,
        "provider" => k.Provider,
        "owner" => k.Owner,
        "team" => k.Team,
        "service" => k.Service,
        "env" => k.Env,
        "oncall" => k.Oncall,
        "created" => k.Created,
        "expires" => k.Expires,
        "rotated" => k.Rotated,
        "last_used" => k.LastUsed,
        "models" => Multi(k.Models),
        "operations" => Multi(k.Operations),
        "countries" => Multi(k.Countries),
        "cidrs" => Multi(k.Cidrs),
        "floor_scale" => k.FloorScale,
        "min_ratio" => k.MinRatio,
        _ => throw new ArgumentException("unknown inventory field " + field, nameof(field)),
    };

    /// <summary>An empty list is a missing field in Elasticsearch; one value is a single value; more are a multi-value.</summary>
    private static object? Multi(ImmutableArray<string> values) => values.Length switch
    {
        0 => null,
        1 => values[0],
        _ => values.Cast<object?>().ToImmutableArray(),
    };
}
