namespace KeyAbuseContent.Diagnostics;

/// <summary>How file paths appear in diagnostics: relative to the working folder, with forward slashes.</summary>
public static class PathDisplay
{
    public static string Of(string path)
    {
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), Path.GetFullPath(path));
        return relative.Replace('\\', '/');
    }
}
