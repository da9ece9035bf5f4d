namespace KeyAbuseContent.Tests.Golden;

/// <summary>
/// Every generated artifact of every rule equals its golden file under tests/KeyAbuseContent.Tests/Golden.
/// A change to the generator or a rule shows as a diff of those files; `make golden` rewrites them for review.
/// </summary>
public class GoldenTests
{
    public static TheoryData<string, string> Artifacts()
    {
        var data = new TheoryData<string, string>();
        foreach (var set in new[] { "library", "kinds", "coverage" })
        {
            foreach (var name in GoldenBuilds.For(set).Keys)
            {
                data.Add(set, name);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Artifacts))]
    public void ArtifactMatchesItsGoldenFile(string set, string name)
    {
        var actual = GoldenBuilds.For(set)[name];
        var path = Path.Combine(GoldenBuilds.GoldenDir(set), name);
        if (GoldenBuilds.Updating)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"{name} has no golden file; run `make golden` and review the new file");
        Assert.Equal(File.ReadAllText(path), actual);
    }

    [Theory]
    [InlineData("library")]
    [InlineData("kinds")]
    [InlineData("coverage")]
    public void NoGoldenFileIsStale(string set)
    {
        var dir = GoldenBuilds.GoldenDir(set);
        var expected = GoldenBuilds.For(set).Keys.ToHashSet(StringComparer.Ordinal);
        var stale = Directory.Exists(dir)
            ? Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/')).Where(f => !expected.Contains(f)).ToList()
            : [];
        if (GoldenBuilds.Updating)
        {
            stale.ForEach(f => File.Delete(Path.Combine(dir, f)));
            return;
        }
        Assert.Empty(stale);
    }
}
