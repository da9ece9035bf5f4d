namespace KeyAbuseContent.Tests.Validation;

/// <summary>Paths in the repository, found by walking up from the test binaries to KeyAbuseContent.sln.</summary>
internal static class ValidationTestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string SigmaSchemaDir => Path.Combine(RepositoryRoot, "detections", "reference", "sigma-schema");

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
