using System.Collections.Immutable;
using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Engines;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Harness.Tables;
using KeyAbuseContent.Targets.Elastic;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Harness.Engines;

/// <summary>The Elasticsearch engine against an in-process fake cluster: setup order, bulk ingest, <c>_query</c> bodies, answers.</summary>
public class ElasticsearchEngineTests
{
    private static readonly DateTime Now = new(2026, 10, 14, 3, 20, 0, DateTimeKind.Utc);

    private const string Events = """
        {"time":"2026-10-14T03:00:00Z","key_id":"svc-a-prod","status":401,"client_ip":"203.0.113.7"}
        {"time":"2026-10-14T03:01:00Z","key_id":"svc-a-prod","status":401,"client_ip":"198.51.100.9"}
        """;

    private static (TestLibrary Library, KeyAbuseContent.Build.PackBuild Build, Dataset Dataset) Library(string? raw = null)
    {
        var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold());
        var build = library.Build();
        var folder = Path.Combine(library.TestDataDir, "auth", "burst");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "events.jsonl"), Events);
        File.WriteAllText(Path.Combine(folder, "geo.csv"), "network,country,asn\n203.0.113.0/24,US,64500\n");
        File.WriteAllText(Path.Combine(folder, "inventory.yaml"), "keys:\n  - id: svc-a-prod\n    service: search-api\n");
        if (raw is not null)
        {
            Directory.CreateDirectory(Path.Combine(folder, "raw"));
            File.WriteAllText(Path.Combine(folder, "raw", "litellm.jsonl"), raw);
        }
        return (library, build, DatasetLoader.Load(folder));
    }

    private static IReadOnlyList<ElasticSetupRequest> Setup(KeyAbuseContent.Build.PackBuild build) =>
        [.. ElasticHistory.Common().Concat(build.Rules.SelectMany(r => r.Elastic.Setup))];

    private static Dictionary<string, DataTable> Indices(Dataset dataset)
    {
        var activity = TargetTables.ElasticActivity(dataset);
        var logs = TargetTables.ElasticLogs(dataset);
        var indices = new Dictionary<string, DataTable>(StringComparer.Ordinal) { [activity.Name] = activity, [logs.Name] = logs };
        foreach (var (name, table) in RawTables.Elastic(dataset).Indices)
        {
            indices[name] = table;
        }
        return indices;
    }

    [Fact]
    public void Loading_installs_the_templates_and_the_setup_before_any_document_and_fills_the_ranges_before_the_enrich_policy_runs()
    {
        var (library, build, dataset) = Library();
        using var _ = library;
        using var fake = new FakeElasticsearch();
        var engine = new ElasticsearchEngine(new Uri(fake.Url), null, Setup(build));

        engine.Load(dataset, Indices(dataset));

        var requests = fake.Requests;
        int First(Func<ReceivedRequest, bool> match) => requests.FindIndex(r => match(r));
        var template = First(r => r.Method == "PUT" && r.Path == "/_index_template/keyabuse-harness-" + TargetTables.ElasticActivityIndex);
        var activityPipeline = First(r => r.Method == "PUT" && r.Path == "/_ingest/pipeline/" + ElasticGeo.Pipeline);
        var policy = First(r => r.Method == "PUT" && r.Path == "/_enrich/policy/" + ElasticGeo.Policy);
        var ranges = First(r => r.Path == "/" + ElasticGeo.Index + "/_bulk");
        var execute = First(r => r.Method == "POST" && r.Path == $"/_enrich/policy/{ElasticGeo.Policy}/_execute");
        var activity = First(r => r.Path == $"/{TargetTables.ElasticActivityIndex}/_bulk");
        Assert.True(template >= 0 && activityPipeline >= 0 && policy >= 0 && ranges >= 0 && execute >= 0 && activity >= 0, string.Join("\n", requests.Select(r => r.Method + " " + r.PathAndQuery)));
        Assert.True(template < activity && activityPipeline < activity && policy < ranges && ranges < execute && execute < activity);
        Assert.Equal("/_enrich/policy/keyabuse-geo/_execute?wait_for_completion=true", requests[execute].PathAndQuery);
        Assert.DoesNotContain(requests, r => r.Path.StartsWith("/_transform/", StringComparison.Ordinal));
        Assert.Equal("""{"network":"203.0.113.0/24","country":"US","asn":64500}""", requests[ranges].Body.Split('\n')[1]);
        var mapping = JsonNode.Parse(requests[template].Body)!;
        Assert.Equal(TargetTables.ElasticActivityIndex, (string?)mapping["index_patterns"]![0]);
        Assert.NotNull(mapping["data_stream"]);
        Assert.Equal("ip", (string?)mapping["template"]!["mappings"]!["properties"]!["source.ip"]!["type"]);
        Assert.Equal("date", (string?)mapping["template"]!["mappings"]!["properties"]!["@timestamp"]!["type"]);
        Assert.Equal("POST", requests[^1].Method);
        Assert.Equal("/_refresh", requests[^1].Path);
        // A lookup index of an earlier load is deleted, then created with the setup's mapping.
        var deleteInventory = First(r => r.Method == "DELETE" && r.Path == "/keyabuse-inventory");
        var createInventory = First(r => r.Method == "PUT" && r.Path == "/keyabuse-inventory");
        Assert.True(deleteInventory >= 0 && deleteInventory < createInventory);
        Assert.Equal("lookup", (string?)JsonNode.Parse(requests[createInventory].Body)!["settings"]!["index.mode"]);
    }

    [Fact]
    public void Activity_events_are_bulk_created_through_the_activity_pipeline_unenriched_so_the_pipeline_enriches_them()
    {
        var (library, build, dataset) = Library();
        using var _ = library;
        using var fake = new FakeElasticsearch();
        var engine = new ElasticsearchEngine(new Uri(fake.Url), null, Setup(build));

        engine.Load(dataset, Indices(dataset));

        var bulk = Assert.Single(fake.Requests, r => r.Path == $"/{TargetTables.ElasticActivityIndex}/_bulk");
        Assert.Equal($"/{TargetTables.ElasticActivityIndex}/_bulk?pipeline={ElasticGeo.Pipeline}", bulk.PathAndQuery);
        Assert.StartsWith("application/x-ndjson", bulk.Header("Content-Type"), StringComparison.Ordinal);
        var lines = bulk.Body.TrimEnd('\n').Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal("""{"create":{}}""", lines[0]);
        var doc = JsonNode.Parse(lines[1])!;
        Assert.Equal("2026-10-14T03:00:00.000Z", (string?)doc["@timestamp"]);
        Assert.Equal("svc-a-prod", (string?)doc["keyabuse.key.id"]);
        Assert.Equal("203.0.113.7", (string?)doc["source.ip"]);
        Assert.Null(doc["source.geo.country_iso_code"]);
    }

    [Fact]
    public void Vendor_records_are_shipped_as_their_shipper_sends_them_through_their_sources_pipeline()
    {
        var (library, build, dataset) = Library(raw: File.ReadLines(Path.Combine(TestPaths.RepositoryRoot, "test-data", "vendor", "litellm", "raw", "litellm.jsonl")).First() + "\n");
        using var _ = library;
        using var fake = new FakeElasticsearch();
        var engine = new ElasticsearchEngine(new Uri(fake.Url), null, Setup(build));
        var source = Assert.Single(dataset.Raw).Source;

        engine.Load(dataset, Indices(dataset));

        var bulk = Assert.Single(fake.Requests, r => r.Path == $"/{source.ElasticDataStream}/_bulk");
        Assert.Equal($"/{source.ElasticDataStream}/_bulk?pipeline={source.ElasticPipeline}", bulk.PathAndQuery);
        var lines = bulk.Body.TrimEnd('\n').Split('\n');
        Assert.Equal("""{"create":{}}""", lines[0]);
        Assert.Equal(dataset.Raw[0].Text, (string?)JsonNode.Parse(lines[1])!["message"]);
        Assert.True(fake.Requests.FindIndex(r => r.Method == "PUT" && r.Path == "/_ingest/pipeline/" + source.ElasticPipeline) < fake.Requests.IndexOf(bulk));
    }

    [Fact]
    public void A_query_goes_to_query_with_the_window_as_a_filter_range_on_timestamp()
    {
        var body = ElasticsearchEngine.QueryBody("FROM logs-keyabuse.activity-* | LIMIT 10", new QueryScope(Now, Now.AddMinutes(-5), Now));

        Assert.Equal("""{"query":"FROM logs-keyabuse.activity-* | LIMIT 10","filter":{"range":{"@timestamp":{"gte":"2026-10-14T03:15:00.000Z","lte":"2026-10-14T03:20:00.000Z","format":"strict_date_optional_time"}}}}""", body.ToJsonString());
    }

    [Fact]
    public void The_columns_and_values_of_a_query_answer_become_a_table_with_esql_types()
    {
        var answer = """
            {"took":12,"is_partial":false,"columns":[
              {"name":"keyabuse.key.id","type":"keyword"},{"name":"requests","type":"long"},{"name":"slot","type":"integer"},
              {"name":"ratio","type":"double"},{"name":"keyabuse.first_seen","type":"date"},{"name":"source.ip","type":"ip"},
              {"name":"countries","type":"keyword"},{"name":"private","type":"boolean"}],
             "values":[
              ["svc-a-prod",412,3,5.25,"2026-10-14T03:17:00.000Z","203.0.113.7",["DE","US"],false],
              [null,null,null,null,null,null,"US",null]]}
            """;

        var table = EsqlResponse.Parse(answer, new Uri("http://localhost:9200"));

        Assert.Equal(["keyabuse.key.id:keyword", "requests:long", "slot:integer", "ratio:double", "keyabuse.first_seen:date", "source.ip:ip", "countries:keyword", "private:boolean"],
            table.Columns.Select(c => $"{c.Name}:{c.Type}"));
        var first = table.Rows[0];
        Assert.Equal("svc-a-prod", first[0]);
        Assert.Equal(412L, first[1]);
        Assert.Equal(3, first[2]);
        Assert.Equal(5.25, first[3]);
        Assert.Equal(new DateTime(2026, 10, 14, 3, 17, 0, DateTimeKind.Utc), first[4]);
        Assert.Equal(DateTimeKind.Utc, ((DateTime)first[4]!).Kind);
        Assert.Equal("203.0.113.7", first[5]);
        Assert.Equal(["DE", "US"], ((ImmutableArray<object?>)first[6]!).Cast<string>());
        Assert.Equal(false, first[7]);
        Assert.All(table.Rows[1].Where((_, i) => i != 6), Assert.Null);
        Assert.Equal("US", table.Rows[1][6]);
    }

    [Fact]
    public void With_an_api_key_every_request_carries_it_and_the_lookup_indices_the_harness_keeps_are_written_before_the_query()
    {
        var (library, build, dataset) = Library();
        using var _ = library;
        using var fake = new FakeElasticsearch(apiKey: "a2V5LWlkOnNlY3JldA==");
        fake.Query = _ => (200, """{"columns":[{"name":"keyabuse.key.id","type":"keyword"}],"values":[["svc-a-prod"]]}""");
        var engine = new ElasticsearchEngine(new Uri(fake.Url), "a2V5LWlkOnNlY3JldA==", Setup(build));
        var indices = Indices(dataset);
        engine.Load(dataset, indices);
        var inventory = TargetTables.ElasticInventory(dataset, Now.Date);
        indices[inventory.Name] = inventory;

        var result = engine.Execute("FROM keyabuse-inventory | KEEP keyabuse.key.id", indices, new QueryScope(Now, Now.AddMinutes(-5), Now));
        var again = engine.Execute("FROM keyabuse-inventory | KEEP keyabuse.key.id", indices, new QueryScope(Now, Now.AddMinutes(-5), Now));

        Assert.Equal("svc-a-prod", Assert.Single(result.Rows)[0]);
        Assert.Single(again.Rows);
        Assert.All(fake.Requests, r => Assert.Equal("ApiKey a2V5LWlkOnNlY3JldA==", r.Header("Authorization")));
        var requests = fake.Requests;
        var written = requests.FindIndex(r => r.Path == "/keyabuse-inventory/_bulk");
        Assert.True(written >= 0);
        Assert.True(requests.FindIndex(r => r.Path == "/keyabuse-inventory/_delete_by_query") < written);
        Assert.True(written < requests.FindIndex(r => r.Path == "/_query"));
        Assert.Equal("svc-a-prod", (string?)JsonNode.Parse(requests[written].Body.Split('\n')[1])!["keyabuse.key.id"]);
        // The same inventory instance is not written again.
        Assert.Single(requests, r => r.Path == "/keyabuse-inventory/_bulk");
    }

    [Fact]
    public void Without_the_api_key_an_authenticated_cluster_refuses_and_the_error_says_so()
    {
        var (library, build, dataset) = Library();
        using var _ = library;
        using var fake = new FakeElasticsearch(apiKey: "a2V5LWlkOnNlY3JldA==");
        var engine = new ElasticsearchEngine(new Uri(fake.Url), null, Setup(build));

        var e = Assert.Throws<RemoteEngineException>(() => engine.Load(dataset, Indices(dataset)));

        Assert.Contains("401", e.Message, StringComparison.Ordinal);
        Assert.Contains("security_exception: missing authentication credentials", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_query_is_a_remote_engine_error_with_the_reason()
    {
        using var fake = new FakeElasticsearch
        {
            Query = _ => (400, """{"error":{"root_cause":[],"type":"verification_exception","reason":"Found 1 problem\nline 1:6: Unknown index [nope]"},"status":400}"""),
        };
        var engine = new ElasticsearchEngine(new Uri(fake.Url), null, []);

        var e = Assert.Throws<RemoteEngineException>(() => engine.Execute("FROM nope", new Dictionary<string, DataTable>(), new QueryScope(Now)));

        Assert.Contains("verification_exception: Found 1 problem\nline 1:6: Unknown index [nope]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rejected_document_fails_the_load_with_its_reason()
    {
        var (library, build, dataset) = Library();
        using var _ = library;
        using var fake = new FakeElasticsearch
        {
            Bulk = _ => (200, """{"took":3,"errors":true,"items":[{"create":{"_index":".ds-x","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [source.ip] of type [ip]"}}}]}"""),
        };
        var engine = new ElasticsearchEngine(new Uri(fake.Url), null, Setup(build));

        var e = Assert.Throws<RemoteEngineException>(() => engine.Load(dataset, Indices(dataset)));

        Assert.Contains("mapper_parsing_exception: failed to parse field [source.ip] of type [ip]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreachable_cluster_is_a_remote_engine_error()
    {
        var engine = new ElasticsearchEngine(new Uri("http://127.0.0.1:1"), null, []);

        var e = Assert.Throws<RemoteEngineException>(() => engine.Execute("FROM x", new Dictionary<string, DataTable>(), new QueryScope(Now)));

        Assert.StartsWith("cannot reach Elasticsearch at http://127.0.0.1:1/", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_elastic_runner_sends_each_scheduled_run_with_its_window_and_reads_the_answers()
    {
        var (library, build, dataset) = Library();
        using var _ = library;
        using var fake = new FakeElasticsearch();
        var rule = Assert.Single(build.Rules);
        var embedded = new ElasticRunner(new RunOptions()).Run(build.Rules, dataset);
        var engine = new ElasticsearchEngine(new Uri(fake.Url), null, Setup(build));

        var remote = new ElasticRunner(new RunOptions { EsqlEngine = engine }).Run(build.Rules, dataset);

        var queries = fake.Requests.Where(r => r.Path == "/_query").Select(r => JsonNode.Parse(r.Body)!).ToList();
        Assert.Equal(embedded.Runs.Count, queries.Count);
        Assert.All(queries, q => Assert.Equal(rule.Elastic.Query.Text, (string?)q["query"]));
        var lookback = ElasticRunner.Span(rule.Elastic.Rule.Document["from"]!.GetValue<string>()["now-".Length..]);
        Assert.Equal(embedded.Runs.Select(r => (ElasticsearchEngine.Iso(r.ScheduledAt - lookback), ElasticsearchEngine.Iso(r.ScheduledAt))),
            queries.Select(q => ((string)q["filter"]!["range"]!["@timestamp"]!["gte"]!, (string)q["filter"]!["range"]!["@timestamp"]!["lte"]!)));
        Assert.Equal(embedded.Runs.Count, remote.Runs.Count);
        Assert.Empty(remote.Alerts);
    }
}
