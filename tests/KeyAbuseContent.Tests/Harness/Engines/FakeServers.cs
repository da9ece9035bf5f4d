using System.Net;
using System.Net.Sockets;
using System.Text;

namespace KeyAbuseContent.Tests.Harness.Engines;

/// <summary>One request a fake server received: method, path with query, headers, body.</summary>
internal sealed record ReceivedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string Path => PathAndQuery.Split('?')[0];

    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : null;
}

/// <summary>
/// Kusto in process: an <see cref="HttpMessageHandler"/> that records each request and answers it with
/// <see cref="Answer"/> (by default: management commands acknowledged, queries an empty primary result).
/// </summary>
internal sealed class FakeKusto : HttpMessageHandler
{
    private readonly Lock _lock = new();
    private readonly List<ReceivedRequest> _requests = [];

    public Func<ReceivedRequest, (HttpStatusCode Status, string Body)> Answer { get; set; } = r => r.Path == "/v2/rest/query" ? (HttpStatusCode.OK, V2(EmptyPrimary)) : (HttpStatusCode.OK, """{"Tables":[]}""");

    public List<ReceivedRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    public const string EmptyPrimary = """{"FrameType":"DataTable","TableId":1,"TableKind":"PrimaryResult","TableName":"PrimaryResult","Columns":[{"ColumnName":"KeyId","ColumnType":"string"}],"Rows":[]}""";

    /// <summary>A v2 answer around the given table frames: header, the frames, completion.</summary>
    public static string V2(params string[] tables) =>
        "[" + """{"FrameType":"DataSetHeader","IsProgressive":false,"Version":"v2.0","IsFragmented":false,"ErrorReportingPlacement":"InData"}""" + ","
        + string.Join(",", tables) + ","
        + """{"FrameType":"DataSetCompletion","HasErrors":false,"Cancelled":false}""" + "]";

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var headers = request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
            .ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(",", h.Value));
        var body = request.Content is null ? "" : new StreamReader(request.Content.ReadAsStream(cancellationToken)).ReadToEnd();
        var received = new ReceivedRequest(request.Method.Method, request.RequestUri!.PathAndQuery, headers, body);
        lock (_lock)
        {
            _requests.Add(received);
        }
        var (status, text) = Answer(received);
        return new HttpResponseMessage(status) { Content = new StringContent(text, Encoding.UTF8, "application/json") };
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Task.FromResult(Send(request, cancellationToken));
}

/// <summary>
/// Elasticsearch in process (an <see cref="HttpListener"/> on a free local port): accepts everything the engine's
/// setup and runs send (index templates, indices, ingest pipelines, enrich policy PUT and _execute, bulk with a
/// pipeline, delete_by_query, refresh, _query), records it, and answers as Elasticsearch does, with its product
/// header. With <see cref="ApiKey"/>, a request without <c>Authorization: ApiKey</c> that key gets 401.
/// </summary>
internal sealed class FakeElasticsearch : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Lock _lock = new();
    private readonly List<ReceivedRequest> _requests = [];
    private readonly Thread _thread;

    public FakeElasticsearch(string? apiKey = null)
    {
        ApiKey = apiKey;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _thread = new Thread(Serve) { IsBackground = true };
        _thread.Start();
    }

    public string Url { get; }

    public string? ApiKey { get; }

    /// <summary>The answer to <c>_query</c>.</summary>
    public Func<ReceivedRequest, (int Status, string Body)> Query { get; set; } = _ => (200, """{"took":1,"is_partial":false,"columns":[{"name":"keyabuse.key.id","type":"keyword"}],"values":[]}""");

    /// <summary>The answer to <c>_bulk</c>.</summary>
    public Func<ReceivedRequest, (int Status, string Body)> Bulk { get; set; } = _ => (200, """{"took":3,"errors":false,"items":[]}""");

    public List<ReceivedRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    private void Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = _listener.GetContext();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            var request = context.Request;
            // The client compresses request bodies (as Elasticsearch accepts them).
            var input = request.Headers["Content-Encoding"] == "gzip" ? new System.IO.Compression.GZipStream(request.InputStream, System.IO.Compression.CompressionMode.Decompress) : request.InputStream;
            var body = new StreamReader(input, Encoding.UTF8).ReadToEnd();
            var headers = request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!.ToLowerInvariant(), k => request.Headers[k]!);
            var received = new ReceivedRequest(request.HttpMethod, request.RawUrl ?? "/", headers, body);
            lock (_lock)
            {
                _requests.Add(received);
            }
            var (status, text) = Answer(received);
            var response = context.Response;
            response.StatusCode = status;
            response.ContentType = "application/json";
            response.Headers["X-Elastic-Product"] = "Elasticsearch";
            var bytes = Encoding.UTF8.GetBytes(text);
            response.ContentLength64 = bytes.Length;
            response.OutputStream.Write(bytes);
            response.Close();
        }
    }

    private (int Status, string Body) Answer(ReceivedRequest r)
    {
        if (ApiKey is not null && r.Header("Authorization") != "ApiKey " + ApiKey)
        {
            return (401, """{"error":{"type":"security_exception","reason":"missing authentication credentials for REST request"},"status":401}""");
        }
        if (r.Path == "/_query")
        {
            return Query(r);
        }
        if (r.Path.EndsWith("/_bulk", StringComparison.Ordinal))
        {
            return Bulk(r);
        }
        if (r.Path.EndsWith("/_delete_by_query", StringComparison.Ordinal))
        {
            return (200, """{"took":1,"deleted":0,"failures":[]}""");
        }
        if (r.Method == "DELETE" && r.Path.StartsWith("/_data_stream/", StringComparison.Ordinal))
        {
            return (404, """{"error":{"type":"index_not_found_exception","reason":"no such index"},"status":404}""");
        }
        if (r.Path.EndsWith("/_execute", StringComparison.Ordinal))
        {
            return (200, """{"status":{"phase":"COMPLETE"}}""");
        }
        return (200, """{"acknowledged":true}""");
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }
}
