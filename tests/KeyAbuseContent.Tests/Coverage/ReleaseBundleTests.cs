using System.IO.Compression;
using KeyAbuseContent.Build;
using KeyAbuseContent.Coverage;
using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Tests.Support;
using static KeyAbuseContent.Tests.Coverage.CoverageFixtures;

namespace KeyAbuseContent.Tests.Coverage;

/// <summary>The release bundle: deterministic bytes, what it holds, and the version check against the last release.</summary>
public class ReleaseBundleTests
{
    private const string Id = "11111111-2222-4333-8444-555555555501";

    private static SortedDictionary<string, string> Files(PackBuild build, PackRelease? previous = null, params IBundleContribution[] contributions)
    {
        Assert.True(build.Succeeded, string.Join("\n", build.Diagnostics));
        var results = Results([.. build.Rules.Select(r => Passing(r.Analyzed.Rule.Name))]);
        var coverage = CoverageAnalysis.Analyze(new CoverageInputs(build.Library, results), NoResponse);
        return ReleaseBundle.Files(new BundleInputs(build, new Version(0, 1, 0), results, coverage, previous, [.. contributions]));
    }

    [Fact]
    public void TheZipIsTheSameBytesForTheSameInput()
    {
        using var library = new TestLibrary();
        Datasets(library);
        library.Rule("auth/burst-rule.yaml", StableRule("burst-rule", "stolen-key-other-network", Id));
        var first = ReleaseBundle.Zip(Files(library.Build()));
        var second = ReleaseBundle.Zip(Files(library.Build()));
        Assert.Equal(first, second);
    }

    [Fact]
    public void TheZipHoldsEachPlatformTheReportsAndTheCoverageInOrder()
    {
        using var library = new TestLibrary();
        Datasets(library);
        library.Rule("auth/burst-rule.yaml", StableRule("burst-rule", "stolen-key-other-network", Id));
        using var zip = new ZipArchive(new MemoryStream(ReleaseBundle.Zip(Files(library.Build()))), ZipArchiveMode.Read);
        var names = zip.Entries.Select(e => e.FullName).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        Assert.Subset(names.ToHashSet(), new HashSet<string>
        {
            "CHANGELOG.md", "REPORT.md", "report.json", "coverage/attack-navigator.json", "coverage/atlas-navigator.json",
            "sentinel/azuredeploy.json", "sentinel/azuredeploy.parameters.json", "sentinel/rules/burst-rule.yaml",
            "sentinel/watchlists/KeyAbuseInventory.csv", "elastic/rules.ndjson", "elastic/setup.ndjson", "sigma/burst-rule.yml",
        });
    }

    [Fact]
    public void AContributionCannotReplaceAFileOfTheBundle()
    {
        using var library = new TestLibrary();
        Datasets(library);
        library.Rule("auth/burst-rule.yaml", StableRule("burst-rule", "stolen-key-other-network", Id));
        var e = Assert.Throws<InvalidOperationException>(() => Files(library.Build(), null, new Overwriting()));
        Assert.Contains("report.json", e.Message, StringComparison.Ordinal);
    }

    private sealed class Overwriting : IBundleContribution
    {
        public IEnumerable<KeyValuePair<string, string>> Files(PackBuild build) => [new("report.json", "{}")];
    }

    private static void Release(TestLibrary library)
    {
        var report = Files(library.Build())["report.json"];
        var path = Path.Combine(library.Root, "releases", "0.1.0", "report.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, report);
    }

    [Fact]
    public void ValidateRefusesAChangedQueryWithoutAVersionBump()
    {
        using var library = new TestLibrary();
        Datasets(library);
        library.Rule("auth/burst-rule.yaml", StableRule("burst-rule", "stolen-key-other-network", Id));
        Release(library);
        library.Rule("auth/burst-rule.yaml", StableRule("burst-rule", "stolen-key-other-network", Id).Replace("failures >= 20", "failures >= 30", StringComparison.Ordinal));
        var errors = library.Build().Diagnostics.Where(d => d.Code == DiagnosticCodes.VersionNotRaised).ToList();
        Assert.Equal(
            "detections/auth/burst-rule.yaml:3:10: error KA1701: version: the rendered Sentinel (KQL) and Elastic (ES|QL) query changed since release 0.1.0, which published version 1.0.0; raise version above 1.0.0 [burst-rule]",
            TestLibrary.Errors(library.Build()).Single(e => e.Contains("KA1701", StringComparison.Ordinal)));
        Assert.Single(errors);
    }

    [Fact]
    public void AChangedQueryWithAHigherVersionIsAccepted()
    {
        using var library = new TestLibrary();
        Datasets(library);
        library.Rule("auth/burst-rule.yaml", StableRule("burst-rule", "stolen-key-other-network", Id));
        Release(library);
        library.Rule("auth/burst-rule.yaml", StableRule("burst-rule", "stolen-key-other-network", Id)
            .Replace("failures >= 20", "failures >= 30", StringComparison.Ordinal).Replace("version: 1.0.0", "version: 1.0.1", StringComparison.Ordinal));
        Assert.True(library.Build().Succeeded);
    }

    [Fact]
    public void TheChangelogNamesAChangedRuleAndItsVersions()
    {
        using var library = new TestLibrary();
        Datasets(library);
        library.Rule("auth/burst-rule.yaml", StableRule("burst-rule", "stolen-key-other-network", Id));
        Release(library);
        library.Rule("auth/burst-rule.yaml", StableRule("burst-rule", "stolen-key-other-network", Id)
            .Replace("failures >= 20", "failures >= 30", StringComparison.Ordinal).Replace("version: 1.0.0", "version: 1.1.0", StringComparison.Ordinal));
        var previous = ReleaseHistory.Latest(ReleaseHistory.Load(Path.Combine(library.Root, "releases"), new DiagnosticBag()));
        var changelog = Files(library.Build(), previous)["CHANGELOG.md"];
        Assert.Contains("| `burst-rule` | query changed | sentinel, elastic | 1.0.0 -> 1.1.0 |", changelog, StringComparison.Ordinal);
    }

    [Fact]
    public void AReleaseReportThatDoesNotReadIsAnError()
    {
        using var library = new TestLibrary();
        Datasets(library);
        library.Rule("auth/burst-rule.yaml", StableRule("burst-rule", "stolen-key-other-network", Id));
        var path = Path.Combine(library.Root, "releases", "0.1.0", "report.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "{\"rules\": [{\"name\": \"burst-rule\"}]}");
        Assert.Contains(library.Build().Diagnostics, d => d.Code == DiagnosticCodes.Release);
    }

    [Fact]
    public void AVersionFileThatIsNotXyzIsRefusedWithItsText()
    {
        var path = Path.Combine(Path.GetTempPath(), "keyabuse-version-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, "1.0\n");
        try
        {
            var e = Assert.Throws<FormatException>(() => PackVersion.Read(path));
            Assert.Contains("holds '1.0', not a version x.y.z", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
