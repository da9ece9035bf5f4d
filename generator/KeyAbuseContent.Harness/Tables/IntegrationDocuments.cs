using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Elastic;

namespace KeyAbuseContent.Harness.Tables;

/// <summary>
/// An emulation, written by us, of what Elastic's own integrations write for a vendor record before their default
/// pipeline calls its <c>@custom</c> pipeline: the fields of the integration's documented output, retyped from the
/// field names of its ingest pipeline in elastic/integrations (never its code or fixtures, which are under the
/// Elastic License 2.0). The harness cannot run the integrations' pipelines (Painless scripts, grok), and running
/// Elasticsearch is not what the harness does, so it builds the document they produce from the raw record, and
/// runs the pack's shipped <c>@custom</c> pipeline on it exactly. Versions read:
/// <c>packages/aws_bedrock/data_stream/invocation/elasticsearch/ingest_pipeline/default.yml</c> at 0105af99 and
/// <c>packages/azure_openai/data_stream/logs/elasticsearch/ingest_pipeline/default.yml</c> at 0ea45521 with
/// <c>azure-shared-pipeline.yml</c> at 65ab7766 (the resource id lower-cased, as the package's expected test output
/// at 07cc5ed1 shows). Only the fields named here are emulated; the integrations write more.
/// </summary>
public static class IntegrationDocuments
{
    /// <summary>The namespace Elastic Agent writes to unless the policy names another.</summary>
    public const string Namespace = "default";

    /// <summary>The data stream an integration's documents are written to.</summary>
    public static string DataStream(ElasticIntegration integration) => $"logs-{integration.Dataset}-{Namespace}";

    /// <summary>The integration's document for a raw record of its source (null for a source no integration emulated here collects).</summary>
    public static JsonObject? For(RawRecord record) => ElasticIntegrations.For(record.Source) switch
    {
        { } i when i.Package == "aws_bedrock" => BedrockInvocation(record.Json, i.Dataset),
        { } i when i.Package == "azure_openai" => AzureOpenAi(record.Json, i.Dataset),
        _ => null,
    };

    private static JsonObject DataStreamFields(string dataset) => new()
    {
        ["type"] = "logs",
        ["dataset"] = dataset,
        ["namespace"] = Namespace,
    };

    private static JsonNode? At(JsonObject json, string path) => RawRecordReader.Find(json, path)?.DeepClone();

    private static string? Text(JsonObject json, string path) => RawRecordReader.Find(json, path) is JsonValue v
        ? (v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString())
        : null;

    private static void Put(JsonObject doc, string path, JsonNode? value)
    {
        if (value is null || (value is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length == 0))
        {
            return;
        }
        var steps = path.Split('.');
        var node = doc;
        foreach (var step in steps[..^1])
        {
            if (node[step] is not JsonObject child)
            {
                node[step] = child = [];
            }
            node = child;
        }
        node[steps[^1]] = value;
    }

    private static string Timestamp(string? text) =>
        DateTimeOffset.Parse(text!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal)
            .UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static JsonNode? Long(JsonObject json, string path) =>
        long.TryParse(Text(json, path), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? JsonValue.Create(l) : null;

    /// <summary>
    /// A Bedrock model invocation record as the aws_bedrock integration writes it: <c>operation</c> renamed to
    /// <c>event.action</c>, <c>identity.arn</c> to <c>user.id</c> (and <c>gen_ai.user.id</c>), account and region
    /// to <c>cloud.*</c>; the record's keys snake-cased under <c>aws_bedrock.invocation</c>; the model, request id,
    /// token counts (as longs) and error code copied to <c>gen_ai.*</c>; <c>event.outcome</c> failure on an error;
    /// empty values dropped.
    /// </summary>
    public static JsonObject BedrockInvocation(JsonObject json, string dataset)
    {
        var doc = new JsonObject();
        Put(doc, "@timestamp", Timestamp(Text(json, "timestamp")));
        Put(doc, "data_stream", DataStreamFields(dataset));
        Put(doc, "event.dataset", dataset);
        Put(doc, "event.action", At(json, "operation"));
        Put(doc, "user.id", At(json, "identity.arn"));
        Put(doc, "cloud.account.id", At(json, "accountId"));
        Put(doc, "cloud.region", At(json, "region"));
        Put(doc, "cloud.service.name", "bedrock");
        Put(doc, "aws_bedrock.invocation.schema_type", At(json, "schemaType"));
        Put(doc, "aws_bedrock.invocation.schema_version", At(json, "schemaVersion"));
        Put(doc, "aws_bedrock.invocation.model_id", At(json, "modelId"));
        Put(doc, "aws_bedrock.invocation.request_id", At(json, "requestId"));
        Put(doc, "aws_bedrock.invocation.error_code", At(json, "errorCode"));
        Put(doc, "aws_bedrock.invocation.input.input_content_type", At(json, "input.inputContentType"));
        Put(doc, "aws_bedrock.invocation.input.input_token_count", At(json, "input.inputTokenCount"));
        Put(doc, "aws_bedrock.invocation.output.output_content_type", At(json, "output.outputContentType"));
        Put(doc, "aws_bedrock.invocation.output.output_token_count", At(json, "output.outputTokenCount"));
        Put(doc, "gen_ai.usage.prompt_tokens", Long(json, "input.inputTokenCount"));
        Put(doc, "gen_ai.usage.completion_tokens", Long(json, "output.outputTokenCount"));
        Put(doc, "gen_ai.model.id", At(json, "modelId"));
        Put(doc, "gen_ai.request.id", At(json, "requestId"));
        Put(doc, "gen_ai.user.id", At(json, "identity.arn"));
        Put(doc, "gen_ai.response.error_code", At(json, "errorCode"));
        Put(doc, "event.outcome", Text(json, "errorCode") is { Length: > 0 } ? "failure" : "success");
        return doc;
    }

    private static readonly Regex SnakeCase = new("_?([a-z])([A-Z]+)", RegexOptions.CultureInvariant);

    /// <summary>A key as the integration snake-cases it: <c>_?([a-z])([A-Z]+)</c> to <c>$1_$2</c>, then lower case.</summary>
    public static string Snake(string key) => SnakeCase.Replace(key, "$1_$2").ToLowerInvariant();

    private static JsonNode? Snaked(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(kv => KeyValuePair.Create(Snake(kv.Key), Snaked(kv.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Snaked)]),
        _ => node?.DeepClone(),
    };

    /// <summary>
    /// An Azure OpenAI diagnostic row (the Log Analytics columns the pack's raw file holds, read back as the Azure
    /// Monitor resource-log record the integration takes from Event Hub: <c>time</c>, <c>resourceId</c>,
    /// <c>category</c>, <c>operationName</c>, <c>resultSignature</c>, <c>durationMs</c>, <c>callerIpAddress</c>,
    /// <c>correlationId</c>, <c>properties</c>) as the azure_openai integration writes it: the record's keys
    /// snake-cased under <c>azure.open_ai</c> with <c>properties</c> parsed; the resource id (lower case) split into
    /// <c>azure.resource.{id,group,provider,name}</c>, <c>azure.subscription_id</c> and <c>cloud.account.id</c>;
    /// <c>durationMs</c> as <c>event.duration</c> in nanoseconds (a row without <c>ResourceId</c> gives the name from
    /// <c>Resource</c>, the last segment of the record's resource id), recomputed from the properties' request and
    /// response times (.NET ticks) when both are present, the diagnostic's milliseconds then kept in
    /// <c>event.duration_original</c>.
    /// </summary>
    public static JsonObject AzureOpenAi(JsonObject row, string dataset)
    {
        var record = new JsonObject();
        foreach (var (from, to) in new[]
        {
            ("Category", "category"), ("OperationName", "operationName"), ("ResultSignature", "resultSignature"),
            ("DurationMs", "durationMs"), ("CallerIPAddress", "callerIpAddress"), ("CorrelationId", "correlationId"),
            ("Tenant_s", "Tenant"), ("Level", "level"),
        })
        {
            // The integration keeps empty values (an empty objectId is written as it is).
            if (At(row, from) is { } value)
            {
                record[to] = value;
            }
        }
        if (Text(row, "properties_s") is { Length: > 0 } properties)
        {
            record["properties"] = JsonNode.Parse(properties);
        }
        var open = (JsonObject)Snaked(record)!;
        var doc = new JsonObject();
        Put(doc, "@timestamp", Timestamp(Text(row, "TimeGenerated")));
        Put(doc, "data_stream", DataStreamFields(dataset));
        Put(doc, "event.dataset", dataset);
        Put(doc, "cloud.provider", "azure");
        if (open["duration_ms"] is { } ms && long.TryParse(ms.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var millis))
        {
            open.Remove("duration_ms");
            var duration = millis;
            if (open["properties"] is JsonObject p && p["request_time"] is JsonValue rq && p["response_time"] is JsonValue rs
                && rq.TryGetValue<long>(out var requested) && rs.TryGetValue<long>(out var responded))
            {
                Put(doc, "event.duration_original", JsonValue.Create(millis));
                duration = (responded - requested) / 10000;
            }
            Put(doc, "event.duration", JsonValue.Create(duration * 1_000_000));
        }
        if (Text(row, "ResourceId") is not { Length: > 0 } id)
        {
            // A row without its ResourceId: the record's resourceId ends with the resource's name, which is what
            // the integration would read from it.
            if (Text(row, "Resource") is { Length: > 0 } resource)
            {
                Put(doc, "azure.resource.name", resource.ToLowerInvariant());
            }
        }
        else
        {
            var lower = id.ToLowerInvariant();
            Put(doc, "azure.resource.id", lower);
            var m = Regex.Match(lower, "^/subscriptions/([^/]+)/resourcegroups/([^/]+)/providers/([^/]+/[^/]+)/(.+)$", RegexOptions.CultureInvariant);
            if (m.Success)
            {
                Put(doc, "azure.subscription_id", m.Groups[1].Value);
                Put(doc, "cloud.account.id", m.Groups[1].Value);
                Put(doc, "azure.resource.group", m.Groups[2].Value);
                Put(doc, "azure.resource.provider", m.Groups[3].Value);
                Put(doc, "azure.resource.name", m.Groups[4].Value);
            }
        }
        doc["azure"] ??= new JsonObject();
        doc["azure"]!["open_ai"] = open;
        return doc;
    }
}
