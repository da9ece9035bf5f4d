using KeyAbuseContent.Build;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Harness.Testing;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>The library's Sentinel rules, run as Sentinel runs them, on their declared datasets.</summary>
public class SentinelRunnerTests
{
    private static readonly Lazy<PackBuild> Pack = new(() => new PackBuilder(TestPaths.RepositoryRoot, TestPaths.Detections).Build());

    public static TheoryData<string, string> Tests()
    {
        var data = new TheoryData<string, string>();
        foreach (var rule in Pack.Value.Rules)
        {
            foreach (var test in rule.Analyzed.Rule.Tests)
            {
                data.Add(rule.Analyzed.Rule.Name, test.Dataset);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Tests))]
    public void TheRulePassesItsDeclaredTest(string ruleName, string dataset)
    {
        var rule = Pack.Value.Rules.Single(r => r.Analyzed.Rule.Name == ruleName);
        var test = rule.Analyzed.Rule.Tests.Single(t => t.Dataset == dataset);
        var data = DatasetLoader.Load(Path.Combine(TestPaths.TestData, dataset));
        var clock = test.Expect.IsEmpty ? (DateTime?)null : test.Expect.Min(e => e.From.UtcDateTime);
        var (_, alerts) = new SentinelRunner(new RunOptions { Clock = clock }, TestPaths.Detections).Run([rule], data);
        var outcome = Expectations.Judge(rule.Analyzed.Rule, test, Target.Sentinel, alerts);
        Assert.True(outcome.Passed, string.Join("\n", outcome.Failures));
    }
}
