using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Elastic.Clients.Elasticsearch;
using Elastic.Transport;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Tables;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Elastic;
using HttpMethod = Elastic.Transport.HttpMethod;

namespace KeyAbuseContent.Harness.Engines;

/// <summary>
/// Runs the Elastic rules' ES|QL on an Elasticsearch cluster with Elastic.Clients.Elasticsearch. Loading installs
/// the bundle's setup (<c>elastic/setup.ndjson</c>: lookup indices, the address-range index and its enrich policy,
/// the ingest pipelines) with an index template a data stream (the harness's mapping of its fields), fills the
/// address ranges before the enrich policy runs, and bulk-ingests the dataset once: activity events through
/// <c>keyabuse-activity-geo</c>, each vendor record as its shipper sends it (<c>message</c>) through its source's
/// pipeline. Transforms are not installed: they would run on the cluster's clock, not the dataset's, so the harness
/// plays them as it does for the embedded engine and writes their output (and the inventory as of each day's sync,
/// and the joined vendor sources) to the indices before the runs that read them. Each run's query goes to
/// <c>_query</c> with the rule's window as its <c>filter</c> range on <c>@timestamp</c>. ES|QL has no request
/// option for <c>NOW()</c>; the pack's queries compare with the data's own times instead.
/// </summary>
public sealed class ElasticsearchEngine : IEsqlQueryEngine
{
    /// <summary>The environment variable holding the API key (the encoded id:key), never given on the command line.</summary>
    public const string ApiKeyVariable = "KEYABUSE_ELASTICSEARCH_API_KEY";

    /// <summary>Documents a bulk request carries.</summary>
    internal const int BulkSize = 2000;

    private readonly ElasticsearchClient _client;
    private readonly IReadOnlyList<ElasticSetupRequest> _setup;
    private readonly HashSet<string> _loaded = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DataTable> _written = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public ElasticsearchEngine(Uri url, string? apiKey, IReadOnlyList<ElasticSetupRequest> setup)
    {
        Url = url;
        var settings = new ElasticsearchClientSettings(url).RequestTimeout(TimeSpan.FromMinutes(5)).DisableDirectStreaming(false);
        if (!string.IsNullOrEmpty(apiKey))
        {
            settings = settings.Authentication(new ApiKey(apiKey));
        }
        _client = new ElasticsearchClient(settings);
        _setup = setup;
    }

    public Uri Url { get; }

    /// <summary>An engine for an http(s) address; the API key from <see cref="ApiKeyVariable"/>. Throws <see cref="ArgumentException"/> for a bad address.</summary>
    public static ElasticsearchEngine FromUrl(string url, IReadOnlyList<ElasticSetupRequest> setup)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"'{url}' is not an http(s) address of Elasticsearch, e.g. https://localhost:9200");
        }
        return new ElasticsearchEngine(uri, Environment.GetEnvironmentVariable(ApiKeyVariable), setup);
    }

    public void Load(Dataset dataset, IReadOnlyDictionary<string, DataTable> indices)
    {
        lock (_lock)
        {
            _loaded.Clear();
            _written.Clear();
            // The data streams the dataset is written to: their templates first, and last run's documents gone.
            var streams = new List<(string Name, IReadOnlyList<ColumnSchema> Columns)>
            {
                (TargetTables.ElasticActivityIndex, indices[TargetTables.ElasticActivityIndex].Columns),
                (TargetTables.ElasticLogsIndex, indices[TargetTables.ElasticLogsIndex].Columns),
            };
            streams.AddRange(RawSources.Tables.Where(s => !ElasticRawJoins.Staged(s) && indices.ContainsKey(s.ElasticDataStream))
                .Select(s => (s.ElasticDataStream, indices[s.ElasticDataStream].Columns)));
            foreach (var (name, columns) in streams)
            {
                Send(HttpMethod.PUT, "/_index_template/" + TemplateName(name), Template(name, columns).ToJsonString(), allow: []);
                Send(HttpMethod.DELETE, "/_data_stream/" + name, null, allow: [404]);
                _loaded.Add(name);
            }
            foreach (var request in _setup.Where(r => r.Path.StartsWith('/') && !r.Path.StartsWith(ElasticSetupRequest.TransformPath(""), StringComparison.Ordinal)))
            {
                if (request.Path == $"/_enrich/policy/{ElasticGeo.Policy}/_execute")
                {
                    // The policy's enrich index is built from the ranges there are when it runs.
                    Bulk(ElasticGeo.Index, null, "index", dataset.Geo.Select(Range));
                    Send(HttpMethod.POST, "/" + ElasticGeo.Index + "/_refresh", null, allow: []);
                    Send(HttpMethod.POST, request.Path + "?wait_for_completion=true", null, allow: []);
                    continue;
                }
                var method = request.Method switch { "PUT" => HttpMethod.PUT, "POST" => HttpMethod.POST, "DELETE" => HttpMethod.DELETE, _ => HttpMethod.GET };
                if (method == HttpMethod.PUT && IsIndex(request.Path))
                {
                    // An index of an earlier load goes, so the setup's mapping holds; one Elasticsearch will not delete
                    // (the source of an enrich policy in use) keeps its mapping and loses its documents.
                    var (deleted, _) = Call(HttpMethod.DELETE, request.Path, null, allow: [400, 404]);
                    if (deleted == 400)
                    {
                        Send(HttpMethod.POST, request.Path + "/_delete_by_query?refresh=true&conflicts=proceed", """{"query":{"match_all":{}}}""", allow: []);
                    }
                    else
                    {
                        Send(HttpMethod.PUT, request.Path, request.Body?.ToJsonString(), allow: []);
                    }
                    continue;
                }
                // An enrich policy cannot be replaced while a pipeline uses it: one from an earlier load is the same policy.
                Send(method, request.Path, request.Body?.ToJsonString(), allow: request.Path.StartsWith("/_enrich/policy/", StringComparison.Ordinal) ? [400, 409] : []);
            }
            var activity = TargetTables.ElasticActivity(dataset with { Geo = [] });
            Bulk(TargetTables.ElasticActivityIndex, ElasticGeo.Pipeline, "create", Documents(activity));
            Bulk(TargetTables.ElasticLogsIndex, null, "create", Documents(indices[TargetTables.ElasticLogsIndex]));
            foreach (var source in RawSources.Tables.Where(s => !ElasticRawJoins.Staged(s)))
            {
                Bulk(source.ElasticDataStream, source.ElasticPipeline, "create", dataset.Raw.Where(r => r.Source == source).Select(r => new JsonObject { ["message"] = r.Text }));
            }
            Send(HttpMethod.POST, "/_refresh", null, allow: []);
        }
    }

    public DataTable Execute(string query, IReadOnlyDictionary<string, DataTable> indices, QueryScope scope)
    {
        lock (_lock)
        {
            foreach (var (name, table) in indices.OrderBy(i => i.Key, StringComparer.Ordinal))
            {
                if (!_loaded.Contains(name) && !(_written.TryGetValue(name, out var last) && ReferenceEquals(last, table)))
                {
                    Replace(name, table);
                    _written[name] = table;
                }
            }
            var text = Send(HttpMethod.POST, "/_query", QueryBody(query, scope).ToJsonString(), allow: [])!;
            return EsqlResponse.Parse(text, Url);
        }
    }

    /// <summary>The <c>_query</c> body: the query text and, for a bounded run, the window as a range filter on <c>@timestamp</c> (both ends included).</summary>
    public static JsonObject QueryBody(string query, QueryScope scope)
    {
        var body = new JsonObject { ["query"] = query };
        if (scope.From is not null || scope.To is not null)
        {
            var range = new JsonObject();
            if (scope.From is { } from)
            {
                range["gte"] = Iso(from);
            }
            if (scope.To is { } to)
            {
                range["lte"] = Iso(to);
            }
            range["format"] = "strict_date_optional_time";
            body["filter"] = new JsonObject { ["range"] = new JsonObject { ["@timestamp"] = range } };
        }
        return body;
    }

    /// <summary>An index the harness keeps (a transform's output, the inventory, a joined source): its documents replaced.</summary>
    private void Replace(string index, DataTable table)
    {
        Send(HttpMethod.POST, "/" + index + "/_delete_by_query?refresh=true&conflicts=proceed", """{"query":{"match_all":{}}}""", allow: [404]);
        Bulk(index, null, "index", Documents(table));
        Send(HttpMethod.POST, "/" + index + "/_refresh", null, allow: []);
    }

    internal static string TemplateName(string stream) => "keyabuse-harness-" + stream;

    /// <summary>An index template for one data stream: its fields typed as the harness (and the pack's queries) type them.</summary>
    internal static JsonObject Template(string stream, IReadOnlyList<ColumnSchema> columns)
    {
        var properties = new JsonObject();
        foreach (var c in columns)
        {
            properties[c.Name] = new JsonObject { ["type"] = c.Type };
        }
        properties["message"] ??= new JsonObject { ["type"] = "keyword", ["index"] = false };
        return new JsonObject
        {
            ["index_patterns"] = new JsonArray(stream),
            ["data_stream"] = new JsonObject(),
            ["priority"] = 500,
            ["template"] = new JsonObject { ["mappings"] = new JsonObject { ["properties"] = properties } },
            ["_meta"] = new JsonObject { ["description"] = "KeyAbuseContent harness: the mapping of " + stream },
        };
    }

    private static bool IsIndex(string path) => path.Length > 1 && path.IndexOf('/', 1) < 0 && !path.StartsWith("/_", StringComparison.Ordinal);

    private static JsonObject Range(GeoRange r) => new() { ["network"] = GeoEnrichment.Cidr(r), ["country"] = r.Country, ["asn"] = r.Asn };

    /// <summary>A table's rows as documents: missing values left out, multi-values as arrays, dates ISO 8601 in milliseconds.</summary>
    internal static IEnumerable<JsonObject> Documents(DataTable table)
    {
        for (var r = 0; r < table.Rows.Count; r++)
        {
            var doc = new JsonObject();
            for (var c = 0; c < table.Columns.Count; c++)
            {
                if (Node(table.Value(r, c)) is { } node)
                {
                    doc[table.Columns[c].Name] = node;
                }
            }
            yield return doc;
        }
    }

    private static JsonNode? Node(object? value) => value switch
    {
        null => null,
        DateTime t => JsonValue.Create(Iso(t)),
        ImmutableArray<object?> multi => new JsonArray([.. multi.Select(Node)]),
        JsonNode n => n.DeepClone(),
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        double d => double.IsFinite(d) ? JsonValue.Create(d) : null,
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };

    internal static string Iso(DateTime t) => DateTime.SpecifyKind(t, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    /// <summary>Documents to an index or data stream in bulk requests (through a pipeline when given); a rejected document fails the load.</summary>
    private void Bulk(string index, string? pipeline, string action, IEnumerable<JsonObject> documents)
    {
        var path = "/" + index + "/_bulk" + (pipeline is null ? "" : "?pipeline=" + Uri.EscapeDataString(pipeline));
        var body = new StringBuilder();
        var count = 0;
        var header = new JsonObject { [action] = new JsonObject() }.ToJsonString();
        foreach (var doc in documents)
        {
            body.Append(header).Append('\n').Append(doc.ToJsonString()).Append('\n');
            if (++count == BulkSize)
            {
                BulkRequest(path, body.ToString());
                body.Clear();
                count = 0;
            }
        }
        if (count > 0)
        {
            BulkRequest(path, body.ToString());
        }
    }

    private void BulkRequest(string path, string ndjson)
    {
        var text = Send(HttpMethod.POST, path, ndjson, allow: [], ndjson: true)!;
        var answer = JsonNode.Parse(text);
        if (answer?["errors"]?.GetValue<bool>() == true)
        {
            var failed = answer["items"]!.AsArray().Select(i => i!.AsObject().First().Value?["error"]).FirstOrDefault(e => e is not null);
            throw new RemoteEngineException($"Elasticsearch at {Url} rejected documents of {path}: {(string?)failed?["type"]}: {(string?)failed?["reason"]}");
        }
    }

    /// <summary>
    /// One call; the answer's body, or null when the status is one of <paramref name="allow"/> (an expected refusal).
    /// Any other failure is a <see cref="RemoteEngineException"/> naming the call and what Elasticsearch said.
    /// </summary>
    private string? Send(HttpMethod method, string path, string? body, int[] allow, bool ndjson = false) => Call(method, path, body, allow, ndjson).Body;

    /// <summary>One call: its status and, when it succeeded, its body; a status of <paramref name="allow"/> comes back with no body.</summary>
    private (int Status, string? Body) Call(HttpMethod method, string path, string? body, int[] allow, bool ndjson = false)
    {
        var configuration = ndjson ? new RequestConfiguration { ContentType = "application/x-ndjson" } : new RequestConfiguration();
        StringResponse response;
        try
        {
            response = body is null
                ? _client.Transport.Request<StringResponse>(method, path, null, configuration)
                : _client.Transport.Request<StringResponse>(method, path, PostData.String(body), configuration);
        }
        catch (TransportException e)
        {
            throw new RemoteEngineException($"Elasticsearch at {Url} failed {method} {Path(path)}: {e.Message}", e);
        }
        var details = response.ApiCallDetails;
        if (details.HasSuccessfulStatusCode)
        {
            return (details.HttpStatusCode ?? 200, response.Body);
        }
        if (details.HttpStatusCode is { } status && allow.Contains(status))
        {
            return (status, null);
        }
        if (details.HttpStatusCode is null)
        {
            throw new RemoteEngineException($"cannot reach Elasticsearch at {Url} ({method} {Path(path)}): {details.OriginalException?.Message ?? "no answer"}", details.OriginalException);
        }
        throw new RemoteEngineException($"Elasticsearch at {Url} answered {details.HttpStatusCode} to {method} {Path(path)}: {EsqlResponse.ErrorMessage(response.Body)}");
    }

    private static string Path(string path) => path.Split('?')[0];
}

/// <summary>
/// Reads an ES|QL <c>_query</c> response (<c>{"columns":[{"name","type"}],"values":[[...]]}</c>) into the harness's
/// table: ES|QL type names, dates as UTC <see cref="DateTime"/>, a multi-value as an <see cref="ImmutableArray{T}"/>.
/// </summary>
public static class EsqlResponse
{
    public static DataTable Parse(string text, Uri url)
    {
        JsonObject? root;
        try
        {
            root = JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException e)
        {
            throw new RemoteEngineException($"Elasticsearch at {url} answered _query with something that is not JSON: {e.Message}");
        }
        if (root?["columns"] is not JsonArray columnNodes)
        {
            throw new RemoteEngineException($"Elasticsearch at {url} answered _query without columns: {ErrorMessage(text)}");
        }
        var columns = columnNodes.Select(c => new ColumnSchema((string)c!["name"]!, (string)c["type"]!)).ToList();
        var rows = new List<object?[]>();
        foreach (var row in root["values"]?.AsArray() ?? [])
        {
            var values = row!.AsArray();
            rows.Add([.. columns.Select((c, i) => Value(values[i], c.Type))]);
        }
        return new DataTable("esql", columns, rows);
    }

    /// <summary>A value of a column type: null stays null, an array is a multi-value.</summary>
    public static object? Value(JsonNode? node, string type) => node switch
    {
        null => null,
        JsonArray multi => multi.Count == 0 ? null : multi.Select(v => Value(v, type)).ToImmutableArray(),
        _ => type switch
        {
            "long" or "unsigned_long" or "counter_long" => node.GetValue<long>(),
            "integer" or "counter_integer" => node.GetValue<int>(),
            "double" or "counter_double" => node.GetValue<double>(),
            "boolean" => node.GetValue<bool>(),
            "date" or "date_nanos" => DateTime.Parse(node.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
            _ => node.AsValue().GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString(),
        },
    };

    /// <summary>The reason of an Elasticsearch error body (<c>{"error":{"type","reason"},"status"}</c>), or the body's start.</summary>
    public static string ErrorMessage(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "no body";
        }
        try
        {
            if (JsonNode.Parse(text) is JsonObject o && o["error"] is JsonObject e)
            {
                return $"{(string?)e["type"]}: {(string?)e["reason"]}";
            }
        }
        catch (JsonException)
        {
        }
        return text.Length <= 300 ? text : text[..300] + "...";
    }
}
