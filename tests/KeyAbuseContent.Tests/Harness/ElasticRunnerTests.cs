using KeyAbuseContent.Build;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Harness.Testing;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>The library's Elastic rules, run as Kibana runs them, on their declared datasets.</summary>
public class ElasticRunnerTests
{
    private static readonly Lazy<PackBuild> Pack = new(() => new PackBuilder(TestPaths.RepositoryRoot, TestPaths.Detections).Build());

    public static TheoryData<string, string> Tests() => SentinelRunnerTests.Tests();

    [Theory]
    [MemberData(nameof(Tests))]
    public void TheRulePassesItsDeclaredTest(string ruleName, string dataset)
    {
        var rule = Pack.Value.Rules.Single(r => r.Analyzed.Rule.Name == ruleName);
        var test = rule.Analyzed.Rule.Tests.Single(t => t.Dataset == dataset);
        var data = DatasetLoader.Load(Path.Combine(TestPaths.TestData, dataset));
        var clock = test.Expect.IsEmpty ? (DateTime?)null : test.Expect.Min(e => e.From.UtcDateTime);
        var (_, alerts) = new ElasticRunner(new RunOptions { Clock = clock }).Run([rule], data);
        var outcome = Expectations.Judge(rule.Analyzed.Rule, test, Target.Elastic, alerts);
        Assert.True(outcome.Passed, string.Join("\n", outcome.Failures));
    }
}
