using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using KeyAbuseContent.Engine.Esql;

namespace KeyAbuseContent.Tests.Engine.Esql;

/// <summary>
/// Examples of Elasticsearch's own ES|QL test suite (Conformance/esql-examples.jsonl, see its README) run
/// through the executor. An example passes when the columns (names and types) and the rows are the documented
/// ones. Every failure is listed with its reason in Conformance/known-failures.txt, and a listed example that
/// starts passing fails the test until it is taken off the list.
/// </summary>
public class ConformanceTests
{
    private static readonly string Folder = Path.Combine(TestPaths.RepositoryRoot, "tests", "KeyAbuseContent.Tests", "Engine", "Esql", "Conformance");

    /// <summary>Known failures whose reason starts with this are constructs outside the executor's subset.</summary>
    private const string OutsideTheSubset = "outside the subset";

    private static readonly Lazy<List<Example>> Examples = new(Load);

    private static readonly Lazy<Dictionary<string, string>> KnownFailures = new(LoadKnownFailures);

    public static TheoryData<string> ExampleIds() => [.. Examples.Value.Select(e => e.Id)];

    [Fact]
    public void ThereAreAtLeastSixtyExamples() => Assert.True(Examples.Value.Count >= 60, $"{Examples.Value.Count} examples");

    [Fact]
    public void ExampleIdsAreUnique() => Assert.Equal(Examples.Value.Count, Examples.Value.Select(e => e.Id).Distinct().Count());

    [Theory]
    [MemberData(nameof(ExampleIds))]
    public void TheExampleGivesItsDocumentedResultOrIsAKnownFailure(string id)
    {
        var example = Examples.Value.Single(e => e.Id == id);
        var mismatch = Mismatch(example);
        if (KnownFailures.Value.TryGetValue(id, out var reason))
        {
            Assert.True(mismatch is not null, $"{id} now passes: take it off known-failures.txt (listed as: {reason})");
        }
        else
        {
            Assert.True(mismatch is null, $"{id}: {mismatch}\nquery: {example.Query}");
        }
    }

    [Fact]
    public void EveryKnownFailureNamesAnExample()
    {
        var ids = Examples.Value.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        var stale = KnownFailures.Value.Keys.Where(k => !ids.Contains(k)).ToList();
        Assert.True(stale.Count == 0, $"known-failures.txt lists examples that do not exist: {string.Join(", ", stale)}");
    }

    [Fact]
    public void AtLeastNinetyPercentOfTheExamplesInsideTheSubsetPass()
    {
        var inside = Examples.Value.Where(e => !(KnownFailures.Value.TryGetValue(e.Id, out var reason) && reason.StartsWith(OutsideTheSubset, StringComparison.Ordinal))).ToList();
        var passing = inside.Count(e => Mismatch(e) is null);
        Assert.True(passing >= 0.9 * inside.Count, $"{passing} of {inside.Count} examples inside the subset pass");
    }

    /// <summary>Why the executor's result differs from the documented one, or null when it does not.</summary>
    private static string? Mismatch(Example example)
    {
        EsqlResult result;
        try
        {
            result = new EsqlEngine().Execute(example.Query, new Dictionary<string, KeyAbuseContent.Engine.Data.DataTable>(), EsqlTestKit.Now);
        }
        catch (EsqlException e)
        {
            return $"refused: {e.Message}";
        }
#pragma warning disable CA1031 // A crash is a finding about the example, reported like any mismatch.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return $"crashed: {e.GetType().Name}: {e.Message}";
        }
        var table = result.Table;
        var actualColumns = table.Columns.Select(c => $"{c.Name}:{c.Type}").ToList();
        var expectedColumns = example.Columns.Select(c => $"{c.Name}:{c.Type}").ToList();
        if (!actualColumns.SequenceEqual(expectedColumns))
        {
            return $"columns [{string.Join(", ", actualColumns)}], expected [{string.Join(", ", expectedColumns)}]";
        }
        if (table.Rows.Count != example.Rows.Count)
        {
            return $"{table.Rows.Count} rows, expected {example.Rows.Count}";
        }
        for (var r = 0; r < table.Rows.Count; r++)
        {
            for (var c = 0; c < example.Columns.Count; c++)
            {
                var actual = table.Rows[r][c];
                var expected = example.Rows[r][c];
                if (!Same(actual, expected, example.Columns[c].Type))
                {
                    return $"row {r + 1} column {example.Columns[c].Name}: [{Show(actual)}], expected [{expected}]";
                }
            }
        }
        return null;
    }

    private static bool Same(object? actual, JsonElement expected, string type)
    {
        if (expected.ValueKind == JsonValueKind.Null)
        {
            return actual is null;
        }
        if (expected.ValueKind == JsonValueKind.Array)
        {
            var items = expected.EnumerateArray().ToList();
            if (items.Count == 1)
            {
                return Same(actual, items[0], type);
            }
            return actual is ImmutableArray<object?> many && many.Length == items.Count && many.Zip(items).All(p => Same(p.First, p.Second, type));
        }
        if (actual is null or ImmutableArray<object?>)
        {
            return false;
        }
        return type switch
        {
            "integer" => actual is int i && i == expected.GetInt32(),
            "long" => actual is long l && l == expected.GetInt64(),
            "double" => actual is double d && Close(d, expected.GetDouble()),
            "boolean" => actual is bool b && b == expected.GetBoolean(),
            "date" => actual is DateTime t && t == ParseDate(expected.GetString()!),
            _ => actual is string s && s == expected.GetString(),
        };
    }

    private static bool Close(double actual, double expected) =>
        actual == expected || Math.Abs(actual - expected) <= 1e-12 * Math.Max(Math.Abs(actual), Math.Abs(expected));

    /// <summary>Dates in the examples are ISO 8601, sometimes without the zone or the time; they are UTC.</summary>
    private static DateTime ParseDate(string text) =>
        DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    private static string Show(object? value) => value switch
    {
        null => "null",
        ImmutableArray<object?> many => $"[{string.Join(", ", many.Select(Show))}]",
        DateTime t => t.ToString("O", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static List<Example> Load()
    {
        var examples = new List<Example>();
        foreach (var line in File.ReadLines(Path.Combine(Folder, "esql-examples.jsonl")))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            examples.Add(new Example(
                root.GetProperty("id").GetString()!,
                root.GetProperty("query").GetString()!,
                [.. root.GetProperty("columns").EnumerateArray().Select(c => new Column(c.GetProperty("name").GetString()!, c.GetProperty("type").GetString()!))],
                [.. root.GetProperty("rows").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.Clone()).ToArray())]));
        }
        return examples;
    }

    /// <summary>Lines <c>id: reason</c>; <c>#</c> starts a comment.</summary>
    private static Dictionary<string, string> LoadKnownFailures()
    {
        var known = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in File.ReadLines(Path.Combine(Folder, "known-failures.txt")))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            Assert.True(colon > 0, $"known-failures.txt: [{line}] is not 'id: reason'");
            known.Add(line[..colon], line[(colon + 2)..]);
        }
        return known;
    }

    private sealed record Column(string Name, string Type);

    private sealed record Example(string Id, string Query, List<Column> Columns, List<JsonElement[]> Rows);
}
