using System.Collections.Immutable;
using KeyAbuseContent.Expressions;

namespace KeyAbuseContent.Rules;

/// <summary>Where a rule's events come from.</summary>
public enum RuleSource
{
    Activity,
    ControlPlane,
    Audit,
    Logs,
    Inventory,
}

/// <summary>A field of a source: its normalized name, type, and its name on each target.</summary>
public sealed record SourceField(string Name, ExprType Type, string Kql, string Esql, string Description)
{
    public FieldBinding Binding => new(Name, Type, Kql, Esql, Name);
}

/// <summary>A source's fields and where each target reads it from. The one place field names are mapped.</summary>
public sealed record SourceSchema(RuleSource Source, string Description, string KqlFunction, string EsqlIndex, ImmutableArray<SourceField> Fields)
{
    public SourceField? Field(string name) => Fields.FirstOrDefault(f => f.Name == name);

    /// <summary>
    /// Whether its events carry a source address with the address's country and AS, which each platform fills from
    /// the address ranges where the event lacks them (Sentinel's parser at query time, Elastic's pipeline at ingest).
    /// </summary>
    public bool Enriched => Field("client_ip") is not null && Field("country") is not null && Field("asn") is not null;

    public Scope Scope(bool allowNow = false) => new($"{Description} fields", Fields.Select(f => f.Binding), allowNow: allowNow);
}

/// <summary>The sources the rule language knows, with their field mappings to Sentinel and Elastic.</summary>
public static class Sources
{
    /// <summary>
    /// The normalized LLM request events (DESIGN.md's event table). On Elastic: the pack's own activity streams and
    /// the data streams of Elastic's Amazon Bedrock and Azure OpenAI integrations, whose documents the pack's
    /// <c>@custom</c> pipelines give the same normalized fields (<c>Targets.Elastic.ElasticIntegrations</c>).
    /// </summary>
    public static readonly SourceSchema Activity = new(
        RuleSource.Activity,
        "activity event",
        "KeyAbuseActivity",
        "logs-keyabuse.activity-*,logs-aws_bedrock.invocation-*,logs-azure_openai.logs-*",
        [
            new("time", ExprType.DateTime, "TimeGenerated", "@timestamp", "when the API received the request"),
            new("key_id", ExprType.String, "KeyId", "keyabuse.key.id", "key id or fingerprint, never the secret"),
            new("service", ExprType.String, "Service", "service.name", "calling service"),
            new("env", ExprType.String, "Env", "service.environment", "environment of the calling service"),
            new("client_ip", ExprType.Ip, "SrcIpAddr", "source.ip", "source address"),
            new("country", ExprType.String, "SrcGeoCountry", "source.geo.country_iso_code", "ISO 3166-1 alpha-2 country of the source"),
            new("asn", ExprType.Long, "SrcAsn", "source.as.number", "autonomous system of the source"),
            new("user_agent", ExprType.String, "HttpUserAgent", "user_agent.original", "user agent"),
            new("provider", ExprType.String, "Provider", "gen_ai.provider.name", "LLM provider"),
            new("model", ExprType.String, "Model", "gen_ai.request.model", "model requested"),
            new("operation", ExprType.String, "Operation", "gen_ai.operation.name", "chat, completion, embeddings, responses, models.list, ..."),
            new("input_tokens", ExprType.Long, "InputTokens", "gen_ai.usage.input_tokens", "input tokens, cached included"),
            new("output_tokens", ExprType.Long, "OutputTokens", "gen_ai.usage.output_tokens", "output tokens"),
            new("tokens", ExprType.Long, "TotalTokens", "keyabuse.usage.total_tokens", "input_tokens + output_tokens (derived)"),
            new("status", ExprType.Long, "HttpStatusCode", "http.response.status_code", "HTTP status returned"),
            new("latency_ms", ExprType.Real, "LatencyMs", "keyabuse.latency_ms", "latency in milliseconds"),
            new("cost_usd", ExprType.Real, "CostUsd", "keyabuse.cost_usd", "cost in US dollars"),
            new("request_id", ExprType.String, "RequestId", "http.request.id", "request id"),
        ]);

    /// <summary>The key inventory: the Sentinel watchlist through its parser, the Elastic lookup index.</summary>
    public static readonly SourceSchema Inventory = new(
        RuleSource.Inventory,
        "inventory",
        "KeyAbuseInventory",
        "keyabuse-inventory",
        [
            new("key_id", ExprType.String, "KeyId", "keyabuse.key.id", "the key_id events carry"),
            new("provider", ExprType.String, "Provider", "keyabuse.key.provider", "LLM provider"),
            new("owner", ExprType.String, "Owner", "keyabuse.key.owner", "the person accountable for the key"),
            new("team", ExprType.String, "Team", "keyabuse.key.team", "owning team"),
            new("service", ExprType.String, "Service", "keyabuse.key.service", "the service the key belongs to"),
            new("env", ExprType.String, "Env", "keyabuse.key.env", "environment"),
            new("oncall", ExprType.String, "OncallRoute", "keyabuse.key.oncall_route", "the name of the on-call route (never a URL or routing key)"),
            new("created", ExprType.DateTime, "Created", "keyabuse.key.created", "when the key was created"),
            new("expires", ExprType.DateTime, "Expires", "keyabuse.key.expires", "when the key expires"),
            new("rotated", ExprType.DateTime, "Rotated", "keyabuse.key.rotated", "when the key was last rotated"),
            new("last_used", ExprType.DateTime, "LastUsed", "keyabuse.key.last_used", "when the key was last used, as the inventory knows it"),
            new("models", ExprType.StringList, "Models", "keyabuse.key.models", "declared models"),
            new("operations", ExprType.StringList, "Operations", "keyabuse.key.operations", "declared operations"),
            new("countries", ExprType.StringList, "Countries", "keyabuse.key.countries", "declared countries"),
            new("cidrs", ExprType.StringList, "Cidrs", "keyabuse.key.cidrs", "declared source ranges"),
            new("floor_scale", ExprType.Real, "FloorScale", "keyabuse.key.tuning.floor_scale", "multiplies the floor of every baseline rule for the key (the tuning of its service, or its own)"),
            new("min_ratio", ExprType.Real, "MinRatio", "keyabuse.key.tuning.min_ratio", "the least multiple of its baseline a key's value must pass in every baseline rule, on top of the rule's condition"),
        ]);

    /// <summary>Cloud control-plane audit events: AWS CloudTrail (Bedrock among them) and Azure Activity, normalized.</summary>
    public static readonly SourceSchema ControlPlane = new(
        RuleSource.ControlPlane,
        "control-plane event",
        "KeyAbuseControlPlane",
        "logs-aws.cloudtrail-*,logs-azure.activitylogs-*",
        [
            new("time", ExprType.DateTime, "TimeGenerated", "@timestamp", "when the call was made"),
            new("cloud", ExprType.String, "Cloud", "cloud.provider", "aws or azure"),
            new("event_source", ExprType.String, "EventSource", "event.provider", "the service called: bedrock.amazonaws.com, Microsoft.CognitiveServices"),
            new("event_name", ExprType.String, "EventName", "event.action", "the operation: InvokeModel, GetModelInvocationLoggingConfiguration, ..."),
            new("actor", ExprType.String, "Actor", "user.name", "the calling principal (ARN, user or service principal)"),
            new("key_id", ExprType.String, "KeyId", "aws.cloudtrail.user_identity.access_key_id", "the access key id of the call, when the cloud records one"),
            new("account", ExprType.String, "AccountId", "cloud.account.id", "the account or subscription"),
            new("region", ExprType.String, "Region", "cloud.region", "the region"),
            new("client_ip", ExprType.Ip, "SrcIpAddr", "source.ip", "source address"),
            new("country", ExprType.String, "SrcGeoCountry", "source.geo.country_iso_code", "ISO 3166-1 alpha-2 country of the source (enrichment)"),
            new("asn", ExprType.Long, "SrcAsn", "source.as.number", "autonomous system of the source (enrichment)"),
            new("user_agent", ExprType.String, "HttpUserAgent", "user_agent.original", "user agent"),
            new("outcome", ExprType.String, "Outcome", "event.outcome", "success or failure"),
            new("error_code", ExprType.String, "ErrorCode", "error.code", "the error code of a failed call"),
            new("model", ExprType.String, "Model", "gen_ai.request.model", "the model id of a model call"),
        ]);

    /// <summary>LLM provider audit logs (OpenAI's organization audit log and the like), normalized.</summary>
    public static readonly SourceSchema Audit = new(
        RuleSource.Audit,
        "provider audit event",
        "KeyAbuseAudit",
        "logs-keyabuse.audit-*",
        [
            new("time", ExprType.DateTime, "TimeGenerated", "@timestamp", "when the action took effect"),
            new("provider", ExprType.String, "Provider", "gen_ai.provider.name", "LLM provider"),
            new("event_type", ExprType.String, "EventType", "event.action", "api_key.created, api_key.deleted, login.failed, ..."),
            new("actor", ExprType.String, "Actor", "user.email", "the person or service account that acted"),
            new("actor_key_id", ExprType.String, "ActorKeyId", "keyabuse.actor.key_id", "the key the actor used, when it acted with one"),
            new("key_id", ExprType.String, "KeyId", "keyabuse.key.id", "the key acted on"),
            new("project", ExprType.String, "Project", "keyabuse.project.id", "the provider project"),
            new("client_ip", ExprType.Ip, "SrcIpAddr", "source.ip", "source address"),
            new("country", ExprType.String, "SrcGeoCountry", "source.geo.country_iso_code", "country of the source"),
            new("asn", ExprType.Long, "SrcAsn", "source.as.number", "autonomous system of the source (enrichment)"),
            new("user_agent", ExprType.String, "HttpUserAgent", "user_agent.original", "user agent"),
        ]);

    /// <summary>Application and CI log lines, where keys leak.</summary>
    public static readonly SourceSchema Logs = new(
        RuleSource.Logs,
        "log line",
        "KeyAbuseLogs",
        "logs-keyabuse.logs-*",
        [
            new("time", ExprType.DateTime, "TimeGenerated", "@timestamp", "when the line was written"),
            new("host", ExprType.String, "Computer", "host.name", "the host or runner"),
            new("source", ExprType.String, "Source", "log.file.path", "the file, stream or CI job the line came from"),
            new("pipeline", ExprType.String, "Pipeline", "keyabuse.ci.pipeline", "the CI pipeline, for CI logs"),
            new("repository", ExprType.String, "Repository", "keyabuse.ci.repository", "the repository, for CI logs"),
            new("message", ExprType.String, "Message", "message", "the log line"),
        ]);

    public static SourceSchema For(RuleSource source) => source switch
    {
        RuleSource.Activity => Activity,
        RuleSource.ControlPlane => ControlPlane,
        RuleSource.Audit => Audit,
        RuleSource.Logs => Logs,
        _ => Inventory,
    };

    public static string Name(RuleSource source) => source switch
    {
        RuleSource.Activity => "activity",
        RuleSource.ControlPlane => "control_plane",
        RuleSource.Audit => "audit",
        RuleSource.Logs => "logs",
        _ => "inventory",
    };
}
