using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Cli;

/// <summary>The keyabuse program as a user runs it: output lines and exit codes.</summary>
public class CommandLineTests
{
    private static (int Exit, string Output) Run(string workingDirectory, params string[] args)
    {
        var result = Keyabuse.Run(workingDirectory, args);
        return (result.Exit, result.Output);
    }

    [Fact]
    public void ValidateReportsABrokenRuleAsFileLineColumnAndExitsOne()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold(where: "staus == 401"));
        var (exit, output) = Run(library.Root, "validate");
        Assert.Equal(1, exit);
        Assert.Contains("detections/auth/test-auth-burst.yaml:18:11: error KA1205: detect.where: 'staus' is not one of the activity event fields; did you mean 'status'? [test-auth-burst]", output, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildWritesTheBundleAndExitsZero()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold());
        var tools = Path.Combine(library.Root, "tools");
        Directory.CreateSymbolicLink(tools, Path.Combine(TestPaths.RepositoryRoot, "tools"));
        var (exit, output) = Run(library.Root, "build", "--out", "dist");
        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(library.Root, "dist", "elastic", "rules.ndjson")));
    }

    [Fact]
    public void RunWithEvidenceButNoResponseIsBadUsage()
    {
        var (exit, output) = Run(TestPaths.RepositoryRoot, "run", "--dataset", "test-data/volume/rpm-burst", "--evidence", "response.json");
        Assert.Equal(2, exit);
        Assert.Contains("--evidence records the response: it needs --respond", output, StringComparison.Ordinal);
    }

    [Fact]
    public void RespondOnADatasetWithoutLabelsIsBadInput()
    {
        var (exit, output) = Run(TestPaths.RepositoryRoot, "run", "--dataset", "test-data/inventory/stale-keys", "--respond");
        Assert.Equal(2, exit);
        Assert.Contains("--respond plays the analyst from the dataset's labels", output, StringComparison.Ordinal);
    }

    [Fact]
    public void RunReportsEachBadInputWithFileLineAndReasonCountsThemInItsSummaryAndRunsTheRest()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold());
        Directory.CreateSymbolicLink(Path.Combine(library.Root, "tools"), Path.Combine(TestPaths.RepositoryRoot, "tools"));
        var data = Path.Combine(library.Root, "data");
        Directory.CreateDirectory(Path.Combine(data, "raw"));
        File.WriteAllText(Path.Combine(data, "events.jsonl"), "{\"time\":\"2026-11-30T10:00:00Z\",\"key_id\":\"k1\",\"status\":200}\nnot json\n");
        File.WriteAllText(Path.Combine(data, "raw", "no_such_source.jsonl"), "{}\n");
        var (exit, output) = Run(library.Root, "run", "--dataset", "data");
        Assert.True(exit == 0, output);
        Assert.Contains("events.jsonl:2: not JSON", output, StringComparison.Ordinal);
        Assert.Contains("no_such_source.jsonl", output, StringComparison.Ordinal);
        Assert.Contains("2 input problem(s)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownOptionIsBadUsage() => Assert.Equal(2, Run(TestPaths.RepositoryRoot, "build", "--bogus").Exit);

    [Fact]
    public void AMissingRulesFolderIsBadInput()
    {
        var (exit, output) = Run(TestPaths.RepositoryRoot, "validate", "--rules", "no-such-folder");
        Assert.Equal(2, exit);
        Assert.Contains("the rules folder 'no-such-folder' does not exist", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("validate")]
    [InlineData("build")]
    [InlineData("coverage")]
    [InlineData("bundle")]
    public void EveryVerbHasHelpWithAnExample(string verb)
    {
        var (exit, output) = Run(TestPaths.RepositoryRoot, verb, "--help");
        Assert.Equal(0, exit);
        Assert.Contains("EXAMPLES:", output, StringComparison.Ordinal);
        Assert.Contains("keyabuse " + verb, output, StringComparison.Ordinal);
    }

    [Fact]
    public void QueryRunsEsqlOnAJsonLinesIndexAndPrintsJson()
    {
        var folder = Path.Combine(Path.GetTempPath(), "keyabuse-query-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var events = Path.Combine(folder, "events.jsonl");
            File.WriteAllText(events, """
                {"@timestamp":"2026-11-30T10:00:00Z","keyabuse.key.id":"k1","http.response.status_code":401}
                {"@timestamp":"2026-11-30T10:01:00Z","keyabuse.key.id":"k1","http.response.status_code":401}
                {"@timestamp":"2026-11-30T10:02:00Z","keyabuse.key.id":"k2","http.response.status_code":200}
                """);
            var (exit, output) = Run(folder, "query", "--lang", "esql", "--format", "json", "--table", "logs-x=" + events,
                "FROM logs-* | WHERE http.response.status_code IN (401, 403) | STATS n = COUNT(*) BY keyabuse.key.id");
            Assert.Equal(0, exit);
            Assert.Equal("""{"columns":[{"name":"n","type":"long"},{"name":"keyabuse.key.id","type":"keyword"}],"rows":[[2,"k1"]]}""", output.Trim());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void AQueryOnAnUnknownIndexIsBadInputWithItsPosition()
    {
        var (exit, output) = Run(TestPaths.RepositoryRoot, "query", "--lang", "esql", "FROM nope");
        Assert.Equal(2, exit);
        Assert.Contains("1:6", output, StringComparison.Ordinal);
    }

    [Fact]
    public void QueryRunsKqlOnACsvTableWithTheGivenClock()
    {
        var folder = Path.Combine(Path.GetTempPath(), "keyabuse-query-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var events = Path.Combine(folder, "events.csv");
            File.WriteAllText(events, "TimeGenerated:datetime,KeyId:string\n2026-11-30T09:30:00Z,k1\n2026-11-30T07:00:00Z,k1\n2026-11-30T09:45:00Z,k2\n");
            var (exit, output) = Run(folder, "query", "--format", "json", "--now", "2026-11-30T10:00:00Z", "--table", "Events=" + events,
                "Events | where TimeGenerated > ago(1h) | summarize n = count() by KeyId | sort by KeyId asc");
            Assert.Equal(0, exit);
            Assert.Equal("""{"columns":[{"name":"KeyId","type":"string"},{"name":"n","type":"long"}],"rows":[["k1",1],["k2",1]]}""", output.Trim());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
