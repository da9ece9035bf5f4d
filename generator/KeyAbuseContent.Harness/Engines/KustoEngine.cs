using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql;
using KeyAbuseContent.Targets.Kql;

namespace KeyAbuseContent.Harness.Engines;

/// <summary>
/// Runs the Sentinel queries on an Azure Data Explorer database through Kusto's REST API: the workspace's tables
/// created and filled once (<c>.create-merge table</c>, <c>.clear table</c>, <c>.ingest inline</c> on
/// <c>/v1/rest/mgmt</c>), the parser functions and the <c>_GetWatchlist</c> stub (a function over the watchlist
/// tables) stored with <c>.create-or-alter function</c>, and each run's query sent to <c>/v2/rest/query</c> with
/// the client request properties <c>query_now</c> (the run time) and <c>query_datetimescope_column/from/to</c>
/// (the query period on <c>TimeGenerated</c>), as Sentinel bounds a scheduled rule. The database should be the
/// harness's own: loading clears the tables it fills.
/// </summary>
public sealed class KustoEngine : IKqlQueryEngine, IDisposable
{
    /// <summary>The environment variable holding the bearer token (an Entra ID access token for the cluster).</summary>
    public const string TokenVariable = "KEYABUSE_KUSTO_TOKEN";

    /// <summary>The column Sentinel's query period bounds.</summary>
    public const string ScopeColumn = "TimeGenerated";

    /// <summary>At most this many characters of CSV in one <c>.ingest inline</c> command.</summary>
    internal const int InlineChunk = 512 * 1024;

    private readonly HttpClient _http;
    private readonly string? _token;

    public KustoEngine(Uri cluster, string database, string? token, HttpMessageHandler? handler = null)
    {
        Cluster = cluster;
        Database = database;
        _token = string.IsNullOrEmpty(token) ? null : token;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = TimeSpan.FromMinutes(5);
    }

    /// <summary>The cluster's address (scheme, host, port).</summary>
    public Uri Cluster { get; }

    public string Database { get; }

    /// <summary>
    /// An engine for <c>https://CLUSTER/DATABASE</c>; the token comes from <see cref="TokenVariable"/>, never from the
    /// command line. Throws <see cref="ArgumentException"/> with a readable message for a bad address.
    /// </summary>
    public static KustoEngine FromUrl(string url, HttpMessageHandler? handler = null)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"'{url}' is not an http(s) address of a Kusto cluster and database, e.g. https://mycluster.westeurope.kusto.windows.net/KeyAbuse");
        }
        var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length == 0 || database.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{url}' names no database: give it as the path, e.g. https://mycluster.westeurope.kusto.windows.net/KeyAbuse");
        }
        return new KustoEngine(new Uri(uri.GetLeftPart(UriPartial.Authority)), database, Environment.GetEnvironmentVariable(TokenVariable), handler);
    }

    public void Dispose() => _http.Dispose();

    public void Load(IReadOnlyDictionary<string, DataTable> tables, IReadOnlyList<KqlFunction> functions)
    {
        foreach (var table in tables.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            Command($".create-merge table {Name(table.Name)} ({string.Join(", ", table.Columns.Select(c => $"{Name(c.Name)}:{c.Type}"))})");
            Command($".clear table {Name(table.Name)} data");
            Append(table.Name, table.Columns, table.Rows);
        }
        foreach (var f in functions)
        {
            // skipvalidation: the functions refer to each other and are stored in any order.
            Command($".create-or-alter function with (skipvalidation = \"true\") {Name(f.Name)}({string.Join(", ", f.Parameters.Select(p => $"{p.Name}:{p.Type}"))}) {{ {f.Body} }}");
        }
    }

    public void Append(string table, IReadOnlyList<ColumnSchema> columns, IReadOnlyList<object?[]> rows)
    {
        foreach (var chunk in Csv.Chunks(rows, columns, InlineChunk))
        {
            Command($".ingest inline into table {Name(table)} <|\n{chunk}");
        }
    }

    public DataTable Execute(string query, IReadOnlyDictionary<string, DataTable> tables, IReadOnlyList<KqlFunction> functions, QueryScope scope)
    {
        var body = QueryBody(Database, query, scope).ToJsonString();
        var text = Post("/v2/rest/query", body, "the query");
        return KustoV2Response.Parse(text, Cluster);
    }

    /// <summary>The body of a v2 query: database, query text, and the run's clock and scope as client request properties.</summary>
    public static JsonObject QueryBody(string database, string query, QueryScope scope)
    {
        var options = new JsonObject { ["query_now"] = Iso(scope.Now) };
        if (scope.From is not null || scope.To is not null)
        {
            options["query_datetimescope_column"] = ScopeColumn;
        }
        if (scope.From is { } from)
        {
            options["query_datetimescope_from"] = Iso(from);
        }
        if (scope.To is { } to)
        {
            options["query_datetimescope_to"] = Iso(to);
        }
        return new JsonObject { ["db"] = database, ["csl"] = query, ["properties"] = new JsonObject { ["Options"] = options } };
    }

    /// <summary>A management command on <c>/v1/rest/mgmt</c>; its answer is only checked.</summary>
    private void Command(string command) =>
        Post("/v1/rest/mgmt", new JsonObject { ["db"] = Database, ["csl"] = command }.ToJsonString(), "the command " + Describe(command));

    private static string Describe(string command)
    {
        var line = command.Split('\n')[0];
        return line.Length <= 120 ? line : line[..120] + "...";
    }

    private string Post(string path, string body, string what)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Cluster, path)) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Add("x-ms-app", "KeyAbuseContent");
        request.Headers.Add("x-ms-client-request-id", "KeyAbuseContent;" + Guid.NewGuid().ToString());
        if (_token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        }
        HttpResponseMessage response;
        try
        {
            response = _http.Send(request);
        }
        catch (HttpRequestException e)
        {
            throw new RemoteEngineException($"cannot reach Kusto at {Cluster}: {e.Message}", e);
        }
        catch (TaskCanceledException e)
        {
            throw new RemoteEngineException($"Kusto at {Cluster} did not answer {what} in {_http.Timeout.TotalMinutes:0} min", e);
        }
        using (response)
        {
            using var reader = new StreamReader(response.Content.ReadAsStream(), Encoding.UTF8);
            var text = reader.ReadToEnd();
            if (!response.IsSuccessStatusCode)
            {
                throw new RemoteEngineException($"Kusto at {Cluster} answered {(int)response.StatusCode} ({response.ReasonPhrase}) to {what}: {KustoV2Response.ErrorMessage(text)}");
            }
            return text;
        }
    }

    /// <summary>A name as a Kusto identifier: bare when it is one, else bracketed.</summary>
    /// <summary>A table, column or function name as KQL reads it (the generator's rendering: keywords bracketed too).</summary>
    internal static string Name(string name) => KqlRenderer.Name(name);

    internal static string Iso(DateTime t) => DateTime.SpecifyKind(t, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);

    /// <summary>Rows as the CSV <c>.ingest inline</c> reads: every string quoted, a missing value of another type empty.</summary>
    internal static class Csv
    {
        public static IEnumerable<string> Chunks(IReadOnlyList<object?[]> rows, IReadOnlyList<ColumnSchema> columns, int limit)
        {
            var text = new StringBuilder();
            foreach (var row in rows)
            {
                var line = Line(row, columns);
                if (text.Length > 0 && text.Length + line.Length > limit)
                {
                    yield return text.ToString();
                    text.Clear();
                }
                text.Append(line).Append('\n');
            }
            if (text.Length > 0)
            {
                yield return text.ToString();
            }
        }

        public static string Line(object?[] row, IReadOnlyList<ColumnSchema> columns) =>
            string.Join(",", row.Select((v, i) => Field(v, columns[i].Type)));

        private static string Field(object? value, string type) => value switch
        {
            null => type == "string" ? "\"\"" : "",
            string s => Quote(s),
            bool b => b ? "true" : "false",
            DateTime t => Iso(t),
            TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            JsonNode n => Quote(n.ToJsonString()),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => Quote(value.ToString() ?? ""),
        };

        private static string Quote(string s) => "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }
}

/// <summary>
/// Reads a Kusto v2 query response (a JSON array of frames: DataSetHeader, DataTable frames of kinds
/// QueryProperties, PrimaryResult, QueryCompletionInformation, then DataSetCompletion) into the harness's table:
/// the first PrimaryResult, columns with their KQL types, values as the embedded engine gives them.
/// </summary>
public static class KustoV2Response
{
    public static DataTable Parse(string text, Uri cluster)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new RemoteEngineException($"Kusto at {cluster} answered the query with something that is not JSON: {e.Message}");
        }
        if (root is not JsonArray frames)
        {
            throw new RemoteEngineException($"Kusto at {cluster} answered the query with no v2 frames: {ErrorMessage(text)}");
        }
        DataTable? primary = null;
        foreach (var frame in frames.OfType<JsonObject>())
        {
            switch ((string?)frame["FrameType"])
            {
                case "DataTable" when (string?)frame["TableKind"] == "PrimaryResult" && primary is null:
                    primary = Table(frame, cluster);
                    break;
                case "DataSetCompletion" when frame["HasErrors"]?.GetValue<bool>() == true:
                    throw new RemoteEngineException($"Kusto at {cluster} failed the query: {OneApiError(frame["OneApiErrors"]) ?? "no reason given"}");
            }
        }
        return primary ?? throw new RemoteEngineException($"Kusto at {cluster} answered the query with no primary result");
    }

    private static DataTable Table(JsonObject frame, Uri cluster)
    {
        var columns = frame["Columns"]!.AsArray().Select(c => new ColumnSchema((string)c!["ColumnName"]!, (string)c["ColumnType"]!)).ToList();
        var rows = new List<object?[]>();
        foreach (var node in frame["Rows"]?.AsArray() ?? [])
        {
            if (node is JsonObject error)
            {
                // A failure after the first rows were sent comes as a row that is an error object.
                throw new RemoteEngineException($"Kusto at {cluster} failed the query part way: {OneApiError(error["OneApiErrors"]) ?? error.ToJsonString()}");
            }
            var values = node!.AsArray();
            rows.Add([.. columns.Select((c, i) => Value(values[i], c.Type))]);
        }
        return new DataTable((string?)frame["TableName"] ?? "PrimaryResult", columns, rows);
    }

    /// <summary>A v2 value of a column type as the harness holds it: strings never null, datetimes UTC, dynamic as JSON.</summary>
    public static object? Value(JsonNode? node, string type)
    {
        if (type == "dynamic")
        {
            return node?.DeepClone();
        }
        if (node is null)
        {
            return type == "string" ? "" : null;
        }
        var value = node.AsValue();
        return type switch
        {
            "string" => value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : node.ToJsonString(),
            "long" => value.GetValue<long>(),
            "int" => value.GetValue<int>(),
            "real" or "decimal" => value.GetValueKind() == JsonValueKind.String
                ? double.Parse(value.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture)
                : value.GetValue<double>(),
            "bool" => value.GetValueKind() == JsonValueKind.Number ? value.GetValue<int>() != 0 : value.GetValue<bool>(),
            "datetime" => DateTime.Parse(value.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
            "timespan" => TimeSpan.Parse(value.GetValue<string>(), CultureInfo.InvariantCulture),
            "guid" => Guid.Parse(value.GetValue<string>()),
            _ => node.ToJsonString(),
        };
    }

    private static string? OneApiError(JsonNode? errors) =>
        errors is JsonArray { Count: > 0 } a && a[0]?["error"] is JsonObject e ? (string?)e["@message"] ?? (string?)e["message"] : null;

    /// <summary>The message of a OneApiErrors failure body, or the body's start.</summary>
    public static string ErrorMessage(string text)
    {
        try
        {
            if (JsonNode.Parse(text) is JsonObject { } o && o["error"] is JsonObject e)
            {
                return (string?)e["@message"] ?? (string?)e["message"] ?? e.ToJsonString();
            }
        }
        catch (JsonException)
        {
        }
        return text.Length <= 300 ? text : text[..300] + "...";
    }
}
