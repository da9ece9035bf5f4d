using KeyAbuseContent.Build;
using KeyAbuseContent.Coverage;
using KeyAbuseContent.Tests.Coverage;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Golden;

/// <summary>
/// The bundles the golden files are compared with: the rule library of detections/, and the fixture
/// library of one rule of each kind (tests/.../Fixtures/kinds). Built once per test run.
/// </summary>
internal static class GoldenBuilds
{
    private static readonly Lazy<SortedDictionary<string, string>> LibraryFiles = new(() => Files(new PackBuilder(TestPaths.RepositoryRoot, TestPaths.Detections).Build()));

    private static readonly Lazy<PackBuild> KindBuild = new(() =>
    {
        using var library = new TestLibrary();
        var fixtures = Path.Combine(TestPaths.RepositoryRoot, "tests", "KeyAbuseContent.Tests", "Fixtures", "kinds");
        foreach (var file in Directory.GetFiles(fixtures, "*.yaml", SearchOption.AllDirectories))
        {
            library.Rule(Path.GetRelativePath(fixtures, file), File.ReadAllText(file));
        }
        return library.Build();
    });

    private static readonly Lazy<SortedDictionary<string, string>> KindFiles = new(() => Files(KindBuild.Value));

    /// <summary>
    /// The coverage artifacts of the fixture library, with recorded results: every rule passing on both
    /// targets but fixture-new-asn (failing on Elastic) and fixture-key-not-rotated (no results).
    /// </summary>
    private static readonly Lazy<SortedDictionary<string, string>> CoverageFiles = new(() =>
    {
        var build = KindBuild.Value;
        var results = new Dictionary<string, RuleTestResults>(StringComparer.Ordinal);
        foreach (var name in build.Library.Rules.Select(r => r.Name).Where(n => n != "fixture-key-not-rotated"))
        {
            var passing = CoverageFixtures.Passing(name);
            results[name] = name == "fixture-new-asn"
                ? passing with { Records = passing.Records.SetItem(1, CoverageFixtures.Record("elastic", "ds/attack", false, true, null)) }
                : passing;
        }
        return CoverageDocuments.Files(CoverageAnalysis.Analyze(new CoverageInputs(build.Library, results), CoverageFixtures.NoResponse));
    });

    public static SortedDictionary<string, string> For(string set) => set switch
    {
        "library" => LibraryFiles.Value,
        "coverage" => CoverageFiles.Value,
        _ => KindFiles.Value,
    };

    private static SortedDictionary<string, string> Files(PackBuild build)
    {
        if (!build.Succeeded)
        {
            throw new InvalidOperationException("the golden build failed:\n" + string.Join("\n", build.Diagnostics));
        }
        var files = PackWriter.Files(build);
        // One Kibana rule a file, pretty-printed, so a change reads as a diff of that rule.
        foreach (var rule in build.Rules)
        {
            files[$"elastic/rules/{rule.Analyzed.Rule.Name}.json"] = rule.Elastic.Rule.Document.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n";
        }
        return files;
    }

    public static string GoldenDir(string set) => Path.Combine(TestPaths.Golden, set);

    /// <summary>Whether this run rewrites the golden files (make golden) instead of comparing with them.</summary>
    public static bool Updating => Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1";
}
