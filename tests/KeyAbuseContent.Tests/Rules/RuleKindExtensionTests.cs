using System.Globalization;
using System.Text;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Targets.Esql;
using KeyAbuseContent.Targets.Kql;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Rules;

/// <summary>
/// The threshold kind's inventory join and the baseline's trimmed_mean statistic: what they accept, what
/// they compile to, and how they behave on both targets.
/// </summary>
public class RuleKindExtensionTests
{
    private static string ExpiredKeyRule(string by = "[key_id]", string inventory = "[expires, owner]") =>
        RuleText.Threshold(name: "test-expired", where: "status < 400", aggregate: "requests: count()", condition: "last_seen > expires", title: "Key {key_id} used after {expires}")
            .Replace("  by: [key_id]\n", $"  by: {by}\n  inventory: {inventory}\n", StringComparison.Ordinal)
            .Replace("failed {failures} times.", "made {requests} requests.", StringComparison.Ordinal);

    private static string TrimmedMeanRule(string statistic = "trimmed_mean", int minSamples = 3) => $$"""
        id: 11111111-2222-4333-8444-777777777777
        name: test-tokens-hour
        version: 1.0.0
        title: A test rule for tokens per hour
        description: A description long enough to pass the schema's minimum length.
        status: experimental
        severity: high
        author: tests
        created: 2026-12-01
        modified: 2026-12-02
        references: []
        tags: [attack.t1496.004, owasp.llm10]
        threats: [traffic-spike]
        source: activity
        schedule: {every: 1h, lookback: 1h}
        detect:
          kind: baseline
          by: [key_id]
          metric: {sum: tokens, per: 1h}
          history: {length: 30d, statistic: {{statistic}}, seasonality: hour_of_week, min_samples: {{minSamples}}}
          floor: 1000
          condition: value > 5 * baseline
        entities: {key: key_id}
        output:
          title: "Key {key_id}: {value} tokens"
          summary: "Key {key_id} used {value} tokens against {baseline}."
        false_positives: [A test.]
        tests: []
        """;

    [Fact]
    public void AThresholdJoinsTheInventoryByKeyOnBothTargets()
    {
        using var library = new TestLibrary();
        library.Rule("keys/test-expired.yaml", ExpiredKeyRule());
        var rule = Assert.Single(library.Build().Rules);
        Assert.Contains("| lookup kind=leftouter (\n    KeyAbuseInventory()\n    | project KeyId, Expires, Owner\n    ) on KeyId\n| where LastSeen > Expires", rule.Sentinel.Rule.Query, StringComparison.Ordinal);
        Assert.Contains("| LOOKUP JOIN keyabuse-inventory ON keyabuse.key.id\n| WHERE keyabuse.last_seen > keyabuse.key.expires", rule.Elastic.Query.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void AnInventoryJoinNeedsTheKeyAmongTheGroupingFields()
    {
        using var library = new TestLibrary();
        library.Rule("keys/test-expired.yaml", ExpiredKeyRule(by: "[client_ip]").Replace("entities: {key: key_id}", "entities: {ip: client_ip}", StringComparison.Ordinal).Replace("Key {key_id}", "Address {client_ip}", StringComparison.Ordinal));
        Assert.Contains(TestLibrary.Errors(library.Build()), e => e.Contains("detect.inventory joins the key inventory by key", StringComparison.Ordinal));
    }

    [Fact]
    public void AnInventoryJoinRefusesListFields()
    {
        using var library = new TestLibrary();
        library.Rule("keys/test-expired.yaml", ExpiredKeyRule(inventory: "[expires, models]"));
        Assert.Contains(TestLibrary.Errors(library.Build()), e => e.Contains("detect.inventory: 'models' is not a scalar inventory field", StringComparison.Ordinal));
    }

    [Fact]
    public void UseAfterTheInventoryExpiryAlertsOnBothTargetsAndUseBeforeItDoesNot()
    {
        using var library = new TestLibrary();
        library.Rule("keys/test-expired.yaml", ExpiredKeyRule());
        var build = library.Build();
        var folder = Path.Combine(library.TestDataDir, "keys", "expiry");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "inventory.yaml"), "keys:\n  - id: old-key\n    owner: a@example.com\n    expires: 2026-11-29\n  - id: new-key\n    owner: a@example.com\n    expires: 2027-11-29\n");
        var events = new StringBuilder();
        void Event(string time, string key) => events.Append(CultureInfo.InvariantCulture, $$"""{"time":"{{time}}","key_id":"{{key}}","status":200,"input_tokens":10,"output_tokens":5}""").Append('\n');
        Event("2026-11-28T10:01:07.120Z", "old-key");
        Event("2026-11-30T10:01:07.120Z", "new-key");
        Event("2026-11-30T10:11:03.450Z", "old-key");
        File.WriteAllText(Path.Combine(folder, "events.jsonl"), events.ToString());
        var run = new PackRunner(new RunOptions(), library.RulesDir).Run(build.Rules, DatasetLoader.Load(folder), sentinel: true, elastic: true, parity: true);
        Assert.Empty(run.Parity);
        Assert.Equal(["old-key at 2026-11-30T10:15:00.000Z elastic", "old-key at 2026-11-30T10:15:00.000Z sentinel"], run.Alerts.Select(a => $"{a.KeyId} at {Alert.Iso(a.Time)} {a.Target.ToString().ToLowerInvariant()}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TrimmedMeanNeedsTwoSamples()
    {
        using var library = new TestLibrary();
        library.Rule("volume/test-tokens-hour.yaml", TrimmedMeanRule(minSamples: 1));
        Assert.Contains(TestLibrary.Errors(library.Build()), e => e.Contains("min_samples must be 2 or more for trimmed_mean", StringComparison.Ordinal));
    }

    [Fact]
    public void TrimmedMeanIsTheMeanWithoutTheHighestSampleOnBothTargets()
    {
        using var library = new TestLibrary();
        library.Rule("volume/test-tokens-hour.yaml", TrimmedMeanRule());
        var rule = Assert.Single(library.Build().Rules);
        var refresh = KqlRenderer.Render(Assert.Single(rule.Sentinel.Plan.Refreshes).Query);
        Assert.Contains("Baseline = (sum(Metric) - max(Metric)) / todouble(count() - 1)", refresh, StringComparison.Ordinal);
        var slots = EsqlRuleCompiler.HistoryQueries(rule.Analyzed).SlotBaselines;
        Assert.Contains("(SUM(keyabuse.metric) - MAX(keyabuse.metric)) / TO_DOUBLE(COUNT(*) - 1)", EsqlRenderer.Render(Assert.Single(slots)).Text, StringComparison.Ordinal);
    }

    [Fact]
    public void ACountWhenCountsMatchingEventsAndZeroForTheRestOnBothTargets()
    {
        using var library = new TestLibrary();
        library.Rule("volume/test-tokens-hour.yaml", TrimmedMeanRule().Replace("metric: {sum: tokens, per: 1h}", "metric: {count: long_prompts, when: input_tokens >= 32000, per: 1h}", StringComparison.Ordinal));
        var rule = Assert.Single(library.Build().Rules);
        Assert.Contains("summarize Value = countif(InputTokens >= 32000) by KeyId, Bucket = bin(TimeGenerated, 1h)", rule.Sentinel.Rule.Query, StringComparison.Ordinal);
        Assert.Contains("STATS keyabuse.value = SUM(CASE(gen_ai.usage.input_tokens >= 32000, 1, 0)) BY keyabuse.key.id, keyabuse.bucket", rule.Elastic.Query.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void ACountWhenDoesNotGoWithASum()
    {
        using var library = new TestLibrary();
        library.Rule("volume/test-tokens-hour.yaml", TrimmedMeanRule().Replace("metric: {sum: tokens, per: 1h}", "metric: {sum: tokens, when: input_tokens >= 32000, per: 1h}", StringComparison.Ordinal));
        Assert.Contains(TestLibrary.Errors(library.Build()), e => e.Contains("detect.metric.when goes with count", StringComparison.Ordinal));
    }

    [Fact]
    public void NeighboursTakeTheHighestBaselineOfTheHoursAroundTheSlotOnBothTargets()
    {
        using var library = new TestLibrary();
        library.Rule("volume/test-tokens-hour.yaml", TrimmedMeanRule().Replace("min_samples: 3}", "min_samples: 3, neighbours: 1}", StringComparison.Ordinal));
        var rule = Assert.Single(library.Build().Rules);
        Assert.Contains("| extend PrimaryBaseline = max_of(PrimaryBaseline, iff(coalesce(PrimarySamplesM1 >= 3, false), PrimaryBaselineM1, PrimaryBaseline), iff(coalesce(PrimarySamplesP1 >= 3, false), PrimaryBaselineP1, PrimaryBaseline))", rule.Sentinel.Rule.Query, StringComparison.Ordinal);
        Assert.Contains("| EVAL keyabuse.primary_baseline = GREATEST(keyabuse.primary_baseline, CASE(COALESCE(keyabuse.primary_samples_m1 >= 3, false), keyabuse.primary_baseline_m1, keyabuse.primary_baseline), CASE(COALESCE(keyabuse.primary_samples_p1 >= 3, false), keyabuse.primary_baseline_p1, keyabuse.primary_baseline))", rule.Elastic.Query.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void NeighboursNeedAnHourlySeasonality()
    {
        using var library = new TestLibrary();
        library.Rule("volume/test-tokens-hour.yaml", TrimmedMeanRule().Replace("seasonality: hour_of_week, min_samples: 3}", "seasonality: none, min_samples: 3, neighbours: 1}", StringComparison.Ordinal));
        Assert.Contains(TestLibrary.Errors(library.Build()), e => e.Contains("detect.history.neighbours needs an hourly seasonality", StringComparison.Ordinal));
    }

    /// <summary>Five Mondays at 10:00 of 2,000 tokens, one of 500,000 (an earlier burst), then a Monday of 60,000.</summary>
    private static string BurstAfterPoisonedHistory()
    {
        var events = new StringBuilder();
        var tokens = new[] { 2_000, 2_000, 500_000, 2_000, 2_000, 60_000 };
        for (var week = 0; week < tokens.Length; week++)
        {
            var day = new DateTime(2026, 10, 26, 10, 7, 13, 250, DateTimeKind.Utc).AddDays(7 * week);
            events.Append(CultureInfo.InvariantCulture, $$"""{"time":"{{day:yyyy-MM-ddTHH:mm:ss.fffZ}}","key_id":"k","status":200,"input_tokens":{{tokens[week]}},"output_tokens":0}""").Append('\n');
        }
        return events.ToString();
    }

    [Theory]
    [InlineData("trimmed_mean", 1)]
    [InlineData("max", 0)]
    public void OneEarlierBurstDoesNotRaiseATrimmedMeanBaseline(string statistic, int alertsPerTarget)
    {
        using var library = new TestLibrary();
        library.Rule("volume/test-tokens-hour.yaml", TrimmedMeanRule(statistic));
        var build = library.Build();
        var folder = Path.Combine(library.TestDataDir, "volume", "poisoned");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "events.jsonl"), BurstAfterPoisonedHistory());
        var run = new PackRunner(new RunOptions(), library.RulesDir).Run(build.Rules, DatasetLoader.Load(folder), sentinel: true, elastic: true, parity: true);
        Assert.Empty(run.Parity);
        var lastMonday = new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc);
        Assert.Equal(2 * alertsPerTarget, run.Alerts.Count(a => a.Time >= lastMonday));
    }
}
