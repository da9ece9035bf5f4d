namespace KeyAbuseContent.Tests;

/// <summary>Paths in the repository, found by walking up from the test binaries to KeyAbuseContent.sln.</summary>
internal static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Detections => Path.Combine(RepositoryRoot, "detections");

    public static string TestData => Path.Combine(RepositoryRoot, "test-data");

    public static string Golden => Path.Combine(RepositoryRoot, "tests", "KeyAbuseContent.Tests", "Golden");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KeyAbuseContent.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no KeyAbuseContent.sln above {AppContext.BaseDirectory}");
    }
}
