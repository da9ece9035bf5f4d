using System.Text.RegularExpressions;

namespace KeyAbuseContent.Build;

/// <summary>
/// The pack's version: the one line of the repository's <c>VERSION</c> file, <c>x.y.z</c>. It names the
/// bundle (<c>KeyAbuseContent-x.y.z.zip</c>) and the release folder (<c>releases/x.y.z/</c>).
/// </summary>
public static partial class PackVersion
{
    [GeneratedRegex(@"^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})$")]
    private static partial Regex Shape();

    /// <summary>Parses <c>x.y.z</c>; null when the text is not one.</summary>
    public static Version? Parse(string text) =>
        Shape().IsMatch(text) ? new Version(int.Parse(text.Split('.')[0]), int.Parse(text.Split('.')[1]), int.Parse(text.Split('.')[2])) : null;

    /// <summary>Reads the VERSION file; a missing or malformed file is a <see cref="FormatException"/> saying which and why.</summary>
    public static Version Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FormatException($"the version file '{path}' does not exist (one line, x.y.z)");
        }
        var text = File.ReadAllText(path).Trim();
        return Parse(text) ?? throw new FormatException($"the version file '{path}' holds '{text}', not a version x.y.z");
    }
}
