using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Tables;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Elastic;
using KeyAbuseContent.Tests.Golden;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>
/// The azure_openai source: Log Analytics rows dispatched by their Type to their tables, bad rows reported, and API
/// Management's gateway rows joined with the SequenceNumber 0 row of their LLM log on both targets.
/// </summary>
public sealed class AzureOpenAiSourceTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "keyabuse-azure-" + Guid.NewGuid().ToString("N"));

    public AzureOpenAiSourceTests() => Directory.CreateDirectory(Path.Combine(_folder, "raw"));

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private const string Gateway = """{"TimeGenerated":"2026-11-27T09:00:11.0000000Z","Type":"ApiManagementGatewayLogs","OperationId":"ChatCompletions_Create","ResponseCode":200,"CallerIpAddress":"203.0.113.10","TotalTime":850,"ApimSubscriptionId":"sub-a","CorrelationId":"c1"}""";

    private const string Activity = """{"TimeGenerated":"2026-11-27T09:02:05.0000000Z","Type":"AzureActivity","OperationNameValue":"MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION","ResourceProviderValue":"MICROSOFT.COGNITIVESERVICES","Caller":"dana@example.com","CallerIpAddress":"198.51.100.7"}""";

    private static string Llm(int sequence, int prompt) =>
        $$"""{"TimeGenerated":"2026-11-27T09:00:1{{sequence}}.0000000Z","Type":"ApiManagementGatewayLlmLog","CorrelationId":"c1","SequenceNumber":{{sequence}},"ModelName":"gpt-4o-mini","PromptTokens":{{prompt}},"CompletionTokens":50,"TotalTokens":{{prompt + 50}}}""";

    private void Raw(params string[] lines) => File.WriteAllText(Path.Combine(_folder, "raw", "azure_openai.jsonl"), string.Join("\n", lines) + "\n");

    [Fact]
    public void EachRowIsDispatchedToTheTableItsTypeNames()
    {
        Raw(Gateway, Llm(0, 100), Activity);
        var sources = DatasetLoader.Load(_folder).Raw.Select(r => r.Source.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["azure_openai_activity", "azure_openai_apim", "azure_openai_apim_llm"], sources);
    }

    [Fact]
    public void ARowOfAnUnknownTypeIsReportedWithFileLineAndReasonAndTheRestLoads()
    {
        Raw(Gateway, Gateway.Replace("ApiManagementGatewayLogs", "SigninLogs", StringComparison.Ordinal), Activity);
        var dataset = DatasetLoader.Load(_folder);
        Assert.Equal(2, dataset.Raw.Length);
        var problem = Assert.Single(dataset.Problems);
        Assert.EndsWith("azure_openai.jsonl", problem.File, StringComparison.Ordinal);
        Assert.Equal(2, problem.Line);
        Assert.StartsWith("not a row this source reads (Type 'SigninLogs'): expected Type 'AzureDiagnostics'", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAzureDiagnosticsRowOfAnotherCategoryIsNotReadAsARequest()
    {
        Raw("""{"TimeGenerated":"2026-11-27T09:00:00Z","Type":"AzureDiagnostics","ResourceProvider":"MICROSOFT.COGNITIVESERVICES","Category":"Trace","Resource":"A","OperationName":"x","ResultSignature":"200","CorrelationId":"c"}""");
        var problem = Assert.Single(DatasetLoader.Load(_folder).Problems);
        Assert.Contains("Category 'Trace'", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARowWithoutTypeIsReportedAsMissingIt()
    {
        Raw(Gateway.Replace("\"Type\":\"ApiManagementGatewayLogs\",", "", StringComparison.Ordinal));
        Assert.Equal("missing field 'Type' (a string naming the record's table)", Assert.Single(DatasetLoader.Load(_folder).Problems).Message);
    }

    [Fact]
    public void ARowMissingARequiredFieldOfItsTableIsReportedByThatField()
    {
        Raw(Llm(0, 100).Replace("\"SequenceNumber\":0,", "", StringComparison.Ordinal), Gateway);
        var dataset = DatasetLoader.Load(_folder);
        Assert.Single(dataset.Raw);
        Assert.Equal("missing field 'SequenceNumber' (a number)", Assert.Single(dataset.Problems).Message);
    }

    [Fact]
    public void AMaskedCallerAddressIsAnAddressNotAProblem()
    {
        Raw("""{"TimeGenerated":"2026-11-27T09:00:00Z","Type":"AzureDiagnostics","ResourceProvider":"MICROSOFT.COGNITIVESERVICES","Category":"RequestResponse","Resource":"A","OperationName":"ChatCompletions_Create","ResultSignature":"200","CorrelationId":"c","CallerIPAddress":"81.2.69.***"}""");
        var dataset = DatasetLoader.Load(_folder);
        Assert.Empty(dataset.Problems);
        Assert.Equal("81.2.69.0", ParserGoldenTests.Elastic(RawSources.AzureOpenAiRequests, dataset).Rows.Single()[4]);
    }

    private static long Tokens(DataTable table, string column)
    {
        var i = table.IndexOf(column);
        return table.Rows.Sum(r => Convert.ToInt64(r[i], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The recorded dataset's LLM log: its rows' tokens by sequence number.</summary>
    private static (long Row0, long Later) LlmTokens(Dataset dataset)
    {
        var llm = dataset.Raw.Where(r => r.Source == RawSources.AzureApimLlmLog).ToList();
        long Sum(IEnumerable<RawRecord> rows) => rows.Sum(r => r.Json["PromptTokens"]!.GetValue<long>() + r.Json["CompletionTokens"]!.GetValue<long>());
        return (Sum(llm.Where(r => r.Json["SequenceNumber"]!.GetValue<int>() == 0)), Sum(llm.Where(r => r.Json["SequenceNumber"]!.GetValue<int>() > 0)));
    }

    private static Dataset Recorded() => DatasetLoader.Load(Path.Combine(TestPaths.TestData, "vendor", RawSources.AzureOpenAiFile));

    [Fact]
    public void TheSentinelParserCountsOnlySequenceNumberZeroTokens()
    {
        var dataset = Recorded();
        var (row0, later) = LlmTokens(dataset);
        Assert.True(later > 0, "the recorded dataset has LLM log rows after SequenceNumber 0 with tokens");
        Assert.Equal(row0, Tokens(ParserGoldenTests.Sentinel(RawSources.AzureOpenAiApim, dataset), "TotalTokens"));
    }

    [Fact]
    public void TheElasticJoinCountsOnlySequenceNumberZeroTokens()
    {
        var dataset = Recorded();
        var (row0, later) = LlmTokens(dataset);
        Assert.True(later > 0, "the recorded dataset has LLM log rows after SequenceNumber 0 with tokens");
        var table = ParserGoldenTests.Elastic(RawSources.AzureOpenAiApim, dataset);
        Assert.Equal(row0, Tokens(table, "gen_ai.usage.input_tokens") + Tokens(table, "gen_ai.usage.output_tokens"));
    }

    [Fact]
    public void AGatewayRowWithoutAnLlmLogHasNoTokensOnEitherTarget()
    {
        Raw(Gateway);
        var dataset = DatasetLoader.Load(_folder);
        Assert.Equal(0L, Tokens(ParserGoldenTests.Sentinel(RawSources.AzureOpenAiApim, dataset), "TotalTokens"));
        var elastic = ParserGoldenTests.Elastic(RawSources.AzureOpenAiApim, dataset);
        Assert.Equal("sub-a", elastic.Rows.Single()[elastic.IndexOf("keyabuse.key.id")]);
        Assert.Equal(0L, Tokens(elastic, "gen_ai.usage.input_tokens"));
    }

    [Fact]
    public void LlmLogRowsWithoutTheirGatewayRowAreNoRequests()
    {
        Raw(Llm(0, 100), Llm(1, 100));
        var dataset = DatasetLoader.Load(_folder);
        Assert.Empty(ParserGoldenTests.Sentinel(RawSources.AzureOpenAiApim, dataset).Rows);
        Assert.DoesNotContain(ParserGoldenTests.Elastic(RawSources.AzureOpenAiApim, dataset).Rows, r => r[0] is not null);
    }

    private const string Audit = """{"TimeGenerated":"2026-11-27T09:02:05.0000000Z","Type":"AzureDiagnostics","ResourceProvider":"MICROSOFT.COGNITIVESERVICES","Category":"Audit","Resource":"CONTOSO-OPENAI-PROD","ResourceGroup":"RG-LLM-PROD","OperationName":"ListKey","CallerIPAddress":"","properties_s":"{\"objectId\":\"5d1e8a7c-0000-4000-8000-0000000000d1\"}"}""";

    [Fact]
    public void AnAuditRowIsAKeyReadOfTheAccountByItsPrincipalOnBothTargets()
    {
        Raw(Audit);
        var dataset = DatasetLoader.Load(_folder);
        Assert.Empty(dataset.Problems);
        var sentinel = ParserGoldenTests.Sentinel(RawSources.AzureOpenAiAudit, dataset);
        var elastic = ParserGoldenTests.Elastic(RawSources.AzureOpenAiAudit, dataset);
        foreach (var (table, field) in new[] { (sentinel, (Func<SourceField, string>)(f => f.Kql)), (elastic, f => f.Esql) })
        {
            var row = Assert.Single(table.Rows);
            string? Value(string name) => row[table.IndexOf(field(Sources.Audit.Field(name)!))]?.ToString();
            Assert.Equal("api_key.listed", Value("event_type"));
            Assert.Equal("CONTOSO-OPENAI-PROD", Value("key_id"));
            Assert.Equal("5d1e8a7c-0000-4000-8000-0000000000d1", Value("actor"));
            Assert.Equal("azure_openai", Value("provider"));
        }
    }

    [Fact]
    public void AnAuditRowIsNotARequest()
    {
        Raw(Audit);
        var dataset = DatasetLoader.Load(_folder);
        Assert.Equal(["azure_openai_audit"], dataset.Raw.Select(r => r.Source.Name));
        Assert.Empty(ParserGoldenTests.Sentinel(RawSources.AzureOpenAiRequests, dataset).Rows);
    }

    [Fact]
    public void AnAuditOperationOtherThanListKeyKeepsItsVendorName()
    {
        Raw(Audit.Replace("\"ListKey\"", "\"RegenerateKey\"", StringComparison.Ordinal));
        var dataset = DatasetLoader.Load(_folder);
        var sentinel = ParserGoldenTests.Sentinel(RawSources.AzureOpenAiAudit, dataset);
        var elastic = ParserGoldenTests.Elastic(RawSources.AzureOpenAiAudit, dataset);
        Assert.Equal("RegenerateKey", sentinel.Rows.Single()[sentinel.IndexOf("EventType")]);
        Assert.Equal("RegenerateKey", elastic.Rows.Single()[elastic.IndexOf("event.action")]);
    }

    [Fact]
    public void ThePivotTransformEmulationRefusesAnAggregationItDoesNotKnow()
    {
        var transform = ElasticRawJoins.Transform(RawSources.AzureOpenAiApim);
        transform["pivot"]!["aggregations"]![ElasticRawJoins.OwnAggregation] = JsonNode.Parse("""{"max":{"field":"x"}}""");
        Assert.Throws<NotSupportedException>(() => new PivotTransform("t", transform));
    }
}
