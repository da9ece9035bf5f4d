using KeyAbuseContent.Build;
using KeyAbuseContent.Diagnostics;

namespace KeyAbuseContent.Tests.Support;

/// <summary>
/// A throwaway rule library: the repository's schema, reference lists and threat model, plus the rule
/// files and dataset folders a test writes. Deleted when disposed.
/// </summary>
internal sealed class TestLibrary : IDisposable
{
    public TestLibrary()
    {
        Root = Path.Combine(Path.GetTempPath(), "keyabuse-test-" + Guid.NewGuid().ToString("N"));
        RulesDir = Path.Combine(Root, "detections");
        TestDataDir = Path.Combine(Root, "test-data");
        Directory.CreateDirectory(RulesDir);
        Directory.CreateDirectory(TestDataDir);
        Copy(Path.Combine(TestPaths.Detections, "schema"), Path.Combine(RulesDir, "schema"));
        Copy(Path.Combine(TestPaths.Detections, "reference"), Path.Combine(RulesDir, "reference"));
        File.Copy(Path.Combine(TestPaths.Detections, "threat-model.yaml"), Path.Combine(RulesDir, "threat-model.yaml"));
    }

    public string Root { get; }

    public string RulesDir { get; }

    public string TestDataDir { get; }

    /// <summary>Writes a rule file at detections/&lt;relative&gt; and returns its path.</summary>
    public string Rule(string relative, string yaml)
    {
        var path = Path.Combine(RulesDir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, yaml);
        return path;
    }

    /// <summary>Creates a dataset folder with an empty events file.</summary>
    public void Dataset(string name)
    {
        var folder = Path.Combine(TestDataDir, name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "events.jsonl"), "");
    }

    public PackBuild Build() => new PackBuilder(TestPaths.RepositoryRoot, RulesDir, TestDataDir).Build();

    /// <summary>The errors of a build, as the one-line form, with the temporary folder cut off.</summary>
    public static IReadOnlyList<string> Errors(PackBuild build) =>
        [.. build.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => Trim(d.ToString()))];

    private static string Trim(string line)
    {
        var at = line.IndexOf("detections/", StringComparison.Ordinal);
        return at < 0 ? line : line[at..];
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }
}
