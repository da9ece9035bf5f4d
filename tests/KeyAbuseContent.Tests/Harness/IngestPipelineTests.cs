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
}
