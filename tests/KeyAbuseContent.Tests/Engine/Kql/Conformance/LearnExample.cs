using System.Text.Json;
using System.Text.Json.Serialization;

namespace KeyAbuseContent.Tests.Engine.Kql.Conformance;

/// <summary>One example of Microsoft's KQL reference: a query and the table its page documents (see README.md here).</summary>
internal sealed record LearnExample(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("query")] string Query,
    [property: JsonPropertyName("columns")] List<string> Columns,
    [property: JsonPropertyName("rows")] List<List<string>> Rows,
    [property: JsonPropertyName("ordered")] bool Ordered)
{
    public static string Folder => Path.Combine(TestPaths.RepositoryRoot, "tests", "KeyAbuseContent.Tests", "Engine", "Kql", "Conformance");

    public static IReadOnlyList<LearnExample> All { get; } = Load();

    private static List<LearnExample> Load() =>
        [.. File.ReadLines(Path.Combine(Folder, "learn-examples.jsonl"))
            .Where(l => l.Trim().Length > 0)
            .Select(l => JsonSerializer.Deserialize<LearnExample>(l) ?? throw new InvalidDataException("an empty example line"))];
}
