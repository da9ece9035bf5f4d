using System.Collections.Immutable;
using KeyAbuseContent.Build;
using KeyAbuseContent.Coverage;
using KeyAbuseContent.Harness.Reporting;
using KeyAbuseContent.Harness.Running;

namespace KeyAbuseContent.Harness.Testing;

/// <summary>
/// Runs a rule's declared tests and records them as <see cref="RuleTestResults"/>: each verdict with its
/// alerts, false alerts and time to detect on the dataset's labelled attacks, and the fingerprint of
/// everything the outcome depends on, so a results file is only trusted for the same inputs.
/// </summary>
public sealed class TestResultsRecorder(string rulesDir, string testDataDir, RunOptions? options = null)
{
    private readonly RuleTestRunner _runner = new(rulesDir, testDataDir, options);

    /// <summary>What was skipped while loading the datasets so far (bad lines and records, unknown sources), per dataset.</summary>
    public IEnumerable<(string Dataset, Datasets.DatasetProblem Problem)> Problems => _runner.Problems;

    /// <summary>The outcomes as <c>keyabuse test</c> prints them, and their record.</summary>
    public (IReadOnlyList<TestOutcome> Outcomes, RuleTestResults Results) Run(CompiledRule rule, bool sentinel, bool elastic)
    {
        var outcomes = _runner.Run(rule, sentinel, elastic).ToList();
        var definition = rule.Analyzed.Rule;
        var records = outcomes.Select(o =>
        {
            var test = definition.Tests.First(t => t.Dataset == o.Dataset);
            if (o.Check == RuleTestResults.Parity)
            {
                return new TestRecord(o.Check, o.Dataset, o.Passed, !test.Expect.IsEmpty, 0, 0, 0, 0, null, o.Failures);
            }
            var dataset = _runner.Dataset(o.Dataset);
            var detections = dataset.Labels
                .Select(l => o.Alerts.Where(a => RunReport.Detects(a, l)).Select(a => (TimeSpan?)(a.Time - l.Start)).Min())
                .OfType<TimeSpan>().ToList();
            var falses = o.Alerts.Count(a =>
                !test.Expect.Any(e => a.KeyId == e.KeyId && a.Time >= e.From.UtcDateTime && a.Time <= e.To.UtcDateTime)
                && !dataset.Labels.Any(l => RunReport.Detects(a, l)));
            return new TestRecord(o.Check, o.Dataset, o.Passed, !test.Expect.IsEmpty, o.Alerts.Length, falses, dataset.Labels.Length, detections.Count,
                detections.Count == 0 ? null : Math.Round(detections.Average(d => d.TotalSeconds), 3), o.Failures);
        }).ToImmutableArray();
        return (outcomes, new RuleTestResults(definition.Name, Fingerprint(rule, testDataDir), records));
    }

    /// <summary>
    /// SHA-256 of what a rule's test results depend on: the builds of the generator, engine and harness
    /// (their module version ids, which deterministic builds derive from the code), the rule's file, its
    /// rendered queries and setup, and every file of every dataset its tests name.
    /// </summary>
    public static string Fingerprint(CompiledRule rule, string testDataDir)
    {
        using var hash = new ContentHash();
        hash.Add("keyabuse-test-results/1");
        hash.AddBuilds(typeof(CompiledRule).Assembly, typeof(PackRunner).Assembly, typeof(Engine.Esql.EsqlEngine).Assembly);
        var definition = rule.Analyzed.Rule;
        hash.Add(File.Exists(definition.File) ? File.ReadAllText(definition.File) : definition.File);
        hash.Add(RuleFingerprint.Of(rule).Combined);
        foreach (var dataset in definition.Tests.Select(t => t.Dataset).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var folder = Path.Combine(testDataDir, dataset);
            hash.Add(dataset);
            if (!Directory.Exists(folder))
            {
                continue;
            }
            foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/')).Order(StringComparer.Ordinal))
            {
                hash.AddFile(file, Path.Combine(folder, file));
            }
        }
        return hash.Hex();
    }

    /// <summary>
    /// Results read from a file, checked against the current rules: a rule whose fingerprint differs is
    /// marked stale, and a rule with no entry is left out (untested).
    /// </summary>
    public static Dictionary<string, RuleTestResults> Trust(IEnumerable<RuleTestResults> recorded, IEnumerable<CompiledRule> rules, string testDataDir)
    {
        var byName = recorded.GroupBy(r => r.Rule, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        var trusted = new Dictionary<string, RuleTestResults>(StringComparer.Ordinal);
        foreach (var rule in rules)
        {
            var name = rule.Analyzed.Rule.Name;
            if (byName.TryGetValue(name, out var r))
            {
                trusted[name] = r.Fingerprint == Fingerprint(rule, testDataDir) ? r : r with { Stale = true };
            }
        }
        return trusted;
    }
}
