using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Targets.Sentinel;
using static KeyAbuseContent.Tests.Engine.Kql.KqlTestKit;

namespace KeyAbuseContent.Tests.Engine.Kql;

// The exact KQL the pack publishes, run over small workspaces.
public sealed class GeneratedQueryTests
{
    private const string BaselineRule = "llm-key-rpm-above-baseline";
    private const string NewCountryRule = "llm-key-new-country-high-tokens";

    public static TheoryData<string> QueryIds => [.. SentinelWorkspace.GeneratedQueries().Select(q => q.Id)];

    private static string Query(string id) => SentinelWorkspace.GeneratedQueries().Single(q => q.Id == id).Query;

    private static string Rule(string name) => Query($"library/rules/{name}");

    [Fact]
    public void The_golden_files_hold_the_queries_of_every_kind()
    {
        var ids = SentinelWorkspace.GeneratedQueries().Select(q => q.Id).ToList();

        // One query a rule file of the library and of the kind fixtures, whatever rules are added later; one a parser function in each build.
        static int RuleFiles(string folder) => Directory.GetFiles(folder, "*.yaml", SearchOption.AllDirectories)
            .Count(f => Path.GetFileName(f) != "threat-model.yaml" && !f.Contains($"{Path.DirectorySeparatorChar}reference{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        var fixtures = Path.Combine(TestPaths.RepositoryRoot, "tests", "KeyAbuseContent.Tests", "Fixtures", "kinds");
        Assert.Equal((RuleFiles(TestPaths.Detections), RuleFiles(fixtures), 2 * SentinelParsers.Functions.Length), (ids.Count(i => i.StartsWith("library/rules/", StringComparison.Ordinal)), ids.Count(i => i.StartsWith("kinds/rules/", StringComparison.Ordinal)),
            ids.Count(i => i.Contains("/parsers/", StringComparison.Ordinal))));
        Assert.Contains(ids, i => i.StartsWith("library/history/", StringComparison.Ordinal));
        Assert.Contains(ids, i => i.StartsWith("kinds/history/", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(QueryIds))]
    public void A_generated_query_parses_and_runs(string id)
    {
        var result = Busy().Run(Query(id), Now);

        if (id.Contains("/rules/", StringComparison.Ordinal))
        {
            Assert.Equal("KeyAbuseSeverity", result.Columns[^1].Name);
            Assert.Contains(result.Columns, c => c.Name == "AlertTitle");
        }
        else
        {
            Assert.NotEmpty(result.Columns);
        }
    }

    [Fact]
    public void Auth_failure_burst_fires_once_with_25_failures_for_25_refusals_in_five_minutes()
    {
        var workspace = new SentinelWorkspace();
        for (var i = 0; i < 25; i++)
        {
            workspace.Activity(Now.AddSeconds(-10 - (i * 10)), "k1", status: 401);
        }
        workspace.Activity(Now.AddMinutes(-1), "k1").Activity(Now.AddMinutes(-2), "k2", status: 403);

        var result = workspace.Run(Rule("llm-key-auth-failure-burst"), Now);

        var row = Assert.Single(result.Rows);
        Assert.Equal(("k1", 25L), (row[0], row[1]));
        Assert.Equal("Key k1: 25 refused requests in 5 minutes", Column(result, "AlertTitle")[0]);
    }

    [Fact]
    public void Auth_failure_burst_stays_quiet_for_19_refusals()
    {
        var workspace = new SentinelWorkspace();
        for (var i = 0; i < 19; i++)
        {
            workspace.Activity(Now.AddSeconds(-10 - (i * 10)), "k1", status: 401);
        }

        Assert.Empty(workspace.Run(Rule("llm-key-auth-failure-burst"), Now).Rows);
    }

    [Fact]
    public void Auth_failure_burst_does_not_count_refusals_older_than_its_window()
    {
        var workspace = new SentinelWorkspace();
        for (var i = 0; i < 25; i++)
        {
            workspace.Activity(Now.AddMinutes(-6).AddSeconds(-i), "k1", status: 401);
        }

        Assert.Empty(workspace.Run(Rule("llm-key-auth-failure-burst"), Now).Rows);
    }

    [Fact]
    public void New_country_fires_for_a_key_whose_history_lacks_the_country()
    {
        var workspace = KnownCountries("US");
        workspace.Activity(Now.AddMinutes(-8), "k1", country: "DE", input: 15_000, output: 1_000)
            .Activity(Now.AddMinutes(-6), "k1", country: "DE", input: 9_000, output: 500);

        var result = workspace.Run(Rule(NewCountryRule), Now);

        var row = Assert.Single(result.Rows);
        Assert.Equal(("k1", "DE", 25_500L), (row[0], row[1], row[2]));
    }

    [Fact]
    public void The_activity_parser_fills_country_and_asn_from_the_geo_watchlist_where_the_event_has_none()
    {
        var workspace = new SentinelWorkspace().Geo("198.51.100.0/24", "BR", 64511).Geo("203.0.113.0/24", "US", 64500);
        workspace.Activity(Now.AddMinutes(-3), "k1", country: "", ip: "198.51.100.7")
            .Add("LlmActivity_CL", ("TimeGenerated", Now.AddMinutes(-2)), ("KeyId", "k2"), ("SrcIpAddr", "198.51.100.8"))
            .Activity(Now.AddMinutes(-1), "k3", country: "DE", asn: 3320, ip: "198.51.100.9")
            .Activity(Now.AddMinutes(-1), "k4", country: "", ip: "192.0.2.1");

        var rows = workspace.Run("KeyAbuseActivity() | sort by KeyId asc | project KeyId, SrcGeoCountry, SrcAsn", Now).Rows;

        Assert.Equal([["k1", "BR", 64500L], ["k2", "BR", 64511L], ["k3", "DE", 3320L], ["k4", "", 64500L]], rows);
    }

    [Fact]
    public void A_litellm_request_gets_the_country_and_asn_of_its_address()
    {
        var workspace = new SentinelWorkspace().Geo("198.51.100.0/24", "BR", 64511);
        workspace.Add("LiteLLM_CL", ("TimeGenerated", Now.AddMinutes(-6)), ("id", "r1"), ("call_type", "acompletion"), ("model", "gpt-4o"),
            ("requester_ip_address", "198.51.100.7"), ("metadata", System.Text.Json.Nodes.JsonNode.Parse("""{"user_api_key_hash": "k1"}""")));

        var enriched = workspace.Run("KeyAbuseActivity() | project KeyId, SrcGeoCountry, SrcAsn", Now).Rows;

        Assert.Equal([["k1", "BR", 64511L]], enriched);
    }

    [Fact]
    public void New_country_stays_quiet_when_the_history_has_the_country()
    {
        var workspace = KnownCountries("US", "DE");
        workspace.Activity(Now.AddMinutes(-8), "k1", country: "DE", input: 25_000);

        Assert.Empty(workspace.Run(Rule(NewCountryRule), Now).Rows);
    }

    [Fact]
    public void New_country_stays_quiet_below_its_token_floor()
    {
        var workspace = KnownCountries("US");
        workspace.Activity(Now.AddMinutes(-8), "k1", country: "DE", input: 5_000);

        Assert.Empty(workspace.Run(Rule(NewCountryRule), Now).Rows);
    }

    [Fact]
    public void New_country_does_not_judge_a_key_without_history()
    {
        var workspace = new SentinelWorkspace();
        workspace.Activity(Now.AddMinutes(-8), "k9", country: "DE", input: 25_000);

        Assert.Empty(workspace.Run(Rule(NewCountryRule), Now).Rows);
    }

    [Fact]
    public void Rpm_above_baseline_fires_on_five_minutes_far_above_the_keys_slot_baseline()
    {
        var bucket = new DateTime(Now.Ticks - (Now.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc).AddMinutes(-3);
        var hourOfWeek = (long)((bucket - new DateTime(1970, 1, 5, 0, 0, 0, DateTimeKind.Utc)) / TimeSpan.FromHours(1)) % 168;
        var workspace = new SentinelWorkspace()
            .Add("KeyAbuseBaseline_CL", ("TimeGenerated", Now.AddHours(-2)), ("Rule", BaselineRule), ("Entity", "k1"), ("Slot", $"hour_of_week:{hourOfWeek}"),
                ("Value", ""), ("Baseline", 10.0), ("Samples", 4L));
        for (var i = 0; i < 140; i++)
        {
            workspace.Activity(bucket.AddSeconds(i % 60), "k1");
        }

        var result = workspace.Run(Rule(BaselineRule), Now);

        var row = Assert.Single(result.Rows);
        Assert.Equal(("k1", 140.0, 10.0, 14.0), (row[0], row[1], row[2], row[3]));
    }

    private static readonly string[] TunedKeys = ["k1", "k2", "k3"];

    [Fact]
    public void Rpm_above_baseline_honours_the_tuning_of_the_keys_service()
    {
        var bucket = new DateTime(Now.Ticks - (Now.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc).AddMinutes(-3);
        var hourOfWeek = (long)((bucket - new DateTime(1970, 1, 5, 0, 0, 0, DateTimeKind.Utc)) / TimeSpan.FromHours(1)) % 168;
        var workspace = new SentinelWorkspace();
        foreach (var key in TunedKeys)
        {
            workspace.Add("KeyAbuseBaseline_CL", ("TimeGenerated", Now.AddHours(-2)), ("Rule", BaselineRule), ("Entity", key), ("Slot", $"hour_of_week:{hourOfWeek}"),
                ("Value", ""), ("Baseline", 20.0), ("Samples", 4L));
            for (var i = 0; i < 140; i++)
            {
                workspace.Activity(bucket.AddSeconds(i % 60), key);
            }
        }
        // k1's floor is 100 x 2 = 200 (140 is under it), k2 must pass 10x its baseline (7x is not), k3 has no tuning.
        workspace.Add(SentinelWorkspace.WatchlistTable, ("SearchKey", "k1"), ("key_id", "k1"), ("floor_scale", "2"));
        workspace.Add(SentinelWorkspace.WatchlistTable, ("SearchKey", "k2"), ("key_id", "k2"), ("min_ratio", "10"));

        Assert.Equal(["k3"], Column(workspace.Run(Rule(BaselineRule), Now), "KeyId"));
    }

    [Fact]
    public void Model_outside_profile_fires_for_a_model_the_inventory_does_not_declare()
    {
        var workspace = new SentinelWorkspace().Key("k1", models: "gpt-4o-mini;text-embedding-3-small");
        workspace.Activity(Now.AddMinutes(-2), "k1", model: "gpt-4o").Activity(Now.AddMinutes(-2), "k1", model: "gpt-4o-mini");

        var result = workspace.Run(Rule("llm-key-model-outside-profile"), Now);

        Assert.Equal(["gpt-4o"], Column(result, "Model"));
    }

    [Fact]
    public void Missing_owner_or_expiry_fires_only_for_the_incomplete_keys()
    {
        var workspace = new SentinelWorkspace().Key("k1").Key("k2", owner: "").Key("k3", expires: "");

        Assert.Equal(["k2", "k3"], Column(workspace.Run(Rule("llm-key-missing-owner-or-expiry"), Now), "KeyId"));
    }

    [Fact]
    public void The_hourly_summary_rule_writes_the_busiest_bucket_of_each_hour()
    {
        var workspace = new SentinelWorkspace();
        for (var i = 0; i < 7; i++)
        {
            workspace.Activity(Now.AddMinutes(-30).AddSeconds(i), "k1");
        }
        workspace.Activity(Now.AddMinutes(-20), "k1");

        var result = workspace.Run(Query($"library/history/{BaselineRule}-hourly"), Now);

        Assert.Equal(["TimeGenerated", "Rule", "Entity", "Value", "Metric"], Names(result));
        Assert.Equal([7.0], Column(result, "Metric"));
    }

    private static SentinelWorkspace KnownCountries(params string[] countries)
    {
        var workspace = new SentinelWorkspace();
        foreach (var country in countries)
        {
            workspace.Add("KeyAbuseBaseline_CL", ("TimeGenerated", Now.AddHours(-3)), ("Rule", NewCountryRule), ("Entity", "k1"), ("Slot", ""),
                ("Value", country), ("Baseline", 12.0), ("Samples", 3L));
        }
        return workspace;
    }

    /// <summary>Some rows in every table, so each query's operators see data.</summary>
    private static SentinelWorkspace Busy()
    {
        var workspace = new SentinelWorkspace()
            .Key("k1", models: "gpt-4o-mini", operations: "chat", countries: "US", rotated: "2026-01-01")
            .Key("k2", owner: "", expires: "")
            .Add("KeyAbuseHourly_CL", ("TimeGenerated", Now.AddHours(-5)), ("Rule", BaselineRule), ("Entity", "k1"), ("Value", ""), ("Metric", 12.0))
            .Add("KeyAbuseHourly_CL", ("TimeGenerated", Now.AddHours(-4)), ("Rule", NewCountryRule), ("Entity", "k1"), ("Value", "US"), ("Metric", 3.0))
            .Add("KeyAbuseBaseline_CL", ("TimeGenerated", Now.AddHours(-2)), ("Rule", NewCountryRule), ("Entity", "k1"), ("Slot", ""), ("Value", "US"),
                ("Baseline", 3.0), ("Samples", 3L))
            .Add("LlmAudit_CL", ("TimeGenerated", Now.AddMinutes(-3)), ("Provider", "openai"), ("EventType", "api_key.created"), ("KeyId", "k1"))
            .Add("LlmLogs_CL", ("TimeGenerated", Now.AddMinutes(-3)), ("Computer", "ci-1"), ("Source", "build.log"), ("Message", "token sk-proj-abcdefghijklmnopqrstuvT3BlbkFJ"))
            .Add("AWSCloudTrail", ("TimeGenerated", Now.AddMinutes(-20)), ("EventSource", "bedrock.amazonaws.com"), ("EventName", "GetModelInvocationLoggingConfiguration"),
                ("UserIdentityArn", "arn:aws:iam::1:user/x"), ("RequestParameters", System.Text.Json.Nodes.JsonNode.Parse("""{"modelId": "anthropic.claude"}""")))
            .Add("AWSCloudTrail", ("TimeGenerated", Now.AddMinutes(-10)), ("EventSource", "bedrock.amazonaws.com"), ("EventName", "ListFoundationModels"), ("UserIdentityArn", "arn:aws:iam::1:user/x"))
            .Add("AWSCloudTrail", ("TimeGenerated", Now.AddMinutes(-5)), ("EventSource", "bedrock.amazonaws.com"), ("EventName", "InvokeModel"), ("UserIdentityArn", "arn:aws:iam::1:user/x"))
            .Add("AzureActivity", ("TimeGenerated", Now.AddMinutes(-5)), ("OperationNameValue", "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION"), ("ActivityStatusValue", "Success"));
        for (var i = 0; i < 30; i++)
        {
            workspace.Activity(Now.AddSeconds(-5 - (i * 7)), "k1", status: i % 3 == 0 ? 401 : 200, country: i % 2 == 0 ? "US" : "DE", input: 2_000,
                model: i % 4 == 0 ? "gpt-4o" : "gpt-4o-mini", operation: i % 5 == 0 ? "models.list" : "chat", ip: $"198.51.100.{i}", agent: "python-requests/2.31");
        }
        return workspace;
    }
}
