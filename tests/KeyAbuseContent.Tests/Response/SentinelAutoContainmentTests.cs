using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using KeyAbuseContent.Responder.Local;
using KeyAbuseContent.Response;
using KeyAbuseContent.Targets.Sentinel;
using KeyAbuseContent.Tests.Engine.Kql;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Response;

/// <summary>
/// The published <c>KeyAbuseContent-ContainAuto</c> playbook (the golden ARM template) run on an incident: its
/// watchlist query on the embedded KQL executor, its secret from a local Key Vault, its LiteLLM requests to the
/// local LiteLLM proxy, its comment recorded.
/// </summary>
public sealed class SentinelAutoContainmentTests
{
    private const string Token = "hashed-token-1";

    private static readonly Lazy<JsonObject> Workflow = new(() =>
    {
        var arm = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.Golden, "library", "sentinel", "azuredeploy.json")))!;
        return arm["resources"]!.AsArray().OfType<JsonObject>()
            .Single(r => (string?)r["type"] == "Microsoft.Logic/workflows" && (string?)r["name"] == SentinelArmTemplate.ContainAutoPlaybook);
    });

    private static JsonObject RuleNames => Workflow.Value["properties"]!["parameters"]!["ruleNames"]!["value"]!.AsObject();

    /// <summary>Two rules of the library: the one a team marks automatic, and another.</summary>
    private static string Marked => (string)RuleNames.First().Value!;

    private static string Other => (string)RuleNames.Last().Value!;

    private static string RuleId(string name) => RuleNames.Single(r => (string?)r.Value == name).Key;

    private sealed record Run(LocalLogicApp App, LocalProviders Local) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Local.DisposeAsync();

        public List<ReceivedRequest> Provider => [.. Local.Received.Where(r => r.Service is "litellm" or "openai" or "anthropic")];

        public List<string> Comments => [.. App.ConnectorCalls.Where(c => c.Path == "/Incidents/Comment").Select(c => (string)c.Body!["message"]!)];

        public int LiteLlmAttempts => App.HttpAttempts.Count(a => a.Contains("/litellm/", StringComparison.Ordinal));
    }

    /// <summary>Runs the playbook on an incident of <paramref name="rule"/> about key k1, whose watchlist row is given.</summary>
    private static async Task<Run> RunAsync(string rule, string provider, string auto, string action = "clamp", string rpm = "10", string tpm = "2000",
        string budget = "5", Action<LocalProviders>? faults = null, bool inWatchlist = true)
    {
        var local = await LocalProviders.StartAsync();
        local.LiteLlmKeys[Token] = new() { ["token"] = Token, ["blocked"] = false };
        faults?.Invoke(local);
        var workspace = new SentinelWorkspace();
        if (inWatchlist)
        {
            workspace.Add(SentinelWorkspace.WatchlistTable, ("SearchKey", "k1"), ("key_id", "k1"), ("provider", provider), ("team", "research"),
                ("provider_key_id", Token), ("response_auto", auto), ("response_action", action), ("clamp_rpm", rpm), ("clamp_tpm", tpm), ("clamp_budget_usd", budget));
        }
        var http = new HttpClient(new LocalAzure(workspace, new SocketsHttpHandler()));
        var definition = Workflow.Value["properties"]!["definition"]!.AsObject();
        var parameters = new Dictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["$connections"] = new JsonObject { ["azuresentinel"] = new JsonObject { ["connectionId"] = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/connections/KeyAbuseContent-azuresentinel" } },
            ["keyVaultName"] = "kv",
            ["defaultRoute"] = "secops",
            ["liteLlmBaseUrl"] = local.LiteLlmUrl.ToString(),
            ["openAiBaseUrl"] = local.OpenAiUrl.ToString(),
            ["anthropicBaseUrl"] = local.AnthropicUrl.ToString(),
            ["workspaceId"] = "ws",
            ["ruleNames"] = RuleNames.DeepClone(),
        };
        var app = new LocalLogicApp(definition, parameters, http);
        await app.RunAsync(Incident(RuleId(rule), "k1"));
        return new Run(app, local);
    }

    private static JsonObject Incident(string ruleId, string keyId) => new()
    {
        ["object"] = new JsonObject
        {
            ["id"] = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w/providers/Microsoft.SecurityInsights/Incidents/1",
            ["properties"] = new JsonObject
            {
                ["title"] = "an alert",
                ["relatedAnalyticRuleIds"] = new JsonArray($"/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w/providers/Microsoft.SecurityInsights/alertRules/{ruleId}"),
                ["Alerts"] = new JsonArray(new JsonObject
                {
                    ["properties"] = new JsonObject { ["additionalData"] = new JsonObject { ["Custom Details"] = $$"""{"KeyId":["{{keyId}}"],"Severity":["high"]}""" } },
                }),
            },
        },
    };

    [Fact]
    public async Task A_litellm_key_whose_team_marked_the_rule_gets_exactly_the_responders_clamp()
    {
        await using var run = await RunAsync(Marked, "litellm", $"{Other}; {Marked}");
        var request = Assert.Single(run.Provider);
        Assert.Equal(("POST", "/litellm/key/update", 200), (request.Method, request.Path, request.Status));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(ResponseRequests.LiteLlmClamp(Token, 10, 2000, 5.0).Body!), JsonNode.Parse(request.Body)), request.Body);
        Assert.Equal("Bearer " + LocalProviders.LiteLlmMasterKey, request.Headers["authorization"]);
    }

    [Fact]
    public async Task A_clamp_sends_only_the_limits_the_inventory_gives()
    {
        await using var run = await RunAsync(Marked, "litellm", Marked, rpm: "10", tpm: "", budget: "");
        var request = Assert.Single(run.Provider);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(ResponseRequests.LiteLlmClamp(Token, 10, null, null).Body!), JsonNode.Parse(request.Body)), request.Body);
    }

    [Fact]
    public async Task A_team_that_blocks_gets_the_responders_block()
    {
        await using var run = await RunAsync(Marked, "litellm", Marked, action: "");
        var request = Assert.Single(run.Provider);
        Assert.Equal("/litellm/key/block", request.Path);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(ResponseRequests.LiteLlmBlock(Token).Body!), JsonNode.Parse(request.Body)), request.Body);
        Assert.True((bool?)run.Local.LiteLlmKeys[Token]["blocked"]);
    }

    [Fact]
    public async Task The_outcome_is_commented_on_the_incident()
    {
        await using var run = await RunAsync(Marked, "litellm", Marked);
        Assert.Contains("Succeeded", Assert.Single(run.Comments), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_whose_team_marked_other_rules_only_is_not_contained()
    {
        await using var run = await RunAsync(Marked, "litellm", Other);
        Assert.Empty(run.Provider);
        Assert.Empty(run.Comments);
    }

    [Fact]
    public async Task A_rule_name_that_merely_contains_a_marked_one_is_not_contained()
    {
        // response_auto lists names: a marked "x-extended" must not contain on rule "x".
        await using var run = await RunAsync(Marked, "litellm", Marked + "-extended");
        Assert.Empty(run.Provider);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task An_openai_or_anthropic_key_is_never_contained_automatically(string provider)
    {
        await using var run = await RunAsync(Marked, provider, Marked);
        Assert.Empty(run.Provider);
        Assert.DoesNotContain(run.App.HttpAttempts, a => a.Contains("/openai/", StringComparison.Ordinal) || a.Contains("/anthropic/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_key_the_watchlist_does_not_hold_is_not_contained_and_the_run_does_not_fail()
    {
        await using var run = await RunAsync(Marked, "litellm", Marked, inWatchlist: false);
        Assert.Empty(run.Provider);
        Assert.Equal("Succeeded", run.App.Statuses["Automatic"]);
    }

    [Fact]
    public async Task A_5xx_from_litellm_is_retried_and_the_clamp_then_lands()
    {
        await using var run = await RunAsync(Marked, "litellm", Marked, faults: l => l.Fail("litellm", 503, count: 2));
        Assert.Equal(3, run.LiteLlmAttempts);
        Assert.Equal(2000L, (long?)run.Local.LiteLlmKeys[Token]["tpm_limit"]);
        Assert.Contains("Succeeded", Assert.Single(run.Comments), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_5xx_that_outlasts_the_retries_is_reported_on_the_incident()
    {
        await using var run = await RunAsync(Marked, "litellm", Marked, faults: l => l.Fail("litellm", 500, count: 10));
        Assert.Equal(5, run.LiteLlmAttempts);
        Assert.Contains("Failed", Assert.Single(run.Comments), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_4xx_is_not_retried_and_is_reported_on_the_incident()
    {
        await using var run = await RunAsync(Marked, "litellm", Marked, faults: l => l.LiteLlmKeys.Clear());
        Assert.Equal(1, run.LiteLlmAttempts);
        Assert.Equal(404, Assert.Single(run.Provider).Status);
        Assert.Contains("Failed", Assert.Single(run.Comments), StringComparison.Ordinal);
    }

    /// <summary>
    /// Azure as the playbook reaches it: Key Vault (<c>kv.vault.azure.net</c>) holds the LiteLLM master key, the Log
    /// Analytics query API runs the query on the embedded KQL executor over the workspace; anything else goes out.
    /// </summary>
    private sealed class LocalAzure(SentinelWorkspace workspace, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var uri = request.RequestUri!;
            if (uri.Host == "kv.vault.azure.net")
            {
                return uri.AbsolutePath == "/secrets/litellm-master-key"
                    ? Json(HttpStatusCode.OK, new JsonObject { ["value"] = LocalProviders.LiteLlmMasterKey })
                    : Json(HttpStatusCode.NotFound, new JsonObject { ["error"] = new JsonObject { ["code"] = "SecretNotFound" } });
            }
            if (uri.Host == "api.loganalytics.io")
            {
                var query = (string)JsonNode.Parse(await request.Content!.ReadAsStringAsync(cancellationToken))!["query"]!;
                var table = workspace.Run(query, new DateTime(2026, 12, 7, 12, 0, 0, DateTimeKind.Utc));
                var rows = new JsonArray([.. Enumerable.Range(0, table.Rows.Count).Select(r =>
                    (JsonNode)new JsonArray([.. Enumerable.Range(0, table.Columns.Count).Select(c => JsonValue.Create(table.Value(r, c)?.ToString()))]))]);
                return Json(HttpStatusCode.OK, new JsonObject
                {
                    ["tables"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "PrimaryResult",
                        ["columns"] = new JsonArray([.. table.Columns.Select(c => (JsonNode)new JsonObject { ["name"] = c.Name, ["type"] = c.Type })]),
                        ["rows"] = rows,
                    }),
                });
            }
            return await base.SendAsync(request, cancellationToken);
        }

        private static HttpResponseMessage Json(HttpStatusCode status, JsonObject body) =>
            new(status) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
    }
}
