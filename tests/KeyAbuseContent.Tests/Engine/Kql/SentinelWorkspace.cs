using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Sentinel;
using KeyAbuseContent.Validation.Kql;
using KeyAbuseContent.Yaml;

namespace KeyAbuseContent.Tests.Engine.Kql;

/// <summary>
/// A Sentinel workspace in memory for the pack's generated KQL: the pack's tables and the Sentinel tables its
/// parsers read (schemas from the generator and detections/reference), the parser functions of the golden
/// files, and <c>_GetWatchlist</c> as a stored function over the inventory and address-range tables.
/// </summary>
internal sealed class SentinelWorkspace
{
    public const string WatchlistTable = "KeyAbuseInventoryWatchlist";

    public const string GeoWatchlistTable = "KeyAbuseGeoWatchlist";

    private readonly Dictionary<string, (List<ColumnSchema> Columns, List<object?[]> Rows)> _tables = new(StringComparer.Ordinal);

    public SentinelWorkspace()
    {
        foreach (var table in SentinelParsers.Tables)
        {
            Declare(table.Name, table.Columns.Select(c => new ColumnSchema(c.Name, c.Type)));
        }
        foreach (var table in SentinelTableSchemas.Load(Path.Combine(TestPaths.Detections, "reference", "sentinel-tables")))
        {
            // The native tables the parsers read (AWSCloudTrail, AzureActivity, AzureDiagnostics, API Management's).
            if (RawSources.Tables.Any(r => !r.CustomTable && r.SentinelTable == table.Name))
            {
                Declare(table.Name, table.Columns.Select(c => new ColumnSchema(c.Name, c.Type)));
            }
        }
        Declare(WatchlistTable, [new ColumnSchema("SearchKey", "string"), .. SentinelParsers.InventoryCsvColumns.Select(c => new ColumnSchema(c, "string")),
            new ColumnSchema("WatchlistItem", "dynamic"), new ColumnSchema("LastUpdatedTimeUTC", "datetime")]);
        Declare(GeoWatchlistTable, [new ColumnSchema("SearchKey", "string"), .. SentinelParsers.GeoWatchlistColumns.Select(c => new ColumnSchema(c, "string"))]);
    }

    /// <summary>The parser functions as the golden files publish them, and the watchlist function.</summary>
    public static IReadOnlyList<KqlFunction> Functions { get; } = LoadFunctions();

    public IReadOnlyDictionary<string, DataTable> Tables =>
        _tables.ToDictionary(t => t.Key, t => new DataTable(t.Key, t.Value.Columns, t.Value.Rows), StringComparer.Ordinal);

    /// <summary>Adds a row; columns not given are empty strings or nulls.</summary>
    public SentinelWorkspace Add(string table, params (string Column, object? Value)[] values)
    {
        var (columns, rows) = _tables[table];
        var row = columns.Select(c => c.Type == "string" ? (object?)"" : null).ToArray();
        foreach (var (column, value) in values)
        {
            var i = columns.FindIndex(c => c.Name == column);
            if (i < 0)
            {
                throw new ArgumentException($"{table} has no column {column}");
            }
            row[i] = value;
        }
        rows.Add(row);
        return this;
    }

    /// <summary>An activity event; the usual fields have defaults.</summary>
    public SentinelWorkspace Activity(DateTime time, string key, int status = 200, string country = "US", long input = 100, long output = 50,
        string model = "gpt-4o-mini", string operation = "chat", string ip = "203.0.113.10", long asn = 64500, string agent = "openai-python/1.0")
    {
        return Add("LlmActivity_CL", ("TimeGenerated", time), ("KeyId", key), ("Service", "search-api"), ("Env", "prod"), ("SrcIpAddr", ip),
            ("SrcGeoCountry", country), ("SrcAsn", asn), ("HttpUserAgent", agent), ("Provider", "openai"), ("Model", model), ("Operation", operation),
            ("InputTokens", input), ("OutputTokens", output), ("HttpStatusCode", (long)status), ("LatencyMs", 120.0), ("CostUsd", 0.01),
            ("RequestId", Guid.NewGuid().ToString("N")));
    }

    /// <summary>An inventory key as the watchlist holds it: lists are ';'-separated, dates ISO.</summary>
    public SentinelWorkspace Key(string id, string owner = "dana@example.com", string expires = "2027-06-01", string created = "2026-06-01",
        string rotated = "", string models = "", string operations = "", string countries = "")
    {
        return Add(WatchlistTable, ("SearchKey", id), ("key_id", id), ("provider", "openai"), ("owner", owner), ("team", "search"),
            ("service", "search-api"), ("env", "prod"), ("created", created), ("expires", expires), ("rotated", rotated), ("models", models),
            ("operations", operations), ("countries", countries));
    }

    /// <summary>An address range of the KeyAbuseGeo watchlist.</summary>
    public SentinelWorkspace Geo(string network, string country, long asn) =>
        Add(GeoWatchlistTable, ("SearchKey", network), ("network", network), ("country", country), ("asn", asn.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public DataTable Run(string query, DateTime now) => new KqlEngine().Execute(query, Tables, Functions, now).Table;

    private void Declare(string name, IEnumerable<ColumnSchema> columns) => _tables[name] = ([.. columns], []);

    private static List<KqlFunction> LoadFunctions()
    {
        var parsers = Path.Combine(TestPaths.Golden, "library", "sentinel", "parsers");
        var functions = Directory.GetFiles(parsers, "*.kql").Order(StringComparer.Ordinal)
            .Select(f => new KqlFunction(Path.GetFileNameWithoutExtension(f), [], File.ReadAllText(f)))
            .ToList();
        functions.Add(new KqlFunction("_GetWatchlist", [("watchlistAlias", "string")], $"{{ {WatchlistTable} | where watchlistAlias == 'KeyAbuseInventory' | union ({GeoWatchlistTable} | where watchlistAlias == 'KeyAbuseGeo') }}"));
        return functions;
    }

    /// <summary>Every KQL query of the golden files: detection queries, summary rules and refreshes, and parsers.</summary>
    public static IEnumerable<(string Id, string Query)> GeneratedQueries()
    {
        foreach (var set in new[] { "library", "kinds" })
        {
            var sentinel = Path.Combine(TestPaths.Golden, set, "sentinel");
            foreach (var file in Directory.GetFiles(Path.Combine(sentinel, "rules"), "*.yaml").Order(StringComparer.Ordinal))
            {
                var root = YamlDocumentReader.Read(file, File.ReadAllText(file), new DiagnosticBag()) as YamlMapping
                    ?? throw new InvalidDataException($"{file} is not a YAML mapping");
                var query = (root["query"] as YamlScalar)?.Text ?? throw new InvalidDataException($"{file} has no query");
                yield return ($"{set}/rules/{Path.GetFileNameWithoutExtension(file)}", query);
            }
            foreach (var folder in new[] { "history", "parsers" })
            {
                foreach (var file in Directory.GetFiles(Path.Combine(sentinel, folder), "*.kql").Order(StringComparer.Ordinal))
                {
                    yield return ($"{set}/{folder}/{Path.GetFileNameWithoutExtension(file)}", File.ReadAllText(file));
                }
            }
        }
    }
}
