using System.Collections.Immutable;
using System.Text.Json.Nodes;
using KeyAbuseContent.Rules;

namespace KeyAbuseContent.Targets.Elastic;

/// <summary>
/// A value of an integration's document upper-cased (Elastic-only: Azure resource names, which the Azure OpenAI
/// integration may lower-case, as Log Analytics writes them in <c>Resource</c>, so both platforms name a key alike).
/// </summary>
public sealed record RawUpper(string Path) : RawValue;

/// <summary>A duration in nanoseconds (ECS <c>event.duration</c>) as whole milliseconds (Elastic-only).</summary>
public sealed record RawNanosAsMillis(string Path) : RawValue;

/// <summary>
/// An Elastic integration (a Fleet package) that collects a raw source's records into its own data stream, and how
/// the pack maps the integration's output fields onto a normalized source. The mapping runs in the pipeline
/// <see cref="MappingPipeline"/>, which the data stream's <c>@custom</c> pipeline calls (when the integration's
/// document has <see cref="When"/>); a source the rules read from another stream is rerouted there
/// (<see cref="RerouteDataset"/>).
/// </summary>
public sealed record ElasticIntegration(
    RawSource Source,
    string Package,
    string Title,
    string Dataset,
    ImmutableArray<RawFieldMap> Fields,
    RawMatch? When = null,
    string? RerouteDataset = null)
{
    /// <summary>The integration's data streams (any namespace).</summary>
    public string DataStreams => $"logs-{Dataset}-*";

    /// <summary>The pipeline the integration's default pipeline calls last (Fleet's documented extension point).</summary>
    public string CustomPipeline => $"logs-{Dataset}@custom";

    /// <summary>The component template Fleet composes into the data stream's index template (mappings of the normalized fields).</summary>
    public string CustomComponentTemplate => $"logs-{Dataset}@custom";

    /// <summary>The pack's pipeline that maps the integration's fields onto the normalized ones.</summary>
    public string MappingPipeline => Source.ElasticPipeline + "-integration";

    /// <summary>The mapping of a normalized field, or null when the integration does not give it.</summary>
    public RawValue? Map(string field) => Fields.FirstOrDefault(f => f.Field == field)?.Value;
}

/// <summary>
/// Elastic's own integrations for the vendor logs the pack normalizes, and the ingest pipelines and templates that
/// hook the pack into them: a customer who runs Elastic's Amazon Bedrock or Azure OpenAI integration gets the
/// integration's field names in the integration's data streams, and the <c>@custom</c> pipeline each Fleet
/// integration's default pipeline calls at its end adds the pack's normalized fields (ECS and GenAI names of
/// <see cref="Sources"/>), the address enrichment, and the rerouting of audit rows to the pack's audit stream.
/// Field names are those of the integrations' ingest pipelines in elastic/integrations
/// (<c>packages/aws_bedrock/data_stream/invocation</c>, <c>packages/azure_openai/data_stream/logs</c>).
/// </summary>
public static class ElasticIntegrations
{
    /// <summary>
    /// Amazon Bedrock model invocation logs (package <c>aws_bedrock</c>, data stream <c>invocation</c>): the
    /// integration renames the record's <c>identity.arn</c> to <c>user.id</c>, <c>operation</c> to
    /// <c>event.action</c>, and writes <c>gen_ai.model.id</c>, <c>gen_ai.request.id</c>,
    /// <c>gen_ai.usage.prompt_tokens</c> / <c>completion_tokens</c> and <c>gen_ai.response.error_code</c>; empty
    /// values are dropped, so missing token counts are 0 as in the raw-line pipeline.
    /// </summary>
    public static readonly ElasticIntegration BedrockInvocation = new(
        RawSources.BedrockInvocation,
        "aws_bedrock",
        "Amazon Bedrock",
        "aws_bedrock.invocation",
        [
            new("key_id", new RawPath("user.id")),
            new("provider", new RawConst("bedrock")),
            new("model", new RawFirst([new RawPath("gen_ai.model.id"), new RawPath("aws_bedrock.invocation.model_id")])),
            new("operation", new RawLookup("event.action", RawSources.BedrockOperations, null, null)),
            new("input_tokens", new RawPath("gen_ai.usage.prompt_tokens", "0")),
            new("output_tokens", new RawPath("gen_ai.usage.completion_tokens", "0")),
            new("status", new RawLookup("gen_ai.response.error_code", RawSources.AwsErrorStatus, "500", "200")),
            new("request_id", new RawFirst([new RawPath("gen_ai.request.id"), new RawPath("aws_bedrock.invocation.request_id")])),
        ]);

    /// <summary>
    /// Azure OpenAI RequestResponse rows (package <c>azure_openai</c>, data stream <c>logs</c>): the record's keys
    /// snake-cased under <c>azure.open_ai</c> (<c>properties</c> parsed when it is a string), the resource id split
    /// into <c>azure.resource.*</c>, the duration in <c>event.duration</c> (nanoseconds; the diagnostic's own
    /// milliseconds kept in <c>event.duration_original</c> when the integration recomputes it from the request and
    /// response times).
    /// </summary>
    public static readonly ElasticIntegration AzureOpenAiRequests = new(
        RawSources.AzureOpenAiRequests,
        "azure_openai",
        "Azure OpenAI",
        "azure_openai.logs",
        [
            new("key_id", new RawFirst([new RawPath("azure.open_ai.properties.object_id"), new RawUpper("azure.resource.name")])),
            new("client_ip", new RawMaskedAddress("azure.open_ai.caller_ip_address")),
            new("provider", new RawConst("azure_openai")),
            new("model", new RawFirst([new RawPath("azure.open_ai.properties.model_name"), new RawPath("azure.open_ai.properties.model_deployment_name")])),
            new("operation", new RawLookup("azure.open_ai.operation_name", RawSources.AzureOpenAiOperations, null, null)),
            new("status", new RawPath("azure.open_ai.result_signature")),
            new("latency_ms", new RawFirst([new RawPath("event.duration_original"), new RawNanosAsMillis("event.duration")])),
            new("request_id", new RawPath("azure.open_ai.correlation_id")),
        ],
        When: new("azure.open_ai.category", "RequestResponse"));

    /// <summary>
    /// Azure OpenAI Audit rows in the same data stream: normalized as audit events and rerouted to the pack's audit
    /// stream, so the activity rules reading <c>logs-azure_openai.logs-*</c> never count a key listing as a request.
    /// </summary>
    public static readonly ElasticIntegration AzureOpenAiAudit = new(
        RawSources.AzureOpenAiAudit,
        "azure_openai",
        "Azure OpenAI",
        "azure_openai.logs",
        [
            new("provider", new RawConst("azure_openai")),
            new("event_type", new RawLookup("azure.open_ai.operation_name", [("ListKey", "api_key.listed")], null, null)),
            new("actor", new RawPath("azure.open_ai.properties.object_id")),
            new("key_id", new RawUpper("azure.resource.name")),
            new("client_ip", new RawMaskedAddress("azure.open_ai.caller_ip_address")),
        ],
        When: new("azure.open_ai.category", "Audit"),
        RerouteDataset: "keyabuse.audit");

    /// <summary>Every integration the pack hooks into.</summary>
    public static ImmutableArray<ElasticIntegration> All => [BedrockInvocation, AzureOpenAiRequests, AzureOpenAiAudit];

    /// <summary>The integration that collects a raw source's records, or null.</summary>
    public static ElasticIntegration? For(RawSource source) => All.FirstOrDefault(i => i.Source == source);

    /// <summary>The data stream patterns of the integrations whose documents feed a normalized source (in place, not rerouted).</summary>
    public static IEnumerable<string> StreamsFeeding(RuleSource source) =>
        All.Where(i => i.Source.Feeds == source && i.RerouteDataset is null).Select(i => i.DataStreams).Distinct();

    /// <summary>
    /// The pipeline mapping an integration's document onto the normalized fields: each field from the integration's
    /// output, the address enrichment where the source carries country and AS, and the reroute when it has one.
    /// </summary>
    public static JsonObject MappingPipeline(ElasticIntegration integration)
    {
        var processors = new JsonArray();
        foreach (var field in integration.Source.Target.Fields.Where(f => f.Name is not ("time" or "tokens")))
        {
            if (integration.Map(field.Name) is { } value)
            {
                foreach (var p in ElasticIngestPipelines.FieldProcessors(field, value, ""))
                {
                    processors.Add(p);
                }
            }
        }
        if (integration.Source.Target.Enriched)
        {
            foreach (var p in ElasticGeo.Processors())
            {
                processors.Add(p);
            }
        }
        if (integration.RerouteDataset is { } dataset)
        {
            // Data stream mode: the namespace is kept, and data_stream.* and event.dataset name the new stream.
            processors.Add(ElasticIngestPipelines.Processor("reroute", new JsonObject { ["dataset"] = dataset }));
        }
        var where = integration.RerouteDataset is { } d ? $", rerouted to logs-{d}-<namespace>" : "";
        return new JsonObject
        {
            ["description"] = $"KeyAbuseContent: the {integration.Title} integration's {integration.Dataset} documents ({integration.Source.Description}) with the pack's normalized {Sources.Name(integration.Source.Feeds)} fields (ECS and OpenTelemetry GenAI){where}.",
            ["processors"] = processors,
        };
    }

    /// <summary>
    /// A data stream's <c>@custom</c> pipeline: a call of each mapping pipeline of the integrations writing that data
    /// stream, conditioned on the document's kind when the stream holds several (Azure OpenAI's categories).
    /// </summary>
    public static JsonObject CustomPipeline(string dataset)
    {
        var processors = new JsonArray();
        foreach (var integration in All.Where(i => i.Dataset == dataset))
        {
            var call = new JsonObject { ["name"] = integration.MappingPipeline };
            if (integration.When is { } when)
            {
                call["if"] = Condition(when);
            }
            processors.Add(ElasticIngestPipelines.Processor("pipeline", call));
        }
        return new JsonObject
        {
            ["description"] = $"KeyAbuseContent: hooks the pack's normalization into the {dataset} integration (called by the integration's default pipeline at its end). If you already have a {dataset}@custom pipeline, add these pipeline processors to it instead.",
            ["processors"] = processors,
        };
    }

    /// <summary>A Painless condition testing one field's value, null-safe: <c>ctx.a?.b == 'value'</c>.</summary>
    public static string Condition(RawMatch match) =>
        "ctx." + string.Join("?.", RawPaths.Segments(match.Path)) + " == '" + match.Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    /// <summary>The component template with the normalized fields' mappings, composed by Fleet into the integration's index template.</summary>
    public static JsonObject ComponentTemplate(string dataset)
    {
        var properties = new JsonObject();
        foreach (var integration in All.Where(i => i.Dataset == dataset && i.RerouteDataset is null))
        {
            foreach (var (field, type) in ElasticIngestPipelines.Mapping(integration.Source).Where(m => m.Field is not ("@timestamp" or "event.dataset")))
            {
                properties[field] = new JsonObject { ["type"] = type };
            }
        }
        return new JsonObject
        {
            ["template"] = new JsonObject { ["mappings"] = new JsonObject { ["properties"] = properties } },
            ["_meta"] = new JsonObject { ["description"] = $"KeyAbuseContent: mappings of the normalized fields the {dataset}@custom pipeline adds" },
        };
    }

    /// <summary>The setup requests: each mapping pipeline, then each data stream's @custom pipeline and component template.</summary>
    public static IEnumerable<ElasticSetupRequest> Requests()
    {
        foreach (var integration in All)
        {
            yield return new ElasticSetupRequest("PUT", "/_ingest/pipeline/" + integration.MappingPipeline, MappingPipeline(integration),
                $"maps the {integration.Title} integration's {integration.Dataset} documents onto the pack's normalized {Sources.Name(integration.Source.Feeds)} fields");
        }
        foreach (var group in All.GroupBy(i => i.Dataset))
        {
            var first = group.First();
            yield return new ElasticSetupRequest("PUT", "/_component_template/" + first.CustomComponentTemplate, ComponentTemplate(group.Key),
                $"maps the normalized fields in {first.DataStreams} (Fleet composes {first.CustomComponentTemplate} into the {first.Title} integration's index template; roll the data stream over to apply it)");
            yield return new ElasticSetupRequest("PUT", "/_ingest/pipeline/" + first.CustomPipeline, CustomPipeline(group.Key),
                $"hooks the pack into Elastic's {first.Title} integration ({first.Package}): its default pipeline calls {first.CustomPipeline} at its end");
        }
    }
}
