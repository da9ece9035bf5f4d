using System.Collections.Immutable;

namespace KeyAbuseContent.Rules;

/// <summary>How a raw record writes its event time.</summary>
public enum RawTimeFormat
{
    /// <summary>An RFC 3339 / ISO 8601 string with a zone.</summary>
    Iso8601,

    /// <summary>Seconds since the Unix epoch (a number).</summary>
    UnixSeconds,

    /// <summary>Nanoseconds since the Unix epoch (a decimal string or a number, as OTLP JSON writes int64).</summary>
    UnixNanos,
}

/// <summary>The JSON kind a required raw field must have.</summary>
public enum RawKind
{
    String,
    Number,
    Object,
    Array,

    /// <summary>A number or a string of digits (OTLP JSON's int64).</summary>
    Integer,
}

/// <summary>
/// Where a normalized field's value comes from in a raw record. A small declarative language, rendered by each
/// target (a KQL expression over the native table on Sentinel, ingest processors on Elastic), so the two
/// normalizations are written once and cannot drift apart.
/// </summary>
public abstract record RawValue;

/// <summary>
/// A field of the raw record by its path; <paramref name="Default"/> when it is missing or empty. A path is the JSON
/// keys from the record down, joined by dots, or by slashes when a key itself holds dots (OpenTelemetry attribute
/// names, OpenAI's <c>api_key.created</c>): <c>attributes/gen_ai.request.model</c>; a single such key is written
/// with a leading slash, <c>/api_key.created</c>.
/// </summary>
public sealed record RawPath(string Path, string? Default = null) : RawValue;

/// <summary>The first of several values that is present and not empty; every value but the last is a <see cref="RawPath"/>.</summary>
public sealed record RawFirst(ImmutableArray<RawValue> Values) : RawValue;

/// <summary>A constant.</summary>
public sealed record RawConst(string Value) : RawValue;

/// <summary>
/// A raw value translated through a table: <paramref name="WhenMissing"/> when the field is missing or empty, the table's
/// value for a listed input, <paramref name="Otherwise"/> for any other input (null keeps the input as it is).
/// </summary>
public sealed record RawLookup(string Path, ImmutableArray<(string From, string To)> Table, string? Otherwise, string? WhenMissing) : RawValue;

/// <summary>
/// An address whose last IPv4 octet the vendor masks (Azure OpenAI's diagnostic logs write <c>81.2.69.***</c>): the
/// masked octet is read as 0, the address of the /24 network the caller is in, which country and ASN tables still place.
/// </summary>
public sealed record RawMaskedAddress(string Path) : RawValue
{
    /// <summary>What the vendor writes in place of the last octet.</summary>
    public const string Mask = "***";
}

/// <summary>The keys of a raw path (see <see cref="RawPath"/>).</summary>
public static class RawPaths
{
    public static ImmutableArray<string> Segments(string path) => path.Contains('/', StringComparison.Ordinal)
        ? [.. path.Split('/', StringSplitOptions.RemoveEmptyEntries)]
        : [.. path.Split('.')];

    /// <summary>Whether <paramref name="prefix"/>'s keys start <paramref name="path"/>'s.</summary>
    public static bool StartsWith(string path, string prefix)
    {
        var a = Segments(path);
        var b = Segments(prefix);
        return b.Length <= a.Length && b.SequenceEqual(a.Take(b.Length));
    }
}

/// <summary>How a raw file's lines hold records.</summary>
public enum RawRecordShape
{
    /// <summary>One JSON record a line.</summary>
    Line,

    /// <summary>
    /// One OTLP/JSON ExportTraceServiceRequest a line, cut into one record a span as the collector stores spans:
    /// the span's fields, its attributes as an object of plain values, and its resource's attributes.
    /// </summary>
    OtlpSpans,
}

/// <summary>A normalized field (by its name in <see cref="Sources"/>) and where its value comes from.</summary>
public sealed record RawFieldMap(string Field, RawValue Value);

/// <summary>
/// A column of the Sentinel table a raw source lands in, and the raw JSON path it holds (a whole object for a
/// dynamic column). <paramref name="NotInReference"/> marks a column the Azure Monitor table reference lists but the
/// Azure-Sentinel schema file lacks: parsers read it with <c>column_ifexists</c>. <paramref name="JsonText"/> marks a
/// string column holding a JSON document (AzureDiagnostics' <c>properties_s</c>): paths below it are read through
/// <c>parse_json</c> on Sentinel and a <c>json</c> processor on Elastic.
/// </summary>
public sealed record RawColumn(string Column, string Path, string KqlType, bool NotInReference = false, bool JsonText = false);

/// <summary>A field value a record must carry to be a row of a source's table (<see cref="RawSource.Match"/>).</summary>
public sealed record RawMatch(string Path, string Value);

/// <summary>
/// Another table's rows joined to a source's rows: <paramref name="Table"/>'s rows whose <paramref name="FilterPath"/>
/// equals <paramref name="FilterValue"/>, matched on <paramref name="On"/> (a column both tables have), their columns
/// read by the mapping as <c>&lt;Prefix&gt;.&lt;path&gt;</c>. A left join: a row without a match keeps its own fields.
/// </summary>
public sealed record RawJoin(RawSource Table, string On, string FilterPath, string FilterValue, string Prefix);

/// <summary>A field a raw record must carry, with its JSON kind; a record without it is reported and skipped.</summary>
public sealed record RawRequirement(string Path, RawKind Kind);

/// <summary>
/// A vendor log format the pack normalizes (<c>raw/&lt;name&gt;.jsonl[.gz]</c> in a dataset): what it feeds, its
/// time field, what a record must carry, its address fields, and the mapping onto the normalized source's fields.
/// On Sentinel it is read from <see cref="SentinelTable"/> (a native table, or a custom table the pack creates whose
/// columns are the record's top-level fields); on Elastic the ingest pipeline <see cref="ElasticPipeline"/> writes
/// it to <see cref="ElasticDataStream"/>.
/// A source may be one of several tables whose rows share a raw file (<see cref="File"/>; Log Analytics rows naming
/// their table in <c>Type</c>): <see cref="Match"/> says which records are its rows, and on a native table shared with
/// other rows the Sentinel parser keeps only those (every match but <c>Type</c>, which is the table itself).
/// </summary>
public sealed record RawSource(
    string Name,
    RuleSource Feeds,
    string Description,
    string SentinelTable,
    string SentinelParser,
    string ElasticDataStream,
    string Dataset,
    string TimePath,
    RawTimeFormat TimeFormat,
    ImmutableArray<RawRequirement> Required,
    ImmutableArray<string> Addresses,
    ImmutableArray<RawColumn> Columns,
    ImmutableArray<RawFieldMap> Fields,
    RawRecordShape Shape = RawRecordShape.Line,
    string? File = null,
    ImmutableArray<RawMatch> Match = default,
    RawJoin? Join = null)
{
    /// <summary>The raw file stem its records come from (<c>raw/&lt;RawFile&gt;.jsonl[.gz]</c>).</summary>
    public string RawFile => File ?? Name;

    /// <summary>The field values a record of <see cref="RawFile"/> must carry to be this source's row (none: every record).</summary>
    public ImmutableArray<RawMatch> Matches => Match.IsDefault ? [] : Match;

    /// <summary>Whether a record is a row of this source (its file holds other tables' rows too).</summary>
    public bool Accepts(Func<string, string?> value) => Matches.All(m => value(m.Path) == m.Value);

    /// <summary>The matches a Sentinel parser filters the native table on (the table's own name is not a filter).</summary>
    public IEnumerable<RawMatch> SentinelFilters => CustomTable ? [] : Matches.Where(m => m.Path != "Type");

    /// <summary>Whether it has a parser and a pipeline of its own (false for a table read only through another source's join).</summary>
    public bool Normalizes => !Fields.IsEmpty;

    /// <summary>Whether the pack creates the Sentinel table (a custom <c>_CL</c> table) rather than reading a native one.</summary>
    public bool CustomTable => SentinelTable.EndsWith("_CL", StringComparison.Ordinal);

    /// <summary>The source the records are normalized into.</summary>
    public SourceSchema Target => Sources.For(Feeds);

    /// <summary>The ingest pipeline's name.</summary>
    public string ElasticPipeline => "keyabuse-" + Name.Replace('_', '-');

    /// <summary>The mapping of a normalized field, or null when the source does not fill it.</summary>
    public RawValue? Map(string field) => Fields.FirstOrDefault(f => f.Field == field)?.Value;
}

/// <summary>The vendor log formats of FORMATS.md that datasets may carry under <c>raw/</c>.</summary>
public static partial class RawSources
{
    /// <summary>AWS error codes of Bedrock's runtime API and the HTTP statuses they are returned with.</summary>
    public static readonly ImmutableArray<(string From, string To)> AwsErrorStatus =
    [
        ("ValidationException", "400"),
        ("AccessDeniedException", "403"),
        ("UnrecognizedClientException", "403"),
        ("ResourceNotFoundException", "404"),
        ("ModelTimeoutException", "408"),
        ("ModelErrorException", "424"),
        ("ThrottlingException", "429"),
        ("ServiceQuotaExceededException", "429"),
        ("ModelNotReadyException", "429"),
        ("InternalServerException", "500"),
        ("ServiceUnavailableException", "503"),
    ];

    /// <summary>Bedrock runtime operations and the normalized operation they perform.</summary>
    internal static readonly ImmutableArray<(string From, string To)> BedrockOperations =
    [
        ("InvokeModel", "chat"),
        ("InvokeModelWithResponseStream", "chat"),
        ("Converse", "chat"),
        ("ConverseStream", "chat"),
    ];

    /// <summary>
    /// CloudTrail records of Bedrock (and any other service): the control plane. The Sentinel side is the
    /// AWSCloudTrail table the AWS connector fills, read by the control-plane parser.
    /// </summary>
    public static readonly RawSource BedrockCloudTrail = new(
        "bedrock_cloudtrail",
        RuleSource.ControlPlane,
        "AWS CloudTrail records (Bedrock's bedrock.amazonaws.com and bedrock-mantle.amazonaws.com among them), one record a line",
        "AWSCloudTrail",
        "KeyAbuseControlPlane",
        "logs-aws.cloudtrail-default",
        "aws.cloudtrail",
        "eventTime",
        RawTimeFormat.Iso8601,
        [
            new("eventTime", RawKind.String), new("eventSource", RawKind.String), new("eventName", RawKind.String),
            new("userIdentity", RawKind.Object), new("sourceIPAddress", RawKind.String),
        ],
        ["sourceIPAddress"],
        [
            // The AWS connector's columns (Azure Monitor's AWSCloudTrail reference) and the record paths they hold.
            new("EventVersion", "eventVersion", "string"),
            new("UserIdentityType", "userIdentity.type", "string"),
            new("UserIdentityPrincipalid", "userIdentity.principalId", "string"),
            new("UserIdentityArn", "userIdentity.arn", "string"),
            new("UserIdentityAccountId", "userIdentity.accountId", "string"),
            new("UserIdentityAccessKeyId", "userIdentity.accessKeyId", "string", NotInReference: true),
            new("UserIdentityUserName", "userIdentity.userName", "string"),
            new("EventSource", "eventSource", "string"),
            new("EventName", "eventName", "string"),
            new("AWSRegion", "awsRegion", "string"),
            new("SourceIpAddress", "sourceIPAddress", "string"),
            new("UserAgent", "userAgent", "string"),
            new("ErrorCode", "errorCode", "string"),
            new("ErrorMessage", "errorMessage", "string"),
            new("RequestParameters", "requestParameters", "dynamic"),
            new("ResponseElements", "responseElements", "dynamic"),
            new("AdditionalEventData", "additionalEventData", "dynamic"),
            new("AwsEventId", "eventID", "string"),
            new("EventTypeName", "eventType", "string"),
            new("ReadOnly", "readOnly", "string"),
            new("ManagementEvent", "managementEvent", "string"),
            new("Category", "eventCategory", "string"),
            new("RecipientAccountId", "recipientAccountId", "string"),
            new("VpcEndpointId", "vpcEndpointId", "string"),
            new("Resources", "resources", "dynamic"),
            new("SharedEventId", "sharedEventID", "string"),
        ],
        [
            new("cloud", new RawConst("aws")),
            new("event_source", new RawPath("eventSource")),
            new("event_name", new RawPath("eventName")),
            new("actor", new RawPath("userIdentity.arn")),
            new("key_id", new RawPath("userIdentity.accessKeyId")),
            new("account", new RawPath("recipientAccountId")),
            new("region", new RawPath("awsRegion")),
            new("client_ip", new RawPath("sourceIPAddress")),
            new("user_agent", new RawPath("userAgent")),
            new("outcome", new RawLookup("errorCode", [], "failure", "success")),
            new("error_code", new RawPath("errorCode")),
            new("model", new RawPath("requestParameters.modelId")),
        ]);

    /// <summary>Bedrock model invocation logs (CloudWatch Logs or S3 delivery), one record a line: identity, model and tokens.</summary>
    public static readonly RawSource BedrockInvocation = new(
        "bedrock_invocation",
        RuleSource.Activity,
        "Amazon Bedrock model invocation log records (schemaType ModelInvocationLog), one record a line",
        "AWSBedrockInvocation_CL",
        "KeyAbuseActivityBedrock",
        "logs-aws_bedrock.invocation-default",
        "aws_bedrock.invocation",
        "timestamp",
        RawTimeFormat.Iso8601,
        [
            new("timestamp", RawKind.String), new("identity", RawKind.Object), new("identity.arn", RawKind.String),
            new("modelId", RawKind.String), new("operation", RawKind.String), new("requestId", RawKind.String),
        ],
        [],
        [
            new("schemaType", "schemaType", "string"),
            new("schemaVersion", "schemaVersion", "string"),
            new("timestamp", "timestamp", "datetime"),
            new("accountId", "accountId", "string"),
            new("identity", "identity", "dynamic"),
            new("region", "region", "string"),
            new("requestId", "requestId", "string"),
            new("operation", "operation", "string"),
            new("modelId", "modelId", "string"),
            new("input", "input", "dynamic"),
            new("output", "output", "dynamic"),
            new("errorCode", "errorCode", "string"),
            new("inferenceRegion", "inferenceRegion", "string"),
        ],
        [
            new("key_id", new RawPath("identity.arn")),
            new("provider", new RawConst("bedrock")),
            new("model", new RawPath("modelId")),
            new("operation", new RawLookup("operation", BedrockOperations, null, null)),
            new("input_tokens", new RawPath("input.inputTokenCount", "0")),
            new("output_tokens", new RawPath("output.outputTokenCount", "0")),
            new("status", new RawLookup("errorCode", AwsErrorStatus, "500", "200")),
            new("request_id", new RawPath("requestId")),
        ]);

    /// <summary>LiteLLM call types and the normalized operation they perform.</summary>
    private static readonly ImmutableArray<(string From, string To)> LiteLlmCallTypes =
    [
        ("completion", "chat"), ("acompletion", "chat"),
        ("text_completion", "completion"), ("atext_completion", "completion"),
        ("embedding", "embeddings"), ("aembedding", "embeddings"),
        ("image_generation", "images"), ("aimage_generation", "images"),
        ("responses", "responses"), ("aresponses", "responses"),
        ("transcription", "audio"), ("atranscription", "audio"), ("speech", "audio"), ("aspeech", "audio"),
    ];

    /// <summary>LiteLLM proxy logs: one StandardLoggingPayload a line (a generic_api or custom callback's ndjson).</summary>
    public static readonly RawSource LiteLlm = new(
        "litellm",
        RuleSource.Activity,
        "LiteLLM proxy StandardLoggingPayload records, one a line",
        "LiteLLM_CL",
        "KeyAbuseActivityLiteLLM",
        "logs-keyabuse.activity-litellm",
        "litellm.standard_logging",
        "startTime",
        RawTimeFormat.UnixSeconds,
        [
            new("id", RawKind.String), new("call_type", RawKind.String), new("status", RawKind.String), new("startTime", RawKind.Number),
            new("model", RawKind.String), new("metadata", RawKind.Object), new("metadata.user_api_key_hash", RawKind.String),
        ],
        ["requester_ip_address"],
        [
            new("id", "id", "string"),
            new("call_type", "call_type", "string"),
            new("status", "status", "string"),
            new("custom_llm_provider", "custom_llm_provider", "string"),
            new("model", "model", "string"),
            new("model_group", "model_group", "string"),
            new("prompt_tokens", "prompt_tokens", "long"),
            new("completion_tokens", "completion_tokens", "long"),
            new("total_tokens", "total_tokens", "long"),
            new("startTime", "startTime", "real"),
            new("endTime", "endTime", "real"),
            new("response_cost", "response_cost", "real"),
            new("requester_ip_address", "requester_ip_address", "string"),
            new("metadata", "metadata", "dynamic"),
            new("error_information", "error_information", "dynamic"),
        ],
        [
            new("key_id", new RawPath("metadata.user_api_key_hash")),
            new("service", new RawPath("metadata.user_api_key_team_alias")),
            new("client_ip", new RawPath("requester_ip_address")),
            new("provider", new RawPath("custom_llm_provider")),
            new("model", new RawPath("model")),
            new("operation", new RawLookup("call_type", LiteLlmCallTypes, null, null)),
            new("input_tokens", new RawPath("prompt_tokens", "0")),
            new("output_tokens", new RawPath("completion_tokens", "0")),
            new("status", new RawFirst([new RawPath("error_information.error_code"), new RawLookup("status", [("success", "200")], "500", null)])),
            new("cost_usd", new RawPath("response_cost")),
            new("request_id", new RawPath("id")),
        ]);

    /// <summary>GenAI operation names of the semantic conventions and the normalized operation.</summary>
    private static readonly ImmutableArray<(string From, string To)> GenAiOperations =
    [
        ("generate_content", "chat"), ("text_completion", "completion"),
    ];

    /// <summary>OpenTelemetry GenAI client spans (OTLP/JSON trace export requests, one a line).</summary>
    public static readonly RawSource OtelGenAi = new(
        "otel_genai",
        RuleSource.Activity,
        "OpenTelemetry GenAI client spans (OTLP/JSON), one span a record",
        "OTelGenAISpans_CL",
        "KeyAbuseActivityOTelGenAI",
        "logs-keyabuse.activity-otel_genai",
        "otel.genai",
        "startTimeUnixNano",
        RawTimeFormat.UnixNanos,
        [
            new("spanId", RawKind.String), new("startTimeUnixNano", RawKind.Integer), new("attributes", RawKind.Object),
            new("attributes/gen_ai.operation.name", RawKind.String), new("attributes/llm.api_key.id", RawKind.String),
        ],
        ["attributes/client.address"],
        [
            new("traceId", "traceId", "string"),
            new("spanId", "spanId", "string"),
            new("parentSpanId", "parentSpanId", "string"),
            new("name", "name", "string"),
            new("kind", "kind", "long"),
            new("startTimeUnixNano", "startTimeUnixNano", "string"),
            new("endTimeUnixNano", "endTimeUnixNano", "string"),
            new("status", "status", "dynamic"),
            new("attributes", "attributes", "dynamic"),
            new("resource", "resource", "dynamic"),
        ],
        [
            new("key_id", new RawPath("attributes/llm.api_key.id")),
            new("service", new RawPath("resource/attributes/service.name")),
            new("client_ip", new RawPath("attributes/client.address")),
            new("user_agent", new RawPath("attributes/user_agent.original")),
            new("provider", new RawFirst([new RawPath("attributes/gen_ai.provider.name"), new RawPath("attributes/gen_ai.system")])),
            new("model", new RawFirst([new RawPath("attributes/gen_ai.request.model"), new RawPath("attributes/gen_ai.response.model")])),
            new("operation", new RawLookup("attributes/gen_ai.operation.name", GenAiOperations, null, null)),
            new("input_tokens", new RawFirst([new RawPath("attributes/gen_ai.usage.input_tokens"), new RawPath("attributes/gen_ai.usage.prompt_tokens", "0")])),
            new("output_tokens", new RawFirst([new RawPath("attributes/gen_ai.usage.output_tokens"), new RawPath("attributes/gen_ai.usage.completion_tokens", "0")])),
            new("status", new RawFirst([new RawPath("attributes/http.response.status_code"), new RawLookup("status/code", [("2", "500")], "200", "200")])),
            new("request_id", new RawPath("spanId")),
        ],
        RawRecordShape.OtlpSpans);

    /// <summary>OpenAI organization audit log entries (GET /v1/organization/audit_logs data items), one a line.</summary>
    public static readonly RawSource OpenAiAudit = new(
        "openai_audit",
        RuleSource.Audit,
        "OpenAI organization audit log entries, one a line",
        "OpenAIAudit_CL",
        "KeyAbuseAuditOpenAI",
        "logs-keyabuse.audit-openai",
        "openai.audit",
        "effective_at",
        RawTimeFormat.UnixSeconds,
        [new("id", RawKind.String), new("type", RawKind.String), new("effective_at", RawKind.Number), new("actor", RawKind.Object)],
        ["actor/session/ip_address"],
        [
            new("id", "id", "string"),
            new("type", "type", "string"),
            new("effective_at", "effective_at", "long"),
            new("project", "project", "dynamic"),
            new("actor", "actor", "dynamic"),
            new("api_key_created", "/api_key.created", "dynamic"),
            new("api_key_updated", "/api_key.updated", "dynamic"),
            new("api_key_deleted", "/api_key.deleted", "dynamic"),
        ],
        [
            new("provider", new RawConst("openai")),
            new("event_type", new RawPath("type")),
            new("actor", new RawFirst([new RawPath("actor/session/user/email"), new RawPath("actor/api_key/user/email"), new RawPath("actor/api_key/service_account/id")])),
            new("actor_key_id", new RawPath("actor/api_key/id")),
            new("key_id", new RawFirst([new RawPath("api_key.created/id"), new RawPath("api_key.updated/id"), new RawPath("api_key.deleted/id")])),
            new("project", new RawPath("project/id")),
            new("client_ip", new RawPath("actor/session/ip_address")),
            new("country", new RawPath("actor/session/ip_address_details/country")),
            new("asn", new RawPath("actor/session/ip_address_details/asn")),
            new("user_agent", new RawPath("actor/session/user_agent")),
        ]);

    /// <summary>Every raw source that is normalized, by name.</summary>
    public static ImmutableArray<RawSource> All => [BedrockCloudTrail, BedrockInvocation, LiteLlm, OtelGenAi, OpenAiAudit, AzureOpenAiRequests, AzureOpenAiApim, AzureOpenAiActivity, AzureOpenAiAudit];

    /// <summary>Every table raw records may be rows of: the sources and the tables their joins read.</summary>
    public static ImmutableArray<RawSource> Tables => [.. All, .. All.Where(s => s.Join is not null).Select(s => s.Join!.Table)];

    /// <summary>The raw file stems datasets may carry, in order.</summary>
    public static ImmutableArray<string> Files => [.. Tables.Select(s => s.RawFile).Distinct()];

    /// <summary>The tables whose rows a raw file holds.</summary>
    public static ImmutableArray<RawSource> InFile(string file) => [.. Tables.Where(s => s.RawFile == file)];

    public static RawSource? Named(string name) => All.FirstOrDefault(s => s.Name == name);
}
