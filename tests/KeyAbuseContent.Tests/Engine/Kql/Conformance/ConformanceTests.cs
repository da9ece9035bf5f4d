using KeyAbuseContent.Engine.Kql;
using KeyAbuseContent.Engine.Kql.Syntax;
using Xunit.Abstractions;

namespace KeyAbuseContent.Tests.Engine.Kql.Conformance;

/// <summary>
/// Runs the examples of Microsoft's KQL reference (Conformance/learn-examples.jsonl) whose operators and functions
/// are all in the executor's subset, compares each with its documented table, and holds the failures to the
/// checked-in list (known-failures.txt), which must stay exact: a listed example that passes fails the test.
/// </summary>
public sealed class ConformanceTests
{
    private const double RequiredPassRate = 0.90;
    private readonly ITestOutputHelper _output;

    public ConformanceTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public void The_examples_in_the_subset_pass_but_the_listed_known_failures()
    {
        var known = KnownFailures.Load();
        var results = LearnExample.All.Select(Run).ToList();
        var eligible = results.Where(r => r.Eligible).ToList();
        var failed = eligible.Where(r => r.Failure is not null).ToList();
        var passed = eligible.Count - failed.Count;
        _output.WriteLine($"{LearnExample.All.Count} examples, {eligible.Count} in the subset, {passed} pass ({100.0 * passed / Math.Max(1, eligible.Count):0.0}%)");

        var problems = new List<string>();
        problems.AddRange(failed.Where(f => !known.ContainsKey(f.Id)).Select(f => $"{f.Id} fails and is not listed: {f.Failure}"));
        problems.AddRange(eligible.Where(r => r.Failure is null && known.ContainsKey(r.Id)).Select(r => $"{r.Id} passes now: remove it from known-failures.txt"));
        problems.AddRange(known.Keys.Where(id => !eligible.Exists(r => r.Id == id)).Select(id => $"{id} is listed but is not an example in the subset: remove it"));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.True(passed >= RequiredPassRate * eligible.Count, $"{passed} of {eligible.Count} examples pass, under {RequiredPassRate:P0}");
    }

    [Fact]
    public void Every_example_outside_the_subset_is_refused_as_unsupported_naming_the_construct()
    {
        var outside = LearnExample.All.Select(Run).Where(r => !r.Eligible).ToList();

        Assert.All(outside, r => Assert.Contains("not supported", r.Failure, StringComparison.Ordinal));
        Assert.NotEmpty(outside);
    }

    internal sealed record Outcome(string Id, bool Eligible, string? Failure);

    internal static Outcome Run(LearnExample example)
    {
        var engine = new KqlEngine();
        try
        {
            engine.Check(example.Query, new Dictionary<string, KeyAbuseContent.Engine.Data.DataTable>(), []);
        }
        catch (KqlException e) when (e.Kind == KqlErrorKind.Unsupported)
        {
            return new Outcome(example.Id, false, e.Message);
        }
        catch (KqlException e)
        {
            return new Outcome(example.Id, true, $"{e.Kind}: {e.Message}");
        }
        try
        {
            var result = engine.Execute(example.Query, new Dictionary<string, KeyAbuseContent.Engine.Data.DataTable>(), [], KqlTestKit.Now).Table;
            return new Outcome(example.Id, true, ExpectedTable.Mismatch(example, result, SortKeys(example.Query)));
        }
        catch (KqlException e)
        {
            return new Outcome(example.Id, true, $"{e.Kind}: {e.Message}");
        }
    }

    /// <summary>The column names of the query's last sort or top, when they are plain names.</summary>
    private static List<string> SortKeys(string query)
    {
        var body = KqlParser.ParseQuery(new SourceText(query, null, null)).Body;
        while (body is PipeSyntax pipe)
        {
            switch (pipe.Operator)
            {
                case SortSyntax sort:
                    return [.. sort.Keys.Select(k => (k.Expr as NameSyntax)?.Name ?? "")];
                case TopSyntax top:
                    return [(top.Key.Expr as NameSyntax)?.Name ?? ""];
                default:
                    body = pipe.Source;
                    break;
            }
        }
        return [];
    }
}

/// <summary>known-failures.txt: one example a line, <c>id</c>, a tab, and why it fails; '#' starts a comment.</summary>
internal static class KnownFailures
{
    public static Dictionary<string, string> Load()
    {
        var file = Path.Combine(LearnExample.Folder, "known-failures.txt");
        var known = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(file))
        {
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
            {
                continue;
            }
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab < 0 || line[(tab + 1)..].Trim().Length == 0)
            {
                throw new InvalidDataException($"known-failures.txt: '{line}' has no reason after a tab");
            }
            known.Add(line[..tab].Trim(), line[(tab + 1)..].Trim());
        }
        return known;
    }
}
