using KeyAbuseContent.Coverage;
using KeyAbuseContent.Harness.Testing;
using KeyAbuseContent.Tests.Support;
using static KeyAbuseContent.Tests.Coverage.CoverageFixtures;

namespace KeyAbuseContent.Tests.Cli;

/// <summary>keyabuse coverage and keyabuse bundle as a user runs them: exit codes, messages, and what is written.</summary>
public class CoverageCommandTests
{
    private static (int Exit, string Output) Run(string workingDirectory, params string[] args)
    {
        var result = Keyabuse.Run(workingDirectory, args);
        return (result.Exit, result.Output);
    }

    private static TestLibrary LibraryWithResults()
    {
        var library = new TestLibrary();
        Datasets(library);
        library.Rule("volume/spike-rule.yaml", StableRule("spike-rule", "traffic-spike", "11111111-2222-4333-8444-555555555501"));
        Directory.CreateSymbolicLink(Path.Combine(library.Root, "tools"), Path.Combine(TestPaths.RepositoryRoot, "tools"));
        var build = library.Build();
        Assert.True(build.Succeeded, string.Join("\n", build.Diagnostics));
        // Results recorded for exactly this rule and build, as keyabuse test --results writes them.
        var fingerprint = TestResultsRecorder.Fingerprint(build.Rules.Single(), library.TestDataDir);
        TestResultsFile.Write(Path.Combine(library.Root, "results.json"), [Passing("spike-rule") with { Fingerprint = fingerprint }]);
        return library;
    }

    [Fact]
    public void CoverageExitsOneAndNamesEachUncoveredThreat()
    {
        using var library = LibraryWithResults();
        var (exit, output) = Run(library.Root, "coverage", "--results", "results.json");
        Assert.Equal(1, exit);
        Assert.Contains("NOT COVERED key-leaked-repo: no rule names it", output, StringComparison.Ordinal);
        Assert.DoesNotContain("NOT COVERED traffic-spike", output, StringComparison.Ordinal);
    }

    [Fact]
    public void CoverageWithoutResponseEvidenceSaysWhichFileIsMissing()
    {
        using var library = LibraryWithResults();
        var (exit, output) = Run(library.Root, "coverage", "--results", "results.json", "--response", "response.json");
        Assert.Equal(1, exit);
        Assert.Contains("NOT COVERED quota-clamp: no response evidence: response.json does not exist", output, StringComparison.Ordinal);
    }

    [Fact]
    public void ResultsRecordedForAnotherRuleTextAreStale()
    {
        using var library = LibraryWithResults();
        library.Rule("volume/spike-rule.yaml", StableRule("spike-rule", "traffic-spike", "11111111-2222-4333-8444-555555555501").Replace("failures >= 20", "failures >= 25", StringComparison.Ordinal));
        var (exit, output) = Run(library.Root, "coverage", "--results", "results.json");
        Assert.Equal(1, exit);
        Assert.Contains("stale: the results of spike-rule in results.json", output, StringComparison.Ordinal);
        Assert.Contains("NOT COVERED traffic-spike: no stable rule passes on both targets: spike-rule (sentinel stale, elastic stale)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void CoverageWritesTheNavigatorLayersToOut()
    {
        using var library = LibraryWithResults();
        Run(library.Root, "coverage", "--results", "results.json", "--format", "json", "--out", "cov");
        Assert.True(File.Exists(Path.Combine(library.Root, "cov", "attack-navigator.json")));
        Assert.True(File.Exists(Path.Combine(library.Root, "cov", "atlas-navigator.json")));
    }

    [Fact]
    public void AMissingResultsFileIsBadInput()
    {
        using var library = LibraryWithResults();
        var (exit, output) = Run(library.Root, "coverage", "--results", "nope.json");
        Assert.Equal(2, exit);
        Assert.Contains("the results file 'nope.json' does not exist", output, StringComparison.Ordinal);
    }

    [Fact]
    public void BundleWithAMalformedVersionFileIsBadInputAndWritesNothing()
    {
        using var library = LibraryWithResults();
        File.WriteAllText(Path.Combine(library.Root, "VERSION"), "one\n");
        var (exit, output) = Run(library.Root, "bundle", "--results", "results.json");
        Assert.Equal(2, exit);
        Assert.Contains("holds 'one', not a version x.y.z", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(library.Root, "dist")));
    }

    [Fact]
    public void BundleWritesTheVersionedZipAndRecordsTheRelease()
    {
        using var library = LibraryWithResults();
        File.WriteAllText(Path.Combine(library.Root, "VERSION"), "0.3.1\n");
        var (exit, output) = Run(library.Root, "bundle", "--results", "results.json", "--record", "releases");
        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(library.Root, "dist", "KeyAbuseContent-0.3.1.zip")));
        Assert.True(File.Exists(Path.Combine(library.Root, "releases", "0.3.1", "report.json")));
        var (again, message) = Run(library.Root, "bundle", "--results", "results.json", "--record", "releases");
        Assert.Equal(2, again);
        Assert.Contains("release 0.3.1 is already recorded", message, StringComparison.Ordinal);
    }
}
