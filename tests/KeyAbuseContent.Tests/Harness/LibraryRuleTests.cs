using KeyAbuseContent.Build;
using KeyAbuseContent.Harness.Testing;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>
/// The library's rules, run as Sentinel and Elastic run them, on the datasets each declares: every
/// expectation met on both targets, and the two targets' results equal on every run.
/// </summary>
public class LibraryRuleTests
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
    public void TheRulePassesItsDeclaredTestOnBothTargets(string ruleName, string dataset)
    {
        var rule = Pack.Value.Rules.Single(r => r.Analyzed.Rule.Name == ruleName);
        var only = rule with { Analyzed = rule.Analyzed with { Rule = rule.Analyzed.Rule with { Tests = [.. rule.Analyzed.Rule.Tests.Where(t => t.Dataset == dataset)] } } };
        var outcomes = new RuleTestRunner(TestPaths.Detections, TestPaths.TestData).Run(only, sentinel: true, elastic: true).ToList();
        Assert.Equal(3, outcomes.Count);
        Assert.All(outcomes, o => Assert.True(o.Passed, $"{o.Check}: {string.Join("\n", o.Failures)}"));
    }
}
