using KeyAbuseContent.Build;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql;
using KeyAbuseContent.Tests.Engine.Kql.Conformance;
using KeyAbuseContent.Validation.Kql;

namespace KeyAbuseContent.Tests.Engine.Kql.Agreement;

// Every query the executor accepts must parse and bind in Microsoft's Kusto language service, and give the columns
// (names and types) it infers. These tests run node; they fail with install instructions when it is missing.
public sealed class MicrosoftAgreementTests
{
    private static readonly KqlDatabaseSchema Empty = new([], []);

    /// <summary>The reference examples the executor parses and binds (whether or not their results then match).</summary>
    private static IReadOnlyList<(string Id, string Text)> AcceptedExamples() =>
        [.. LearnExample.All.Where(Accepts).Select(e => (e.Id, e.Query))];

    private static bool Accepts(LearnExample example)
    {
        try
        {
            new KqlEngine().Check(example.Query, new Dictionary<string, DataTable>(), []);
            return true;
        }
        catch (KqlException)
        {
            return false;
        }
    }

    private static IReadOnlyList<(string Id, string Text)> GeneratedQueries() => [.. SentinelWorkspace.GeneratedQueries()];

    private static KqlDatabaseSchema PackSchema() => new PackBuilder(TestPaths.RepositoryRoot, TestPaths.Detections).KqlSchema();

    [Fact]
    public void Every_reference_example_the_executor_accepts_binds_without_errors_in_Microsofts_language_service()
    {
        var findings = KustoLanguageService.Locate(TestPaths.RepositoryRoot)
            .Check(Empty, [.. AcceptedExamples().Select(q => new KqlQueryToCheck(q.Id, q.Text))]);

        Assert.Empty(findings.Where(f => f.IsError).Select(f => $"{f.Id}: {f.Code} {f.Message}"));
    }

    [Fact]
    public void Every_generated_query_binds_without_errors_in_Microsofts_language_service()
    {
        var findings = KustoLanguageService.Locate(TestPaths.RepositoryRoot)
            .Check(PackSchema(), [.. GeneratedQueries().Select(q => new KqlQueryToCheck(q.Id, q.Text))]);

        Assert.Empty(findings.Where(f => f.IsError).Select(f => $"{f.Id}: {f.Code} {f.Message}"));
    }

    [Fact]
    public void The_executor_gives_the_columns_Microsoft_infers_for_the_reference_examples()
    {
        var queries = AcceptedExamples();
        var kusto = KustoResultSchemas.Infer(Empty, queries);

        var differences = new List<string>();
        foreach (var (query, inferred) in queries.Zip(kusto))
        {
            var result = new KqlEngine().Execute(query.Text, new Dictionary<string, DataTable>(), [], KqlTestKit.Now).Table;
            Compare(query.Id, result, inferred, differences);
        }

        Assert.Empty(differences);
    }

    [Fact]
    public void The_executor_gives_the_columns_Microsoft_infers_for_the_generated_queries()
    {
        var queries = GeneratedQueries();
        var kusto = KustoResultSchemas.Infer(PackSchema(), queries);
        var workspace = new SentinelWorkspace();

        var differences = new List<string>();
        foreach (var (query, inferred) in queries.Zip(kusto))
        {
            Compare(query.Id, workspace.Run(query.Text, KqlTestKit.Now), inferred, differences);
        }

        Assert.Empty(differences);
    }

    private static void Compare(string id, DataTable result, KustoResult inferred, List<string> differences)
    {
        var ours = result.Columns.Select(c => $"{c.Name}:{c.Type}").ToList();
        if (inferred.Errors.Count > 0 || inferred.Columns is null || !ours.SequenceEqual(inferred.Columns))
        {
            differences.Add($"{id}: executor [{string.Join(", ", ours)}], Kusto.Language [{string.Join(", ", inferred.Columns ?? [])}] {string.Join("; ", inferred.Errors)}");
        }
    }
}
