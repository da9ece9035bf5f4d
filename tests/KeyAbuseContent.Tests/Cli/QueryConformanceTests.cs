using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Tests.Engine.Kql.Conformance;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Cli;

/// <summary>
/// Reference examples through the program a user runs: `keyabuse query --format json`, parsed back and compared
/// with the documented table, so the command line, its JSON and the executor agree end to end. The whole
/// corpus runs in-process in ConformanceTests; here a sample of the passing, unordered examples in one process.
/// </summary>
public class QueryConformanceTests
{
    public static TheoryData<string> Sample()
    {
        var data = new TheoryData<string>();
        foreach (var e in LearnExample.All.Where(e => !e.Ordered && ConformanceTests.Run(e) is { Eligible: true, Failure: null }).Take(12))
        {
            data.Add(e.Id);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Sample))]
    public void TheCommandLineGivesTheDocumentedTable(string id)
    {
        var example = LearnExample.All.Single(e => e.Id == id);
        var run = Keyabuse.Run(null, "query", "--format", "json", "--now", "2026-12-07T00:00:00Z", example.Query);
        Assert.True(run.Exit == 0, run.Stderr);
        var output = run.Stdout;
        var json = JsonNode.Parse(output)!;
        var columns = json["columns"]!.AsArray().Select(c => new ColumnSchema(c!["name"]!.GetValue<string>(), c["type"]!.GetValue<string>())).ToList();
        var rows = json["rows"]!.AsArray().Select(r => r!.AsArray().Select((v, i) => Value(v, columns[i].Type)).ToArray()).ToList();
        Assert.Null(ExpectedTable.Mismatch(example, new DataTable("result", columns, rows), []));
    }

    /// <summary>A JSON cell back as the executor's value: date-times and timespans are strings in JSON.</summary>
    private static object? Value(JsonNode? node, string type) => node switch
    {
        null => null,
        JsonValue v when type == "datetime" => DateTimeOffset.Parse(v.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture).UtcDateTime,
        JsonValue v when type == "timespan" => TimeSpan.Parse(v.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture),
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v => v.GetValue<string>(),
        _ => node.DeepClone(),
    };
}
