using System.Collections.Immutable;
using KeyAbuseContent.Build;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;

namespace KeyAbuseContent.Harness.Testing;

/// <summary>
/// Runs the tests each rule declares: the rule alone over each of its datasets on each target it names,
/// judged against the expectations, plus the parity of the two targets' results on every run. With
/// <paramref name="options"/>, its engines (<see cref="RunOptions.KqlEngine"/>, <see cref="RunOptions.EsqlEngine"/>) run the queries.
/// </summary>
public sealed class RuleTestRunner(string rulesDir, string testDataDir, RunOptions? options = null)
{
    private readonly Dictionary<string, Dataset> _datasets = new(StringComparer.Ordinal);

    /// <summary>A dataset the rules' tests name, loaded once.</summary>
    public Dataset Dataset(string name)
    {
        if (!_datasets.TryGetValue(name, out var dataset))
        {
            _datasets[name] = dataset = DatasetLoader.Load(Path.Combine(testDataDir, name));
        }
        return dataset;
    }

    /// <summary>What was skipped while loading the datasets so far (bad lines and records, unknown sources), per dataset.</summary>
    public IEnumerable<(string Dataset, DatasetProblem Problem)> Problems =>
        _datasets.OrderBy(d => d.Key, StringComparer.Ordinal).SelectMany(d => d.Value.Problems.Select(p => (d.Key, p)));

    public IEnumerable<TestOutcome> Run(CompiledRule rule, bool sentinel, bool elastic)
    {
        var definition = rule.Analyzed.Rule;
        foreach (var test in definition.Tests)
        {
            var onSentinel = sentinel && test.Targets.Contains("sentinel");
            var onElastic = elastic && test.Targets.Contains("elastic");
            if (!onSentinel && !onElastic)
            {
                continue;
            }
            var dataset = Dataset(test.Dataset);
            var clock = test.Expect.IsEmpty ? (DateTime?)null : test.Expect.Min(e => e.From.UtcDateTime);
            var run = new PackRunner((options ?? new RunOptions()) with { Clock = clock }, rulesDir).Run([rule], dataset, onSentinel, onElastic, parity: onSentinel && onElastic);
            if (onSentinel)
            {
                yield return Expectations.Judge(definition, test, Target.Sentinel, run.Alerts);
            }
            if (onElastic)
            {
                yield return Expectations.Judge(definition, test, Target.Elastic, run.Alerts);
            }
            if (onSentinel && onElastic)
            {
                var failures = run.Parity.Take(5).Select(d => $"run at {Alert.Iso(d.At)}: {d.Message}").ToImmutableArray();
                if (run.Parity.Length > 5)
                {
                    failures = failures.Add($"and {run.Parity.Length - 5} more run(s) differ");
                }
                yield return new TestOutcome(definition.Name, "parity", test.Dataset, run.Parity.IsEmpty, failures, []);
            }
        }
    }
}
