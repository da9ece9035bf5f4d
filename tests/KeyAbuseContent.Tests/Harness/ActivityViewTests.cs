using KeyAbuseContent.Build;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>
/// The Sentinel runs read the activity parser's output over the whole dataset, cut to their window, instead of parsing
/// their own window (<see cref="ActivityView"/>): the rows, their order, and so every result and alert must be those
/// of parsing each run's slice.
/// </summary>
public class ActivityViewTests
{
    private static readonly Lazy<PackBuild> Pack = new(() => new PackBuilder(TestPaths.RepositoryRoot, TestPaths.Detections).Build());

    /// <summary>A dataset of the pack's own events and the vendor logs of four activity sources, in one folder.</summary>
    private static Dataset Mixed(string folder)
    {
        var edge = Path.Combine(TestPaths.TestData, "edge", "clock-skew");
        foreach (var file in Directory.GetFiles(edge).Where(f => !f.EndsWith("README.md", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }
        Directory.CreateDirectory(Path.Combine(folder, "raw"));
        foreach (var source in new[] { "litellm", "bedrock_invocation", "otel_genai" })
        {
            foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.TestData, "vendor", source, "raw")))
            {
                File.Copy(file, Path.Combine(folder, "raw", Path.GetFileName(file)));
            }
        }
        // Azure OpenAI's diagnostics rows without API Management's (whose join makes each run parse its own slice).
        var azure = Path.Combine(TestPaths.TestData, "vendor", "azure_openai", "raw", "azure_openai.jsonl");
        File.WriteAllLines(Path.Combine(folder, "raw", "azure_openai.jsonl"), File.ReadLines(azure).Where(l => !l.Contains("\"Type\":\"ApiManagement", StringComparison.Ordinal)));
        return DatasetLoader.Load(folder);
    }

    private static string Runs(IEnumerable<RunResult> runs) =>
        string.Join("\n", runs.Select(r => $"{r.Rule} {r.ScheduledAt:O} {r.ExecutedAt:O} {string.Join(";", r.Rows.Rows.Select(row => string.Join("|", row)))}"));

    private static string Alerts(IEnumerable<Alert> alerts) =>
        string.Join("\n", alerts.Select(a => $"{a.Rule} {a.Time:O} {a.KeyId} {a.Title} {a.Evidence.ToJsonString()}"));

    [Fact]
    public void Every_run_of_the_library_gives_the_rows_and_alerts_of_parsing_its_own_slice()
    {
        Assert.True(Pack.Value.Succeeded, string.Join("\n", Pack.Value.Diagnostics));
        var folder = Directory.CreateTempSubdirectory("keyabuse-view-").FullName;
        try
        {
            var dataset = Mixed(folder);
            Assert.NotEmpty(dataset.Events);
            Assert.Equal(["azure_openai_requests", "bedrock_invocation", "litellm", "otel_genai"], dataset.Raw.Where(r => r.Source.Feeds == KeyAbuseContent.Rules.RuleSource.Activity).Select(r => r.Source.Name).Distinct().Order(StringComparer.Ordinal));

            var runner = new SentinelRunner(new RunOptions(), TestPaths.Detections);
            var viewed = runner.Run(Pack.Value.Rules, dataset, parity: true);
            Assert.True(runner.ReadActivityView);
            var parsed = new SentinelRunner(new RunOptions { ParseEachRun = true }, TestPaths.Detections).Run(Pack.Value.Rules, dataset, parity: true);

            Assert.Contains(parsed.Runs, r => r.Rows.Rows.Count > 0);
            Assert.Equal(Runs(parsed.Runs), Runs(viewed.Runs));
            Assert.Equal(Alerts(parsed.Alerts), Alerts(viewed.Alerts));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static readonly DateTime T0 = new(2026, 11, 2, 10, 0, 0, DateTimeKind.Utc);

    private static (Dictionary<string, DataTable> Tables, List<TimeSlices> Sliced, List<KqlFunction> Functions) Workspace(params (string Table, int Rows)[] filled)
    {
        var functions = new List<KqlFunction>
        {
            new("KeyAbuseActivity", [], "LlmActivity_CL | extend Doubled = Tokens * 2 | union AWSBedrockInvocation_CL | project TimeGenerated, KeyId, Doubled"),
        };
        var sliced = new List<TimeSlices>();
        foreach (var name in new[] { "LlmActivity_CL", "AWSBedrockInvocation_CL", "ApiManagementGatewayLogs" })
        {
            var count = filled.FirstOrDefault(f => f.Table == name).Rows;
            var rows = Enumerable.Range(0, count).Select(i => new object?[] { T0.AddMinutes(i), $"{name}-{i}", (long)i }).ToList();
            sliced.Add(new TimeSlices(new DataTable(name, [new("TimeGenerated", "datetime"), new("KeyId", "string"), new("Tokens", "long")], rows), "TimeGenerated"));
        }
        return (new Dictionary<string, DataTable>(StringComparer.Ordinal), sliced, functions);
    }

    [Fact]
    public void The_view_of_each_source_table_holds_its_parsed_rows_and_the_parser_reads_them_in_branch_order()
    {
        var (tables, sliced, functions) = Workspace(("LlmActivity_CL", 3), ("AWSBedrockInvocation_CL", 2));
        var engine = new KqlEngine();

        var view = ActivityView.Build(engine, tables, sliced, functions, T0);

        Assert.NotNull(view);
        Assert.Equal([3, 2], view.Value.Views.Select(v => v.Count));
        var runTables = new Dictionary<string, DataTable>(StringComparer.Ordinal);
        foreach (var v in view.Value.Views)
        {
            var slice = v.Slice(T0.AddMinutes(1), T0.AddMinutes(10));
            runTables[slice.Name] = slice;
        }
        var rows = engine.Execute("KeyAbuseActivity()", runTables, view.Value.Functions, T0).Table.Rows;
        Assert.Equal(["LlmActivity_CL-1|2", "LlmActivity_CL-2|4", "AWSBedrockInvocation_CL-1|"], rows.Select(r => $"{r[1]}|{r[2]}"));
    }

    [Fact]
    public void API_Management_rows_make_every_run_parse_its_own_slice()
    {
        var (tables, sliced, functions) = Workspace(("LlmActivity_CL", 3), ("ApiManagementGatewayLogs", 1));

        Assert.Null(ActivityView.Build(new KqlEngine(), tables, sliced, functions, T0));
    }

    [Fact]
    public void A_parser_that_reads_the_clock_makes_every_run_parse_its_own_slice()
    {
        var (tables, sliced, _) = Workspace(("LlmActivity_CL", 3));
        List<KqlFunction> functions = [new("KeyAbuseActivity", [], "LlmActivity_CL | where TimeGenerated > ago(1h)")];

        Assert.Null(ActivityView.Build(new KqlEngine(), tables, sliced, functions, T0));
    }
}
