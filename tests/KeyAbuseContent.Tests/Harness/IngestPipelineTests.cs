using System.Text.Json.Nodes;
using KeyAbuseContent.Harness.Tables;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Elastic;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>The ingest-pipeline emulation: each processor as Elasticsearch documents it, and nothing else.</summary>
public class IngestPipelineTests
{
    private static JsonObject Run(string processors, JsonObject doc)
    {
        new IngestPipeline("test", JsonNode.Parse($$"""{"processors":{{processors}}}""")!.AsObject()).Run(doc);
        return doc;
    }

    private static JsonObject Doc(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void JsonParsesAFieldIntoATarget()
    {
        var doc = Run("""[{"json":{"field":"message","target_field":"r"}}]""", Doc("""{"message":"{\"a\":{\"b\":1}}"}"""));
        Assert.Equal(1, IngestPipeline.Get(doc, "r.a.b")!.GetValue<int>());
    }

    [Fact]
    public void SetCopiesFromADottedPathIntoNestedObjects()
    {
        var doc = Run("""[{"set":{"field":"user.name","copy_from":"r.who"}}]""", Doc("""{"r":{"who":"dana"}}"""));
        Assert.Equal("dana", doc["user"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void SetWithIgnoreEmptyValueSkipsAMissingSource()
    {
        var doc = Run("""[{"set":{"field":"x","copy_from":"missing","ignore_empty_value":true}}]""", Doc("{}"));
        Assert.Null(doc["x"]);
    }

    [Fact]
    public void SetCopyFromAMissingFieldFailsWithoutIgnoreEmptyValue() =>
        Assert.Throws<IngestFailureException>(() => Run("""[{"set":{"field":"x","copy_from":"missing"}}]""", Doc("{}")));

    [Fact]
    public void SetWithoutOverrideKeepsAnExistingValue()
    {
        var doc = Run("""[{"set":{"field":"x","value":"200","override":false}}]""", Doc("""{"x":"429"}"""));
        Assert.Equal("429", doc["x"]!.GetValue<string>());
    }

    [Fact]
    public void SetValueTemplatesReadFields()
    {
        var doc = Run("""[{"set":{"field":"x","value":"{{{a.b}}}-{{c}}"}}]""", Doc("""{"a":{"b":"one"},"c":2}"""));
        Assert.Equal("one-2", doc["x"]!.GetValue<string>());
    }

    [Fact]
    public void GsubReplacesWithAnAnchoredPattern()
    {
        var doc = Run("""[{"gsub":{"field":"x","pattern":"^ThrottlingException$","replacement":"429"}}]""", Doc("""{"x":"ThrottlingException"}"""));
        Assert.Equal("429", doc["x"]!.GetValue<string>());
    }

    [Fact]
    public void GsubIgnoresAMissingFieldWhenAsked()
    {
        var doc = Run("""[{"gsub":{"field":"x","pattern":"a","replacement":"b","ignore_missing":true}}]""", Doc("{}"));
        Assert.Null(doc["x"]);
    }

    [Fact]
    public void ConvertTurnsDigitsIntoALong()
    {
        var doc = Run("""[{"convert":{"field":"x","type":"long"}}]""", Doc("""{"x":"1200"}"""));
        Assert.Equal(1200L, doc["x"]!.GetValue<long>());
    }

    [Fact]
    public void ConvertToIpRejectsANonAddress() =>
        Assert.Throws<IngestFailureException>(() => Run("""[{"convert":{"field":"x","type":"ip"}}]""", Doc("""{"x":"bedrock.amazonaws.com"}""")));

    [Fact]
    public void DateWritesMillisecondPrecisionUtc()
    {
        var doc = Run("""[{"date":{"field":"t","formats":["ISO8601"]}}]""", Doc("""{"t":"2026-11-23T10:00:00.1234567+01:00"}"""));
        Assert.Equal("2026-11-23T09:00:00.123Z", doc["@timestamp"]!.GetValue<string>());
    }

    [Fact]
    public void DateReadsUnixSeconds()
    {
        var doc = Run("""[{"date":{"field":"t","target_field":"when","formats":["UNIX"]}}]""", Doc("""{"t":1764496800}"""));
        Assert.Equal("2025-11-30T10:00:00.000Z", doc["when"]!.GetValue<string>());
    }

    [Fact]
    public void RenameMovesAField()
    {
        var doc = Run("""[{"rename":{"field":"a.b","target_field":"c"}}]""", Doc("""{"a":{"b":1}}"""));
        Assert.Equal(1, doc["c"]!.GetValue<int>());
        Assert.Null(IngestPipeline.Get(doc, "a.b"));
    }

    [Fact]
    public void RemoveDeletesFields()
    {
        var doc = Run("""[{"remove":{"field":["a","b.c"],"ignore_missing":true}}]""", Doc("""{"a":1,"b":{"c":2,"d":3}}"""));
        Assert.Null(doc["a"]);
        Assert.Equal(3, IngestPipeline.Get(doc, "b.d")!.GetValue<int>());
    }

    [Fact]
    public void AScriptProcessorIsRefused() =>
        Assert.Throws<NotSupportedException>(() => new IngestPipeline("p", Doc("""{"processors":[{"script":{"source":"ctx.x = 1"}}]}""")));

    [Fact]
    public void AConditionIsRefused() =>
        Assert.Throws<NotSupportedException>(() => new IngestPipeline("p", Doc("""{"processors":[{"set":{"field":"x","value":"1","if":"ctx.y != null"}}]}""")));

    [Fact]
    public void EveryShippedPipelineIsOneTheEmulatorRuns()
    {
        foreach (var source in RawSources.All)
        {
            _ = new IngestPipeline(source.ElasticPipeline, ElasticIngestPipelines.Pipeline(source), new GeoEnrichment([]));
        }
    }

    [Fact]
    public void ALookupTranslatesListedValuesAndTheRestToItsDefault()
    {
        var pipeline = new IngestPipeline("p", ElasticIngestPipelines.Pipeline(RawSources.BedrockInvocation), new GeoEnrichment([]));
        string Status(string? error)
        {
            var record = new JsonObject
            {
                ["timestamp"] = "2026-11-23T09:00:00Z",
                ["identity"] = new JsonObject { ["arn"] = "a" },
                ["modelId"] = "m",
                ["operation"] = "Converse",
                ["requestId"] = "r",
            };
            if (error is not null)
            {
                record["errorCode"] = error;
            }
            var doc = new JsonObject { ["message"] = record.ToJsonString() };
            pipeline.Run(doc);
            return IngestPipeline.Get(doc, "http.response.status_code")!.ToJsonString();
        }
        Assert.Equal(["200", "429", "403", "500"], [Status(null), Status("ThrottlingException"), Status("AccessDeniedException"), Status("SomethingNewException")]);
    }

    [Fact]
    public void AConditionOnAFieldRunsTheProcessorWhenItHoldsTheText()
    {
        var doc = Run("""[{"set":{"field":"x","value":"y","if":"ctx.a?.b == 'Audit'"}}]""", Doc("""{"a":{"b":"Audit"}}"""));
        Assert.Equal("y", IngestPipeline.Get(doc, "x")!.GetValue<string>());
    }

    [Fact]
    public void AConditionOnAMissingParentIsFalseNotAFailure()
    {
        var doc = Run("""[{"set":{"field":"x","value":"y","if":"ctx.a?.b == 'Audit'"}}]""", Doc("""{"c":1}"""));
        Assert.Null(IngestPipeline.Get(doc, "x"));
    }

    [Fact]
    public void ANotEqualConditionIsTrueForAMissingField()
    {
        var doc = Run("""[{"set":{"field":"x","value":"y","if":"ctx.a?.b != 'Audit'"}}]""", Doc("""{}"""));
        Assert.Equal("y", IngestPipeline.Get(doc, "x")!.GetValue<string>());
    }

    [Fact]
    public void AConditionComparesANumberWithTextAsUnequal()
    {
        var doc = Run("""[{"set":{"field":"x","value":"y","if":"ctx.a == '200'"}}]""", Doc("""{"a":200}"""));
        Assert.Null(IngestPipeline.Get(doc, "x"));
    }

    [Fact]
    public void AConditionWithoutNullSafeAccessIsRefused() =>
        Assert.Throws<NotSupportedException>(() => new IngestPipeline("p", Doc("""{"processors":[{"set":{"field":"x","value":"1","if":"ctx.a.b == 'c'"}}]}""")));

    [Fact]
    public void UppercaseWritesTheFieldInUpperCase()
    {
        var doc = Run("""[{"uppercase":{"field":"a"}}]""", Doc("""{"a":"obs-openai-01"}"""));
        Assert.Equal("OBS-OPENAI-01", IngestPipeline.Get(doc, "a")!.GetValue<string>());
    }

    private static IngestPipeline Calling(string inner, bool ignoreMissing = false)
    {
        var called = new IngestPipeline("inner", Doc($$"""{"processors":{{inner}}}"""));
        var flag = ignoreMissing ? "true" : "false";
        return new IngestPipeline("outer", Doc($$$"""{"processors":[{"pipeline":{"name":"inner","ignore_missing_pipeline":{{{flag}}}}},{"set":{"field":"after","value":"1"}}]}"""),
            pipelines: n => n == "inner" ? called : null);
    }

    [Fact]
    public void APipelineProcessorRunsTheNamedPipeline()
    {
        var doc = Doc("{}");
        Calling("""[{"set":{"field":"x","value":"1"}}]""").Run(doc);
        Assert.NotNull(IngestPipeline.Get(doc, "x"));
    }

    [Fact]
    public void APipelineProcessorFailsOnAMissingPipeline() =>
        Assert.Throws<IngestFailureException>(() => new IngestPipeline("outer", Doc("""{"processors":[{"pipeline":{"name":"nowhere"}}]}"""), pipelines: _ => null).Run(Doc("{}")));

    [Fact]
    public void APipelineProcessorIgnoresAMissingPipelineWhenAsked()
    {
        var doc = Doc("{}");
        new IngestPipeline("outer", Doc("""{"processors":[{"pipeline":{"name":"nowhere","ignore_missing_pipeline":true}},{"set":{"field":"x","value":"1"}}]}"""), pipelines: _ => null).Run(doc);
        Assert.NotNull(IngestPipeline.Get(doc, "x"));
    }

    [Fact]
    public void RerouteNamesTheNewDataStreamKeepingTheNamespace()
    {
        var doc = Doc("""{"event":{"dataset":"azure_openai.logs"}}""");
        var outcome = new IngestPipeline("p", Doc("""{"processors":[{"reroute":{"dataset":"keyabuse.audit"}}]}""")).Run(doc, "logs-azure_openai.logs-prod");
        Assert.Equal("logs-keyabuse.audit-prod", outcome.Rerouted);
    }

    [Fact]
    public void RerouteUpdatesDataStreamFieldsAndEventDataset()
    {
        var doc = Doc("""{"event":{"dataset":"azure_openai.logs"}}""");
        new IngestPipeline("p", Doc("""{"processors":[{"reroute":{"dataset":"keyabuse.audit"}}]}""")).Run(doc, "logs-azure_openai.logs-prod");
        Assert.Equal(["keyabuse.audit", "keyabuse.audit", "prod"], [
            IngestPipeline.Get(doc, "data_stream.dataset")!.GetValue<string>(),
            IngestPipeline.Get(doc, "event.dataset")!.GetValue<string>(),
            IngestPipeline.Get(doc, "data_stream.namespace")!.GetValue<string>()]);
    }

    [Fact]
    public void RerouteInACalledPipelineSkipsTheRestOfTheCaller()
    {
        var doc = Doc("{}");
        var outcome = Calling("""[{"reroute":{"dataset":"other"}},{"set":{"field":"x","value":"1"}}]""").Run(doc, "logs-a-default");
        Assert.Equal("logs-other-default", outcome.Rerouted);
        Assert.Null(IngestPipeline.Get(doc, "x"));
        Assert.Null(IngestPipeline.Get(doc, "after"));
    }

    [Fact]
    public void RerouteFromANameOutsideTheNamingSchemeFails() =>
        Assert.Throws<IngestFailureException>(() => new IngestPipeline("p", Doc("""{"processors":[{"reroute":{"dataset":"x"}}]}""")).Run(Doc("{}"), "my-index"));

    [Fact]
    public void EveryShippedIntegrationPipelineIsOneTheEmulatorRuns()
    {
        foreach (var integration in ElasticIntegrations.All)
        {
            _ = new IngestPipeline(integration.MappingPipeline, ElasticIntegrations.MappingPipeline(integration), new GeoEnrichment([]));
            _ = new IngestPipeline(integration.CustomPipeline, ElasticIntegrations.CustomPipeline(integration.Dataset), new GeoEnrichment([]), _ => null);
        }
    }
}
