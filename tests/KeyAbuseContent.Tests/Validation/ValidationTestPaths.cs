namespace KeyAbuseContent.Tests.Validation;

/// <summary>Paths in the repository, found by walking up from the test binaries to KeyAbuseContent.sln.</summary>
internal static class ValidationTestPaths
{
    public static string RepositoryRoot => TestPaths.RepositoryRoot;

    public static string SigmaSchemaDir => Path.Combine(RepositoryRoot, "detections", "reference", "sigma-schema");
}
