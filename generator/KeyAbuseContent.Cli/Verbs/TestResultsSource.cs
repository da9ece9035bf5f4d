using KeyAbuseContent.Build;
using KeyAbuseContent.Coverage;
using KeyAbuseContent.Harness.Testing;
using Spectre.Console;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary>
/// The rules' test results for coverage and bundles: read from a file <c>keyabuse test --results</c> wrote
/// (trusted only where each rule's fingerprint still matches), or run now on both targets.
/// </summary>
public static class TestResultsSource
{
    public static Dictionary<string, RuleTestResults> Load(IAnsiConsole console, PackBuild build, string rulesDir, string datasets, string? resultsFile)
    {
        if (resultsFile is not null)
        {
            if (!File.Exists(resultsFile))
            {
                throw new BadInputException($"the results file '{resultsFile}' does not exist; write it with `keyabuse test --results {resultsFile}`");
            }
            try
            {
                return TestResultsRecorder.Trust(TestResultsFile.Read(resultsFile), build.Rules, datasets);
            }
            catch (FormatException e)
            {
                throw new BadInputException(e.Message);
            }
        }
        if (!Directory.Exists(datasets))
        {
            throw new BadInputException($"the datasets folder '{datasets}' does not exist");
        }
        var recorder = new TestResultsRecorder(rulesDir, datasets);
        var results = new Dictionary<string, RuleTestResults>(StringComparer.Ordinal);
        console.Progress().Start(ctx =>
        {
            var task = ctx.AddTask("rule tests", maxValue: build.Rules.Length);
            foreach (var rule in build.Rules)
            {
                task.Description = rule.Analyzed.Rule.Name;
                results[rule.Analyzed.Rule.Name] = recorder.Run(rule, sentinel: true, elastic: true).Results;
                task.Increment(1);
            }
        });
        return results;
    }

    /// <summary>Says which rules' recorded results no longer match them.</summary>
    public static void WarnStale(TextWriter output, IReadOnlyDictionary<string, RuleTestResults> results, string? resultsFile)
    {
        foreach (var stale in results.Values.Where(r => r.Stale).OrderBy(r => r.Rule, StringComparer.Ordinal))
        {
            output.WriteLine($"stale: the results of {stale.Rule} in {resultsFile} were recorded for another rule text, dataset or build; they do not count (run keyabuse test --results {resultsFile} again)");
        }
    }
}
