using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Tables;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Elastic;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>
/// Elastic's own Amazon Bedrock and Azure OpenAI integrations: their documents (field names of the integrations'
/// pipelines, typed here by hand) through the pack's shipped @custom pipelines give the normalized fields the rules
/// read, in the stream the rules read, and the same normalized event as the raw-line pipeline for the same record.
/// </summary>
public class ElasticIntegrationTests
{
    private static readonly GeoEnrichment NoRanges = new([]);

    private static JsonObject Doc(string json) => JsonNode.Parse(json)!.AsObject();

    /// <summary>An integration document through its data stream's @custom pipeline; returns where it landed.</summary>
    private static string Ingest(ElasticIntegration integration, JsonObject doc)
    {
        var sentTo = IntegrationDocuments.DataStream(integration);
        return RawTables.IntegrationPipelines(NoRanges)[integration.CustomPipeline].Run(doc, sentTo).Rerouted ?? sentTo;
    }

    private static string? Field(JsonObject doc, string path) => IngestPipeline.Get(doc, path) switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        var n => n.ToJsonString(),
    };

    private const string Bedrock = """
        {"@timestamp":"2026-11-23T09:00:00.000Z","event":{"action":"Converse","dataset":"aws_bedrock.invocation"},
         "user":{"id":"arn:aws:sts::111122223333:assumed-role/chat/i-1"},
         "aws_bedrock":{"invocation":{"model_id":"anthropic.claude-3-haiku","request_id":"r-1"}},
         "gen_ai":{"model":{"id":"anthropic.claude-3-haiku"},"request":{"id":"r-1"},"usage":{"prompt_tokens":800,"completion_tokens":150}}}
        """;

    private static JsonObject BedrockNormalized(Action<JsonObject>? edit = null)
    {
        var doc = Doc(Bedrock);
        edit?.Invoke(doc);
        Ingest(ElasticIntegrations.BedrockInvocation, doc);
        return doc;
    }

    [Fact]
    public void BedrockKeyIsTheCallersArnTheIntegrationWritesAsUserId() =>
        Assert.Equal("arn:aws:sts::111122223333:assumed-role/chat/i-1", Field(BedrockNormalized(), "keyabuse.key.id"));

    [Fact]
    public void BedrockModelIsTheIntegrationsGenAiModelId() =>
        Assert.Equal("anthropic.claude-3-haiku", Field(BedrockNormalized(), "gen_ai.request.model"));

    [Fact]
    public void BedrockPromptAndCompletionTokensBecomeInputAndOutputTokens()
    {
        var doc = BedrockNormalized();
        Assert.Equal("800|150", $"{Field(doc, "gen_ai.usage.input_tokens")}|{Field(doc, "gen_ai.usage.output_tokens")}");
    }

    [Fact]
    public void BedrockTokensTheIntegrationDroppedAsEmptyAreZero()
    {
        var doc = BedrockNormalized(d => d["gen_ai"]!.AsObject().Remove("usage"));
        Assert.Equal("0|0", $"{Field(doc, "gen_ai.usage.input_tokens")}|{Field(doc, "gen_ai.usage.output_tokens")}");
    }

    [Fact]
    public void BedrockOperationIsNormalizedFromEventAction() =>
        Assert.Equal("chat", Field(BedrockNormalized(), "gen_ai.operation.name"));

    [Fact]
    public void BedrockStatusIsTheErrorCodesHttpStatus() =>
        Assert.Equal("429", Field(BedrockNormalized(d => d["gen_ai"]!["response"] = new JsonObject { ["error_code"] = "ThrottlingException" }), "http.response.status_code"));

    [Fact]
    public void BedrockStatusIs200WithoutAnErrorCode() =>
        Assert.Equal("200", Field(BedrockNormalized(), "http.response.status_code"));

    [Fact]
    public void BedrockDocumentsStayInTheIntegrationsDataStream() =>
        Assert.Equal("logs-aws_bedrock.invocation-default", Ingest(ElasticIntegrations.BedrockInvocation, Doc(Bedrock)));

    private const string AzureRequest = """
        {"@timestamp":"2026-11-27T09:07:23.000Z","event":{"dataset":"azure_openai.logs","duration":0,"duration_original":900},
         "azure":{"resource":{"name":"contoso-openai-prod"},
          "open_ai":{"category":"RequestResponse","operation_name":"ChatCompletions_Create","result_signature":"200",
           "caller_ip_address":"81.2.69.***","correlation_id":"c-1",
           "properties":{"object_id":"","model_name":"gpt-4o-mini","model_deployment_name":"chat-mini"}}}}
        """;

    private static JsonObject AzureNormalized(Action<JsonObject>? edit = null)
    {
        var doc = Doc(AzureRequest);
        edit?.Invoke(doc);
        Ingest(ElasticIntegrations.AzureOpenAiRequests, doc);
        return doc;
    }

    private static JsonObject OpenAi(JsonObject doc) => doc["azure"]!["open_ai"]!.AsObject();

    [Fact]
    public void AzureKeyIsTheAccountNameInUpperCaseAsLogAnalyticsWritesIt() =>
        Assert.Equal("CONTOSO-OPENAI-PROD", Field(AzureNormalized(), "keyabuse.key.id"));

    [Fact]
    public void AzureKeyIsTheEntraObjectIdWhenTheCallerUsedAToken() =>
        Assert.Equal("5d1e8a7c-0000-4000-8000-0000000000d1", Field(AzureNormalized(d => OpenAi(d)["properties"]!["object_id"] = "5d1e8a7c-0000-4000-8000-0000000000d1"), "keyabuse.key.id"));

    [Fact]
    public void AzureMaskedCallerAddressIsItsSlash24() =>
        Assert.Equal("81.2.69.0", Field(AzureNormalized(), "source.ip"));

    [Fact]
    public void AzureModelIsTheModelNameBeforeTheDeployment() =>
        Assert.Equal("gpt-4o-mini", Field(AzureNormalized(), "gen_ai.request.model"));

    [Fact]
    public void AzureLatencyIsTheDiagnosticsOwnMillisecondsWhenTheIntegrationRecomputedTheDuration() =>
        Assert.Equal("900", Field(AzureNormalized(), "keyabuse.latency_ms"));

    [Fact]
    public void AzureLatencyIsTheDurationInMillisecondsOtherwise() =>
        Assert.Equal("1021", Field(AzureNormalized(d =>
        {
            d["event"]!.AsObject().Remove("duration_original");
            d["event"]!["duration"] = 1_021_000_000L;
        }), "keyabuse.latency_ms"));

    [Fact]
    public void AzureRequestsStayInTheIntegrationsDataStream() =>
        Assert.Equal("logs-azure_openai.logs-default", Ingest(ElasticIntegrations.AzureOpenAiRequests, Doc(AzureRequest)));

    private static JsonObject AzureAudit() => Doc("""
        {"@timestamp":"2026-11-27T09:02:05.000Z","event":{"dataset":"azure_openai.logs"},
         "azure":{"resource":{"name":"contoso-openai-prod"},
          "open_ai":{"category":"Audit","operation_name":"ListKey","caller_ip_address":"","properties":{"object_id":"5d1e8a7c-0000-4000-8000-0000000000d1"}}}}
        """);

    [Fact]
    public void AzureAuditRowsAreReroutedToThePacksAuditStream() =>
        Assert.Equal("logs-keyabuse.audit-default", Ingest(ElasticIntegrations.AzureOpenAiAudit, AzureAudit()));

    [Fact]
    public void AzureAuditListKeyIsNormalizedToApiKeyListed()
    {
        var doc = AzureAudit();
        Ingest(ElasticIntegrations.AzureOpenAiAudit, doc);
        Assert.Equal("api_key.listed", Field(doc, "event.action"));
    }

    [Fact]
    public void AzureAuditRowsGetNoActivityFields()
    {
        var doc = AzureAudit();
        Ingest(ElasticIntegrations.AzureOpenAiAudit, doc);
        Assert.Null(Field(doc, "gen_ai.operation.name"));
    }

    [Fact]
    public void AnAzureDocumentOfAnotherCategoryGetsNoNormalizedFields()
    {
        var doc = AzureNormalized(d => OpenAi(d)["category"] = "Trace");
        Assert.Null(Field(doc, "keyabuse.key.id"));
    }

    /// <summary>A document's normalized fields (the source's own, @timestamp among them) as text, missing and empty alike.</summary>
    private static JsonObject Normalized(JsonObject doc, RawSource source)
    {
        var result = new JsonObject { ["@timestamp"] = Field(doc, "@timestamp") };
        foreach (var f in source.Target.Fields.Where(f => f.Name is not ("time" or "tokens")))
        {
            result[f.Esql] = Field(doc, f.Esql) is { Length: > 0 } s ? s : null;
        }
        return result;
    }

    public static TheoryData<string> IntegrationSources() => [.. ElasticIntegrations.All.Select(i => i.Source.Name)];

    /// <summary>
    /// Every record of the source's recorded-format dataset: the integration's document through the @custom pipeline
    /// gives the same normalized event as the raw line through the pack's raw-line pipeline.
    /// </summary>
    [Theory]
    [MemberData(nameof(IntegrationSources))]
    public void AnIntegrationDocumentNormalizesLikeTheRawLineOfTheSameRecord(string name)
    {
        var source = RawSources.Named(name)!;
        var integration = ElasticIntegrations.For(source)!;
        var dataset = DatasetLoader.Load(Path.Combine(TestPaths.TestData, "vendor", source.RawFile));
        var raw = new IngestPipeline(source.ElasticPipeline, ElasticIngestPipelines.Pipeline(source), NoRanges);
        var records = dataset.Raw.Where(r => r.Source == source).ToList();
        Assert.NotEmpty(records);
        foreach (var record in records)
        {
            var line = new JsonObject { ["message"] = record.Text };
            raw.Run(line, source.ElasticDataStream);
            var document = IntegrationDocuments.For(record)!;
            Ingest(integration, document);
            Assert.Equal(Normalized(line, source).ToJsonString(), Normalized(document, source).ToJsonString());
        }
    }

    /// <summary>A table's rows as text, without event.dataset (a rerouted row names its new dataset there, as Elasticsearch does).</summary>
    private static List<string> Rows(DataTable table)
    {
        var dataset = table.IndexOf("event.dataset");
        return [.. table.Rows.Select(r => string.Join('|', r.Where((_, i) => i != dataset).Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)))).Order(StringComparer.Ordinal)];
    }

    [Theory]
    [MemberData(nameof(IntegrationSources))]
    public void TheHarnessLoadsTheSameRowsThroughTheIntegrationAsThroughTheRawLines(string name)
    {
        var source = RawSources.Named(name)!;
        var dataset = DatasetLoader.Load(Path.Combine(TestPaths.TestData, "vendor", source.RawFile));
        var (viaIntegration, p1) = RawTables.Elastic(dataset, ElasticIngestPath.Integration);
        var (viaLines, p2) = RawTables.Elastic(dataset, ElasticIngestPath.RawLine);
        Assert.Empty(p1.Concat(p2));
        var integrationRows = Rows(viaIntegration[RawTables.ElasticStream(source, ElasticIngestPath.Integration)]);
        Assert.NotEmpty(integrationRows);
        Assert.Equal(Rows(viaLines[RawTables.ElasticStream(source, ElasticIngestPath.RawLine)]), integrationRows);
    }

    [Fact]
    public void TheActivityRulesReadEveryIntegrationStreamThatFeedsThem()
    {
        var indices = Sources.Activity.EsqlIndex.Split(',');
        Assert.All(ElasticIntegrations.StreamsFeeding(RuleSource.Activity), s => Assert.Contains(s, indices));
    }

    [Fact]
    public void TheAuditRulesReadTheStreamAuditRowsAreReroutedTo()
    {
        var indices = Sources.Audit.EsqlIndex.Split(',');
        Assert.All(ElasticIntegrations.All.Where(i => i.RerouteDataset is not null), i => Assert.Contains(indices, p => p.EndsWith('*') && $"logs-{i.RerouteDataset}-default".StartsWith(p[..^1], StringComparison.Ordinal)));
    }

    [Fact]
    public void EachIntegrationDataStreamGetsOneCustomPipelineAndOneComponentTemplate()
    {
        var paths = ElasticIntegrations.Requests().Select(r => r.Path).ToList();
        Assert.Equal(
            ["/_component_template/logs-aws_bedrock.invocation@custom", "/_component_template/logs-azure_openai.logs@custom", "/_ingest/pipeline/logs-aws_bedrock.invocation@custom", "/_ingest/pipeline/logs-azure_openai.logs@custom"],
            paths.Where(p => p.EndsWith("@custom", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    private static readonly string[] AzureKeys = ["callerIpAddress", "modelDeploymentName", "Tenant", "durationMs"];

    [Fact]
    public void IntegrationKeysAreSnakeCasedAsTheIntegrationDoes() =>
        Assert.Equal(["caller_ip_address", "model_deployment_name", "tenant", "duration_ms"], AzureKeys.Select(IntegrationDocuments.Snake));
}
