using KeyAbuseContent.Validation.Kql;

namespace KeyAbuseContent.Tests.Validation;

// These tests run node on tools/kql-check/check.js. When node or the npm package is missing,
// Locate throws KqlCheckUnavailableException and they fail with its instructions; they never skip.
public sealed class KqlCheckTests
{
    private static readonly string RepoRoot = TestPaths.RepositoryRoot;

    private static readonly KqlTableSchema LlmActivity = new("LlmActivity_CL",
    [
        new KqlColumn("TimeGenerated", "datetime"),
        new KqlColumn("KeyId", "string"),
        new KqlColumn("Tokens", "long"),
    ]);

    private static readonly KqlDatabaseSchema ActivityOnly = new([LlmActivity], []);

    [Fact]
    public void A_valid_query_over_a_declared_table_has_no_errors()
    {
        var findings = Check(ActivityOnly, "LlmActivity_CL | where Tokens > 1000 | summarize Total = sum(Tokens) by KeyId, bin(TimeGenerated, 5m)");

        Assert.DoesNotContain(findings, f => f.IsError);
    }

    [Fact]
    public void An_unknown_column_is_KS142_at_its_offset()
    {
        var findings = Check(ActivityOnly, "LlmActivity_CL | where Nope == 1");

        var finding = Assert.Single(findings);
        Assert.Equal(("q", "Error", "KS142", 23, 4), (finding.Id, finding.Severity, finding.Code, finding.Start, finding.Length));
    }

    [Fact]
    public void A_call_to_a_declared_function_binds()
    {
        // KeyAbuseActivity is declared before the function it calls: the order of declaration does not matter.
        var schema = new KqlDatabaseSchema([LlmActivity],
        [
            new KqlFunctionSchema("KeyAbuseActivity", "()", "{ KeyAbuseActivityForKey('*') }"),
            new KqlFunctionSchema("KeyAbuseActivityForKey", "(keyId:string)", "{ LlmActivity_CL | where keyId == '*' or KeyId == keyId }"),
        ]);

        var findings = Check(schema, "KeyAbuseActivity() | where Tokens > 1000 | project TimeGenerated, KeyId");

        Assert.Empty(findings);
    }

    [Fact]
    public void A_called_function_whose_body_does_not_bind_is_only_a_KS512_warning()
    {
        var schema = new KqlDatabaseSchema([LlmActivity], [new KqlFunctionSchema("Broken", "()", "{ LlmActivity_CL | where Nope == 1 }")]);

        var findings = Check(schema, "Broken() | take 1");

        var finding = Assert.Single(findings);
        Assert.Equal(("Warning", "KS512"), (finding.Severity, finding.Code));
    }

    [Fact]
    public void A_watchlist_lookup_binds_when_GetWatchlist_is_declared()
    {
        var watchlist = SentinelTables().Single(t => t.Name == "Watchlist");
        var getWatchlist = new KqlFunctionSchema("_GetWatchlist", "(watchlistAlias:string)",
            "{ Watchlist | where WatchlistAlias == watchlistAlias and _DTItemStatus != 'Delete' | project SearchKey, WatchlistItem }");
        var schema = new KqlDatabaseSchema([LlmActivity, watchlist], [getWatchlist]);

        var findings = Check(schema, "LlmActivity_CL | where KeyId !in ((_GetWatchlist('x') | project SearchKey))");

        Assert.Empty(findings);
    }

    [Fact]
    public void Sentinels_AWSCloudTrail_table_from_the_reference_folder_binds()
    {
        var schema = new KqlDatabaseSchema(SentinelTables(), []);

        var findings = Check(schema, "AWSCloudTrail | where EventName == \"InvokeModel\"");

        Assert.Empty(findings);
    }

    [Fact]
    public void Two_hundred_queries_are_checked_in_one_call()
    {
        var queries = Enumerable.Range(0, 200)
            .Select(i => new KqlQueryToCheck($"rule-{i}/query", $"LlmActivity_CL | where KeyId == 'key-{i}' | summarize Tokens = sum(Tokens) by bin(TimeGenerated, 5m) | where Tokens > {i}"))
            .Append(new KqlQueryToCheck("rule-broken/query", "LlmActivity_CL | where Nope == 1"))
            .ToList();

        var findings = KustoLanguageService.Locate(RepoRoot).Check(ActivityOnly, queries);

        Assert.Equal("rule-broken/query", Assert.Single(findings).Id);
    }

    [Fact]
    public void A_column_type_that_is_not_KQL_fails_the_check_with_the_checkers_message()
    {
        var schema = new KqlDatabaseSchema([new KqlTableSchema("T", [new KqlColumn("c", "String")])], []);

        var error = Assert.Throws<KqlCheckFailedException>(() => Check(schema, "T"));

        Assert.Contains("'String' (column 'c' of 'T') is not a KQL scalar type", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Locate_outside_a_repository_names_what_is_missing_and_how_to_install_it()
    {
        var empty = Directory.CreateTempSubdirectory("kql-check-").FullName;
        try
        {
            var error = Assert.Throws<KqlCheckUnavailableException>(() => KustoLanguageService.Locate(empty));

            Assert.Contains("check.js does not exist", error.Message, StringComparison.Ordinal);
            Assert.Contains("npm ci --prefix tools/kql-check", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Theory]
    [InlineData("abc", 0, 1, 1)]
    [InlineData("abc", 2, 1, 3)]
    [InlineData("T\n| where x", 4, 2, 3)]
    [InlineData("T\r\n| where x", 5, 2, 3)]
    [InlineData("T\n\n| where x", 3, 3, 1)]
    [InlineData("abc", 99, 1, 4)]
    public void LineColumn_is_one_based_and_counts_each_line_break_once(string text, int offset, int line, int column)
    {
        Assert.Equal((line, column), KqlCheckFinding.LineColumn(text, offset));
    }

    [Fact]
    public void Sentinel_type_names_are_read_whatever_their_case()
    {
        var cloudTrail = SentinelTables().Single(t => t.Name == "AWSCloudTrail");

        Assert.Equal("datetime", cloudTrail.Columns.Single(c => c.Name == "TimeGenerated").Type);
    }

    [Fact]
    public void A_Sentinel_column_type_that_maps_to_no_KQL_type_is_refused()
    {
        var folder = Directory.CreateTempSubdirectory("sentinel-tables-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "T.json"), """{"Name": "T", "Properties": [{"Name": "c", "Type": "Varchar"}]}""");

            var error = Assert.Throws<InvalidDataException>(() => SentinelTableSchemas.Load(folder));

            Assert.Contains("column 'c' has type 'Varchar'", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static IReadOnlyList<KqlCheckFinding> Check(KqlDatabaseSchema schema, string query) =>
        KustoLanguageService.Locate(RepoRoot).Check(schema, [new KqlQueryToCheck("q", query)]);

    private static IReadOnlyList<KqlTableSchema> SentinelTables() =>
        SentinelTableSchemas.Load(Path.Combine(RepoRoot, "detections", "reference", "sentinel-tables"));
}
