using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>
/// One Sentinel pass gives both the alerts (runs 5 minutes after their scheduled times) and parity's results (the
/// scheduled times with no delay), sharing the executions that fall at the same clock time: both must be what two
/// separate passes give.
/// </summary>
public class SentinelParityRunsTests
{
    private static string Runs(IEnumerable<RunResult> runs) =>
        string.Join("\n", runs.Select(r => $"{r.Rule} {r.ScheduledAt:O} {r.ExecutedAt:O} {r.Rows.Rows.Count} {string.Join(";", r.Rows.Rows.Select(row => string.Join("|", row)))}"));

    private static string Alerts(IEnumerable<Alert> alerts) =>
        string.Join("\n", alerts.Select(a => $"{a.Rule} {a.Time:O} {a.KeyId} {a.Title}"));

    [Fact]
    public void One_pass_with_parity_gives_the_alerts_of_the_delayed_pass_and_the_results_of_a_pass_without_delay()
    {
        using var library = new TestLibrary();
        library.Rule("network/test-new-country.yaml", NewValueHistoryParityTests.NewCountryRule);
        var build = library.Build();
        var folder = Path.Combine(library.TestDataDir, "network", "before-midnight");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "events.jsonl"), NewValueHistoryParityTests.NewCountryBeforeMidnight());
        var dataset = DatasetLoader.Load(folder);

        var both = new SentinelRunner(new RunOptions(), library.RulesDir).Run(build.Rules, dataset, parity: true);
        var delayed = new SentinelRunner(new RunOptions(), library.RulesDir).Run(build.Rules, dataset);
        var undelayed = new SentinelRunner(new RunOptions { SentinelRunDelay = TimeSpan.Zero }, library.RulesDir).Run(build.Rules, dataset);

        Assert.NotEmpty(delayed.Alerts);
        Assert.Equal(Alerts(delayed.Alerts), Alerts(both.Alerts));
        Assert.Equal(Runs(undelayed.Runs), Runs(both.Runs));
    }

    [Fact]
    public void Results_handed_over_as_they_are_made_are_the_runs_a_pass_returns()
    {
        using var library = new TestLibrary();
        library.Rule("network/test-new-country.yaml", NewValueHistoryParityTests.NewCountryRule);
        var build = library.Build();
        var folder = Path.Combine(library.TestDataDir, "network", "before-midnight");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "events.jsonl"), NewValueHistoryParityTests.NewCountryBeforeMidnight());
        var dataset = DatasetLoader.Load(folder);

        var kept = new SentinelRunner(new RunOptions(), library.RulesDir).Run(build.Rules, dataset, parity: true);
        var handed = new List<RunResult>();
        var streamed = new SentinelRunner(new RunOptions(), library.RulesDir).Run(build.Rules, dataset, parity: true, handed.Add);
        var elasticKept = new ElasticRunner(new RunOptions()).Run(build.Rules, dataset);
        var elasticHanded = new List<RunResult>();
        var elasticStreamed = new ElasticRunner(new RunOptions()).Run(build.Rules, dataset, elasticHanded.Add);

        Assert.NotEmpty(kept.Runs);
        Assert.Empty(streamed.Runs);
        Assert.Equal(Runs(kept.Runs), Runs(handed));
        Assert.Equal(Alerts(kept.Alerts), Alerts(streamed.Alerts));
        Assert.NotEmpty(elasticKept.Runs);
        Assert.Empty(elasticStreamed.Runs);
        Assert.Equal(Runs(elasticKept.Runs), Runs(elasticHanded));
    }

    /// <summary>Two copies of a new-country rule (two rules that alert at the same times) and a dataset on which they alert.</summary>
    private static (KeyAbuseContent.Build.PackBuild Build, Dataset Dataset) TwoRules(TestLibrary library)
    {
        library.Rule("network/test-new-country.yaml", NewValueHistoryParityTests.NewCountryRule);
        library.Rule("network/test-new-country-copy.yaml", NewValueHistoryParityTests.NewCountryRule
            .Replace("11111111-2222-4333-8444-888888888888", "11111111-2222-4333-8444-999999999999", StringComparison.Ordinal)
            .Replace("name: test-new-country", "name: test-new-country-copy", StringComparison.Ordinal));
        var build = library.Build();
        var folder = Path.Combine(library.TestDataDir, "network", "before-midnight");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "events.jsonl"), NewValueHistoryParityTests.NewCountryBeforeMidnight());
        return (build, DatasetLoader.Load(folder));
    }

    [Fact]
    public void Detections_of_one_clock_time_run_side_by_side_with_the_results_and_alerts_of_one_after_the_other()
    {
        using var library = new TestLibrary();
        var (build, dataset) = TwoRules(library);
        Assert.Equal(2, build.Rules.Length);

        var sequential = new SentinelRunner(new RunOptions { Parallelism = 1 }, library.RulesDir).Run(build.Rules, dataset, parity: true);
        var parallel = new SentinelRunner(new RunOptions { Parallelism = 4 }, library.RulesDir).Run(build.Rules, dataset, parity: true);

        Assert.Equal(2, sequential.Alerts.Select(a => a.Rule).Distinct().Count());
        Assert.Equal(Alerts(sequential.Alerts), Alerts(parallel.Alerts));
        Assert.Equal(Runs(sequential.Runs), Runs(parallel.Runs));
    }

    [Fact]
    public void Elastic_rules_run_side_by_side_with_the_results_and_alerts_of_one_after_the_other()
    {
        using var library = new TestLibrary();
        var (build, dataset) = TwoRules(library);

        var sequential = new ElasticRunner(new RunOptions { Parallelism = 1 }).Run(build.Rules, dataset);
        var parallel = new ElasticRunner(new RunOptions { Parallelism = 4 }).Run(build.Rules, dataset);

        Assert.Equal(2, sequential.Alerts.Select(a => a.Rule).Distinct().Count());
        Assert.Equal(Alerts(sequential.Alerts), Alerts(parallel.Alerts));
        Assert.Equal(Runs(sequential.Runs), Runs(parallel.Runs));
    }
}
