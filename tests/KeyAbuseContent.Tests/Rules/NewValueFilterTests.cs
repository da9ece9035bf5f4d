using System.Globalization;
using System.Text;
using KeyAbuseContent.Build;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Targets.Esql;
using KeyAbuseContent.Targets.Kql;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Rules;

/// <summary>
/// The new_value kind's <c>new_where</c>: a filter on the new values only. The history, the known values and the
/// entity's history count every event under <c>where</c>; only a new value's window events matching
/// <c>new_where</c> are aggregated, so only such values can alert.
/// </summary>
public class NewValueFilterTests
{
    private const string Tools = "user_agent matches \"^(curl|python-requests)/\"";

    /// <summary>A new-user-agent rule; <c>new_where</c> is on line 19, its text from column 15.</summary>
    private static string NewToolRule(string where = "status < 400", string? newWhere = Tools, string window = "\n  window: 10m") => $$"""
        id: 11111111-2222-4333-8444-888888888888
        name: test-new-tool
        version: 1.0.0
        title: A test rule for a scripting tool new to a key
        description: A description long enough to pass the schema's minimum length.
        status: experimental
        severity: medium
        author: tests
        created: 2026-12-01
        modified: 2026-12-02
        references: []
        tags: [attack.t1078.004, owasp.llm10]
        threats: [stolen-key-other-network]
        source: activity
        schedule: {every: 5m, lookback: 15m}
        detect:
          kind: new_value
          where: {{RuleText.Quote(where)}}
        {{(newWhere is null ? "" : "  new_where: " + RuleText.Quote(newWhere) + "\n")}}  by: [key_id]
          field: user_agent
          history: {length: 30d}{{window}}
          aggregate:
            requests: count()
          condition: requests >= 3
        entities: {key: key_id}
        output:
          title: "Key {key_id} used with {user_agent}"
          summary: "Key {key_id} made {requests} requests with {user_agent} from {first_seen}."
        false_positives: [A developer calling the API by hand.]
        tests: []
        """;

    private static CompiledRule Compile(string yaml)
    {
        using var library = new TestLibrary();
        library.Rule("network/test-new-tool.yaml", yaml);
        var build = library.Build();
        Assert.Empty(TestLibrary.Errors(build));
        return Assert.Single(build.Rules);
    }

    [Fact]
    public void KqlFiltersTheNewValuesWindowEventsWithNewWhere()
    {
        var rule = Compile(NewToolRule());
        Assert.Contains("| where TimeGenerated < Since + 10m\n| where HttpUserAgent matches regex @\"(?s)^(?:curl|python-requests)/\"\n| summarize Requests = count(), FirstSeen = min(TimeGenerated), LastSeen = max(TimeGenerated), Since = min(Since) by KeyId, HttpUserAgent, Entity", rule.Sentinel.Rule.Query, StringComparison.Ordinal);
    }

    [Fact]
    public void KqlJudgesTheEntityAgainstTheValuesFirstEventUnderWhere()
    {
        var rule = Compile(NewToolRule());
        Assert.Contains("| where EntitySince < Since\n", rule.Sentinel.Rule.Query, StringComparison.Ordinal);
    }

    [Fact]
    public void EsqlFiltersTheNewValuesWindowEventsWithNewWhere()
    {
        var rule = Compile(NewToolRule());
        Assert.Contains("| WHERE @timestamp < keyabuse.since + 10 minutes\n| WHERE user_agent.original RLIKE \"\"\"(curl|python-requests)/.*\"\"\"\n| STATS keyabuse.requests = COUNT(*), keyabuse.first_seen = MIN(@timestamp), keyabuse.last_seen = MAX(@timestamp), keyabuse.since = MIN(keyabuse.since) BY", rule.Elastic.Query.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void EsqlJudgesKnownValuesAndTheEntityAgainstTheValuesFirstEventUnderWhere()
    {
        var rule = Compile(NewToolRule());
        Assert.Contains("| WHERE keyabuse.history.first_seen IS NULL OR keyabuse.history.first_seen >= keyabuse.since\n", rule.Elastic.Query.Text, StringComparison.Ordinal);
        Assert.Contains("| WHERE keyabuse.entity_history.first_seen < keyabuse.since\n", rule.Elastic.Query.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutAWindowNewWhereStillFindsTheValuesFirstEventUnderWhere()
    {
        var rule = Compile(NewToolRule(window: ""));
        Assert.Contains("| lookup kind=inner (\n    Scoped\n    | summarize Since = min(TimeGenerated) by Entity, Value\n    ) on Entity, Value\n| where HttpUserAgent matches regex", rule.Sentinel.Rule.Query, StringComparison.Ordinal);
        Assert.Contains("| INLINE STATS keyabuse.since = MIN(@timestamp) BY keyabuse.key.id, user_agent.original\n| WHERE user_agent.original RLIKE", rule.Elastic.Query.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSentinelHistoryCountsEveryEventUnderWhere()
    {
        var rule = Compile(NewToolRule());
        var pieces = rule.Sentinel.Plan.SummaryRules.Select(s => KqlRenderer.Render(s.Query))
            .Append(rule.Sentinel.Rule.Query[..rule.Sentinel.Rule.Query.IndexOf("\nScoped\n", StringComparison.Ordinal)]);
        Assert.All(pieces, text => Assert.DoesNotContain("curl", text, StringComparison.Ordinal));
    }

    [Fact]
    public void TheElasticTransformsAndTheirHarnessEquivalentsCountEveryEventUnderWhere()
    {
        var rule = Compile(NewToolRule());
        var keyed = EsqlRenderer.Render(EsqlRuleCompiler.HistoryQueries(rule.Analyzed).KeyedValues!).Text;
        Assert.DoesNotContain("RLIKE", keyed, StringComparison.Ordinal);
        Assert.All(rule.Elastic.Setup, request => Assert.DoesNotContain("curl", request.Body?.ToJsonString() ?? "", StringComparison.Ordinal));
    }

    [Fact]
    public void ANewWhereOnAFieldTheSourceLacksIsAnErrorAtItsPosition()
    {
        using var library = new TestLibrary();
        library.Rule("network/test-new-tool.yaml", NewToolRule(newWhere: "user_agnt == \"curl/8.5.0\""));
        var error = Assert.Single(TestLibrary.Errors(library.Build()));
        Assert.Contains("test-new-tool.yaml:19:15: error KA1205: detect.new_where: 'user_agnt' is not one of the activity event fields", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ANewWhereThatDoesNotParseIsAnErrorAtItsPosition()
    {
        using var library = new TestLibrary();
        library.Rule("network/test-new-tool.yaml", NewToolRule(newWhere: "status < 400 && user_agent == \"curl\""));
        var error = Assert.Single(TestLibrary.Errors(library.Build()));
        Assert.Contains("test-new-tool.yaml:19:28: error KA1301: detect.new_where: unexpected character '&'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void OnlyTheNewKindTakesNewWhere()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold().Replace("  by: [key_id]\n", "  new_where: status == 401\n  by: [key_id]\n", StringComparison.Ordinal));
        Assert.Contains(TestLibrary.Errors(library.Build()), e => e.Contains("new_where", StringComparison.Ordinal));
    }

    /// <summary>
    /// Two keys that only ever used their SDK on 2026-11-29: on 2026-11-30 key <c>stolen</c> is called with curl from
    /// 15:10, and key <c>upgraded</c> with the SDK's next version from 09:00.
    /// </summary>
    private static string StolenAndUpgraded()
    {
        var events = new StringBuilder();
        void Event(DateTime time, string key, string agent) =>
            events.Append(CultureInfo.InvariantCulture, $$"""{"time":"{{time:yyyy-MM-ddTHH:mm:ss.fffZ}}","key_id":"{{key}}","client_ip":"192.0.2.10","status":200,"user_agent":"{{agent}}"}""").Append('\n');
        var start = new DateTime(2026, 11, 29, 9, 7, 13, 250, DateTimeKind.Utc);
        for (var hour = 0; hour < 8; hour++)
        {
            Event(start.AddHours(hour), "stolen", "OpenAI/Python 1.54.0");
            Event(start.AddHours(hour).AddMinutes(1), "upgraded", "OpenAI/Python 1.54.0");
        }
        for (var i = 0; i < 4; i++)
        {
            Event(new DateTime(2026, 11, 30, 9, 2, 0, DateTimeKind.Utc).AddMinutes(i), "upgraded", "OpenAI/Python 1.55.2");
            Event(new DateTime(2026, 11, 30, 15, 10, 0, 426, DateTimeKind.Utc).AddMinutes(i), "stolen", "curl/8.5.0");
        }
        return events.ToString();
    }

    private static IEnumerable<string> Run(string yaml)
    {
        using var library = new TestLibrary();
        library.Rule("network/test-new-tool.yaml", yaml);
        var build = library.Build();
        var folder = Path.Combine(library.TestDataDir, "agents", "stolen-and-upgraded");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "events.jsonl"), StolenAndUpgraded());
        var run = new PackRunner(new RunOptions(), library.RulesDir).Run(build.Rules, DatasetLoader.Load(folder), sentinel: true, elastic: true, parity: true);
        Assert.Empty(run.Parity);
        return run.Alerts.Select(a => $"{a.KeyId} {a.Target.ToString().ToLowerInvariant()}").Distinct().Order(StringComparer.Ordinal);
    }

    [Fact]
    public void AKeyThatNeverUsedAScriptingToolAlertsOnItsFirstUseOnBothTargetsAndAnSdkUpgradeDoesNot()
    {
        Assert.Equal(["stolen elastic", "stolen sentinel"], Run(NewToolRule()));
    }

    [Fact]
    public void TheToolFilterInWhereLeavesSuchAKeyWithoutHistorySoItIsNeverJudged()
    {
        Assert.Empty(Run(NewToolRule(where: "status < 400 and " + Tools, newWhere: null)));
    }
}
