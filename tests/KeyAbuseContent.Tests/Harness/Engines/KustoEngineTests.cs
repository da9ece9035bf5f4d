using System.Net;
using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Engines;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Harness.Engines;

/// <summary>The Kusto engine against an in-process fake: the exact requests it sends and how it reads v2 answers.</summary>
public class KustoEngineTests
{
    private static readonly DateTime Now = new(2026, 10, 14, 3, 20, 0, DateTimeKind.Utc);

    private static JsonObject Body(ReceivedRequest r) => JsonNode.Parse(r.Body)!.AsObject();

    private static string Csl(ReceivedRequest r) => (string)Body(r)["csl"]!;

    [Fact]
    public void A_query_goes_to_the_v2_endpoint_with_the_run_time_as_query_now_and_the_period_as_the_datetime_scope()
    {
        using var fake = new FakeKusto();
        using var engine = new KustoEngine(new Uri("https://cluster.example.net"), "KeyAbuse", "token-1", fake);

        engine.Execute("LlmActivity_CL | count", new Dictionary<string, DataTable>(), [], new QueryScope(Now, Now.AddHours(-1), Now));

        var request = Assert.Single(fake.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v2/rest/query", request.PathAndQuery);
        Assert.Equal("Bearer token-1", request.Header("Authorization"));
        Assert.StartsWith("application/json", request.Header("Content-Type"), StringComparison.Ordinal);
        var expected = """{"db":"KeyAbuse","csl":"LlmActivity_CL | count","properties":{"Options":{"query_now":"2026-10-14T03:20:00.0000000Z","query_datetimescope_column":"TimeGenerated","query_datetimescope_from":"2026-10-14T02:20:00.0000000Z","query_datetimescope_to":"2026-10-14T03:20:00.0000000Z"}}}""";
        Assert.Equal(expected, request.Body);
    }

    [Fact]
    public void A_query_the_platform_does_not_bound_carries_the_clock_and_no_scope()
    {
        var body = KustoEngine.QueryBody("db", "print now()", new QueryScope(Now));

        Assert.Equal("""{"db":"db","csl":"print now()","properties":{"Options":{"query_now":"2026-10-14T03:20:00.0000000Z"}}}""", body.ToJsonString());
    }

    [Fact]
    public void Loading_creates_and_clears_each_table_ingests_its_rows_inline_and_stores_the_functions_with_the_watchlist_stub()
    {
        using var fake = new FakeKusto();
        using var engine = new KustoEngine(new Uri("https://cluster.example.net"), "KeyAbuse", null, fake);
        var activity = new DataTable("LlmActivity_CL",
            [new("TimeGenerated", "datetime"), new("KeyId", "string"), new("Tokens", "long"), new("Cost", "real"), new("Extra", "dynamic")],
            [[Now, "svc-a \"prod\"", 12L, 0.5, JsonNode.Parse("""{"a":1}""")], [Now.AddMinutes(1), "", null, null, null]]);
        var watchlist = new DataTable("Watchlist_KeyAbuseInventory", [new("SearchKey", "string"), new("key_id", "string")], [["svc-a", "svc-a"]]);
        var stub = new KqlFunction("_GetWatchlist", [("watchlistAlias", "string")], "Watchlist_KeyAbuseInventory | where watchlistAlias == 'KeyAbuseInventory'");

        engine.Load(new Dictionary<string, DataTable> { [activity.Name] = activity, [watchlist.Name] = watchlist }, [stub]);

        Assert.All(fake.Requests, r => Assert.Equal("/v1/rest/mgmt", r.PathAndQuery));
        Assert.All(fake.Requests, r => Assert.Null(r.Header("Authorization")));
        Assert.Equal(
        [
            ".create-merge table LlmActivity_CL (TimeGenerated:datetime, KeyId:string, Tokens:long, Cost:real, Extra:dynamic)",
            ".clear table LlmActivity_CL data",
            ".ingest inline into table LlmActivity_CL <|\n2026-10-14T03:20:00.0000000Z,\"svc-a \"\"prod\"\"\",12,0.5,\"{\"\"a\"\":1}\"\n2026-10-14T03:21:00.0000000Z,\"\",,,\n",
            ".create-merge table Watchlist_KeyAbuseInventory (SearchKey:string, key_id:string)",
            ".clear table Watchlist_KeyAbuseInventory data",
            ".ingest inline into table Watchlist_KeyAbuseInventory <|\n\"svc-a\",\"svc-a\"\n",
            ".create-or-alter function with (skipvalidation = \"true\") _GetWatchlist(watchlistAlias:string) { Watchlist_KeyAbuseInventory | where watchlistAlias == 'KeyAbuseInventory' }",
        ], fake.Requests.Select(Csl));
        Assert.All(fake.Requests, r => Assert.Equal("KeyAbuse", (string?)Body(r)["db"]));
    }

    [Fact]
    public void Rows_appended_between_runs_are_ingested_inline_in_chunks()
    {
        using var fake = new FakeKusto();
        using var engine = new KustoEngine(new Uri("https://cluster.example.net"), "KeyAbuse", null, fake);
        var rows = Enumerable.Range(0, 30000).Select(i => new object?[] { Now.AddMinutes(i), "key-" + i }).ToList();

        engine.Append("KeyAbuseHourly_CL", [new("TimeGenerated", "datetime"), new("KeyId", "string")], rows);

        Assert.True(fake.Requests.Count > 1);
        Assert.All(fake.Requests, r => Assert.StartsWith(".ingest inline into table KeyAbuseHourly_CL <|\n", Csl(r), StringComparison.Ordinal));
        Assert.Equal(30000, fake.Requests.Sum(r => Csl(r).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1));
    }

    [Fact]
    public void The_primary_result_of_a_v2_answer_becomes_a_table_with_kql_types()
    {
        // The documented v2 shape: header, QueryProperties, PrimaryResult, QueryCompletionInformation, completion.
        var answer = FakeKusto.V2(
            """{"FrameType":"DataTable","TableId":0,"TableKind":"QueryProperties","TableName":"@ExtendedProperties","Columns":[{"ColumnName":"TableId","ColumnType":"int"},{"ColumnName":"Key","ColumnType":"string"},{"ColumnName":"Value","ColumnType":"dynamic"}],"Rows":[[1,"Visualization","{\"Visualization\":null}"]]}""",
            """
            {"FrameType":"DataTable","TableId":1,"TableKind":"PrimaryResult","TableName":"PrimaryResult","Columns":[
              {"ColumnName":"KeyId","ColumnType":"string"},{"ColumnName":"Requests","ColumnType":"long"},{"ColumnName":"Slot","ColumnType":"int"},
              {"ColumnName":"Ratio","ColumnType":"real"},{"ColumnName":"FirstSeen","ColumnType":"datetime"},{"ColumnName":"Span","ColumnType":"timespan"},
              {"ColumnName":"Countries","ColumnType":"dynamic"},{"ColumnName":"Private","ColumnType":"bool"},{"ColumnName":"Id","ColumnType":"guid"}],
             "Rows":[
              ["svc-a-prod",412,3,5.25,"2026-10-14T03:17:00Z","00:13:00",["US","DE"],false,"6f1c2b9e-1d2e-4f3a-9b8c-7d6e5f4a3b2c"],
              [null,null,null,"NaN",null,"1.02:03:04.5000000",null,true,null]]}
            """,
            """{"FrameType":"DataTable","TableId":2,"TableKind":"QueryCompletionInformation","TableName":"QueryCompletionInformation","Columns":[{"ColumnName":"Timestamp","ColumnType":"datetime"},{"ColumnName":"Level","ColumnType":"int"}],"Rows":[["2026-10-14T03:20:01Z",4]]}""");

        var table = KustoV2Response.Parse(answer, new Uri("https://cluster.example.net"));

        Assert.Equal(["KeyId:string", "Requests:long", "Slot:int", "Ratio:real", "FirstSeen:datetime", "Span:timespan", "Countries:dynamic", "Private:bool", "Id:guid"],
            table.Columns.Select(c => $"{c.Name}:{c.Type}"));
        var first = table.Rows[0];
        Assert.Equal("svc-a-prod", first[0]);
        Assert.Equal(412L, first[1]);
        Assert.Equal(3, first[2]);
        Assert.Equal(5.25, first[3]);
        Assert.Equal(new DateTime(2026, 10, 14, 3, 17, 0, DateTimeKind.Utc), first[4]);
        Assert.Equal(DateTimeKind.Utc, ((DateTime)first[4]!).Kind);
        Assert.Equal(TimeSpan.FromMinutes(13), first[5]);
        Assert.Equal("""["US","DE"]""", ((JsonNode)first[6]!).ToJsonString());
        Assert.Equal(false, first[7]);
        Assert.Equal(Guid.Parse("6f1c2b9e-1d2e-4f3a-9b8c-7d6e5f4a3b2c"), first[8]);
        var second = table.Rows[1];
        Assert.Equal("", second[0]);
        Assert.Null(second[1]);
        Assert.True(double.IsNaN((double)second[3]!));
        Assert.Null(second[4]);
        Assert.Equal(new TimeSpan(1, 2, 3, 4, 500), second[5]);
        Assert.Null(second[6]);
    }

    [Fact]
    public void A_failure_reported_in_the_completion_frame_is_a_remote_engine_error_with_kustos_message()
    {
        var answer = """[{"FrameType":"DataSetHeader","IsProgressive":false,"Version":"v2.0"},{"FrameType":"DataSetCompletion","HasErrors":true,"Cancelled":false,"OneApiErrors":[{"error":{"code":"LimitsExceeded","message":"Request is invalid and cannot be executed.","@message":"Query execution has exceeded the allowed limits (80DA0003)"}}]}]""";

        var e = Assert.Throws<RemoteEngineException>(() => KustoV2Response.Parse(answer, new Uri("https://cluster.example.net")));

        Assert.Contains("Query execution has exceeded the allowed limits (80DA0003)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failure_after_the_first_rows_is_a_remote_engine_error()
    {
        var answer = FakeKusto.V2("""{"FrameType":"DataTable","TableId":1,"TableKind":"PrimaryResult","TableName":"PrimaryResult","Columns":[{"ColumnName":"n","ColumnType":"long"}],"Rows":[[1],{"OneApiErrors":[{"error":{"code":"LimitsExceeded","@message":"Partial query failure: Low memory condition"}}]}]}""");

        var e = Assert.Throws<RemoteEngineException>(() => KustoV2Response.Parse(answer, new Uri("https://cluster.example.net")));

        Assert.Contains("Partial query failure: Low memory condition", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_query_is_a_remote_engine_error_naming_the_status_and_kustos_message()
    {
        using var fake = new FakeKusto
        {
            Answer = _ => (HttpStatusCode.BadRequest, """{"error":{"code":"General_BadRequest","message":"Request is invalid and cannot be executed.","@type":"Kusto.Data.Exceptions.KustoBadRequestException","@message":"Semantic error: SEM0100: 'table' operator: Failed to resolve table expression named 'aaa'"}}"""),
        };
        using var engine = new KustoEngine(new Uri("https://cluster.example.net"), "KeyAbuse", "secret-token", fake);

        var e = Assert.Throws<RemoteEngineException>(() => engine.Execute("aaa", new Dictionary<string, DataTable>(), [], new QueryScope(Now)));

        Assert.Contains("400", e.Message, StringComparison.Ordinal);
        Assert.Contains("Failed to resolve table expression named 'aaa'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-token", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreachable_cluster_is_a_remote_engine_error()
    {
        using var engine = new KustoEngine(new Uri("http://127.0.0.1:1"), "KeyAbuse", null);

        var e = Assert.Throws<RemoteEngineException>(() => engine.Execute("print 1", new Dictionary<string, DataTable>(), [], new QueryScope(Now)));

        Assert.StartsWith("cannot reach Kusto at http://127.0.0.1:1/", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not a url", "is not an http(s) address")]
    [InlineData("ftp://cluster.example.net/db", "is not an http(s) address")]
    [InlineData("https://cluster.example.net", "names no database")]
    [InlineData("https://cluster.example.net/a/b", "names no database")]
    public void A_bad_address_is_refused_with_a_readable_message(string url, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => KustoEngine.FromUrl(url));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_address_gives_the_cluster_and_the_database()
    {
        using var engine = KustoEngine.FromUrl("https://mycluster.westeurope.kusto.windows.net/KeyAbuse");

        Assert.Equal(new Uri("https://mycluster.westeurope.kusto.windows.net"), engine.Cluster);
        Assert.Equal("KeyAbuse", engine.Database);
    }

    [Fact]
    public void The_sentinel_runner_loads_the_workspace_once_then_sends_each_scheduled_run_with_its_clock_and_query_period()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold());
        var build = library.Build();
        var folder = Path.Combine(library.TestDataDir, "auth", "burst");
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, "events.jsonl"), Enumerable.Range(0, 30).Select(i =>
            $$"""{"time":"2026-10-14T03:{{i / 3:00}}:{{i % 3 * 20:00}}Z","key_id":"svc-a-prod","status":401,"client_ip":"203.0.113.7"}"""));
        var dataset = DatasetLoader.Load(folder);
        var rule = Assert.Single(build.Rules);
        var embedded = new SentinelRunner(new RunOptions(), library.RulesDir).Run(build.Rules, dataset);
        using var fake = new FakeKusto();
        using var engine = new KustoEngine(new Uri("https://cluster.example.net"), "KeyAbuse", null, fake);

        var remote = new SentinelRunner(new RunOptions { KqlEngine = engine }, library.RulesDir).Run(build.Rules, dataset);

        var requests = fake.Requests;
        var firstQuery = requests.FindIndex(r => r.Path == "/v2/rest/query");
        Assert.True(firstQuery > 0);
        Assert.DoesNotContain(requests.Skip(firstQuery), r => r.Path == "/v1/rest/mgmt");
        var commands = requests.Take(firstQuery).Select(Csl).ToList();
        Assert.Contains(commands, c => c.StartsWith(".ingest inline into table LlmActivity_CL <|\n2026-10-14T03:00:00.0000000Z,", StringComparison.Ordinal) && c.Contains("\"svc-a-prod\"", StringComparison.Ordinal));
        Assert.Contains(commands, c => c.StartsWith(".create-merge table Watchlist_KeyAbuseInventory (SearchKey:string", StringComparison.Ordinal));
        Assert.Contains(commands, c => c.StartsWith(".create-or-alter function with (skipvalidation = \"true\") _GetWatchlist(watchlistAlias:string) { Watchlist_KeyAbuseInventory", StringComparison.Ordinal));
        Assert.Contains(commands, c => c.StartsWith(".create-or-alter function with (skipvalidation = \"true\") KeyAbuseActivity() {", StringComparison.Ordinal));
        var period = rule.Sentinel.Rule.QueryPeriod;
        var sent = requests.Skip(firstQuery).Select(Body).Where(b => (string?)b["csl"] == rule.Sentinel.Rule.Query).Select(b => b["properties"]!["Options"]!).ToList();
        Assert.Equal(embedded.Runs.Select(r => KustoEngine.Iso(r.ExecutedAt)), sent.Select(o => (string)o["query_now"]!));
        Assert.All(sent, o => Assert.Equal("TimeGenerated", (string?)o["query_datetimescope_column"]));
        Assert.All(sent, o => Assert.Equal(KustoEngine.Iso(DateTime.Parse((string)o["query_now"]!, null, System.Globalization.DateTimeStyles.AdjustToUniversal) - period), (string?)o["query_datetimescope_from"]));
        Assert.All(sent, o => Assert.Equal((string?)o["query_now"], (string?)o["query_datetimescope_to"]));
        Assert.Equal(embedded.Runs.Count, remote.Runs.Count);
        Assert.Empty(remote.Alerts);
    }
}
