using System.Collections.Immutable;

namespace KeyAbuseContent.Rules;

/// <summary>
/// <c>azure_openai</c>: Log Analytics rows of Azure OpenAI and of the API Management gateway in front of it, one row a
/// line with its <c>Type</c> naming its table, dispatched to the source of that table.
/// </summary>
public static partial class RawSources
{
    /// <summary>The raw file of the Azure OpenAI and API Management rows.</summary>
    public const string AzureOpenAiFile = "azure_openai";

    /// <summary>Azure OpenAI REST operations (diagnostic OperationName, API Management OperationId) and the normalized operation.</summary>
    internal static readonly ImmutableArray<(string From, string To)> AzureOpenAiOperations =
    [
        ("ChatCompletions_Create", "chat"), ("Completions_Create", "completion"),
        ("embeddings_create", "embeddings"), ("Embeddings_Create", "embeddings"),
        ("ImageGenerations_Create", "images"), ("Transcriptions_Create", "audio"), ("Translations_Create", "audio"),
    ];

    /// <summary>
    /// AzureDiagnostics rows of Azure OpenAI's RequestResponse category: one a request, with the model, the caller's
    /// /24 (the last octet masked) and no tokens. The account (or the Entra object id of a token caller) is the key:
    /// the log does not say which of the account's two keys signed the request.
    /// </summary>
    public static readonly RawSource AzureOpenAiRequests = new(
        "azure_openai_requests",
        RuleSource.Activity,
        "Azure OpenAI RequestResponse diagnostic rows (AzureDiagnostics, Category RequestResponse)",
        "AzureDiagnostics",
        "KeyAbuseActivityAzureOpenAI",
        "logs-azure_openai.logs-default",
        "azure_openai.logs",
        "TimeGenerated",
        RawTimeFormat.Iso8601,
        [
            new("TimeGenerated", RawKind.String), new("Resource", RawKind.String), new("OperationName", RawKind.String),
            new("ResultSignature", RawKind.String), new("CorrelationId", RawKind.String),
        ],
        ["CallerIPAddress"],
        [
            new("ResourceId", "ResourceId", "string"),
            new("SubscriptionId", "SubscriptionId", "string"),
            new("ResourceGroup", "ResourceGroup", "string"),
            new("ResourceProvider", "ResourceProvider", "string"),
            new("Resource", "Resource", "string"),
            new("Category", "Category", "string"),
            new("OperationName", "OperationName", "string"),
            new("ResultSignature", "ResultSignature", "string"),
            new("DurationMs", "DurationMs", "long"),
            new("CallerIPAddress", "CallerIPAddress", "string"),
            new("CorrelationId", "CorrelationId", "string"),
            new("properties_s", "properties_s", "string", JsonText: true),
        ],
        [
            new("key_id", new RawFirst([new RawPath("properties_s.objectId"), new RawPath("Resource")])),
            new("client_ip", new RawMaskedAddress("CallerIPAddress")),
            new("provider", new RawConst("azure_openai")),
            new("model", new RawFirst([new RawPath("properties_s.modelName"), new RawPath("properties_s.modelDeploymentName")])),
            new("operation", new RawLookup("OperationName", AzureOpenAiOperations, null, null)),
            new("status", new RawPath("ResultSignature")),
            new("latency_ms", new RawPath("DurationMs")),
            new("request_id", new RawPath("CorrelationId")),
        ],
        File: AzureOpenAiFile,
        Match: [new("Type", "AzureDiagnostics"), new("ResourceProvider", "MICROSOFT.COGNITIVESERVICES"), new("Category", "RequestResponse")]);

    /// <summary>
    /// AzureDiagnostics rows of the Audit category of a Cognitive Services (Azure OpenAI) account: a read of the
    /// account's keys (<c>ListKey</c>), with the Entra object id of the principal that read them in
    /// <c>properties_s</c> and, as documented, no caller address. They feed the audit view: the key is the account, as
    /// for RequestResponse rows, so an audit event and the account's requests share a <c>key_id</c>; <c>ListKey</c> is
    /// normalized to <c>api_key.listed</c> and any other operation is kept as the vendor names it.
    /// </summary>
    public static readonly RawSource AzureOpenAiAudit = new(
        "azure_openai_audit",
        RuleSource.Audit,
        "Azure OpenAI Audit diagnostic rows (AzureDiagnostics, Category Audit)",
        "AzureDiagnostics",
        "KeyAbuseAuditAzureOpenAI",
        "logs-keyabuse.audit-azure_openai",
        "azure_openai.logs",
        "TimeGenerated",
        RawTimeFormat.Iso8601,
        [new("TimeGenerated", RawKind.String), new("Resource", RawKind.String), new("OperationName", RawKind.String)],
        ["CallerIPAddress"],
        [
            new("ResourceId", "ResourceId", "string"),
            new("SubscriptionId", "SubscriptionId", "string"),
            new("ResourceGroup", "ResourceGroup", "string"),
            new("ResourceProvider", "ResourceProvider", "string"),
            new("Resource", "Resource", "string"),
            new("Category", "Category", "string"),
            new("OperationName", "OperationName", "string"),
            new("CallerIPAddress", "CallerIPAddress", "string"),
            new("CorrelationId", "CorrelationId", "string"),
            new("properties_s", "properties_s", "string", JsonText: true),
        ],
        [
            new("provider", new RawConst("azure_openai")),
            new("event_type", new RawLookup("OperationName", [("ListKey", "api_key.listed")], null, null)),
            new("actor", new RawPath("properties_s.objectId")),
            new("key_id", new RawPath("Resource")),
            new("client_ip", new RawMaskedAddress("CallerIPAddress")),
        ],
        File: AzureOpenAiFile,
        Match: [new("Type", "AzureDiagnostics"), new("ResourceProvider", "MICROSOFT.COGNITIVESERVICES"), new("Category", "Audit")]);

    /// <summary>
    /// ApiManagementGatewayLlmLog rows: the language-model part of a gateway request, one row a message of the
    /// exchange. The tokens of the request are on its SequenceNumber 0 row; the others repeat or split them, so only
    /// that row is joined.
    /// </summary>
    public static readonly RawSource AzureApimLlmLog = new(
        "azure_openai_apim_llm",
        RuleSource.Activity,
        "API Management GatewayLlmLogs rows (ApiManagementGatewayLlmLog)",
        "ApiManagementGatewayLlmLog",
        "",
        "logs-azure_openai.apim_llm-keyabuse",
        "azure_openai.apim_llm",
        "TimeGenerated",
        RawTimeFormat.Iso8601,
        [new("TimeGenerated", RawKind.String), new("CorrelationId", RawKind.String), new("SequenceNumber", RawKind.Number)],
        [],
        [
            new("CorrelationId", "CorrelationId", "string"),
            new("SequenceNumber", "SequenceNumber", "int"),
            new("ModelName", "ModelName", "string"),
            new("DeploymentName", "DeploymentName", "string"),
            new("OperationName", "OperationName", "string"),
            new("PromptTokens", "PromptTokens", "int"),
            new("CompletionTokens", "CompletionTokens", "int"),
            new("TotalTokens", "TotalTokens", "int"),
            new("RequestId", "RequestId", "string"),
            new("IsStreamCompletion", "IsStreamCompletion", "bool"),
        ],
        [],
        File: AzureOpenAiFile,
        Match: [new("Type", "ApiManagementGatewayLlmLog")]);

    /// <summary>
    /// ApiManagementGatewayLogs rows of the gateway in front of Azure OpenAI, joined with their LLM log on
    /// CorrelationId: the API Management subscription is the key, the caller's address is whole, and the tokens come
    /// from the LLM log's SequenceNumber 0 row.
    /// </summary>
    public static readonly RawSource AzureOpenAiApim = new(
        "azure_openai_apim",
        RuleSource.Activity,
        "API Management GatewayLogs rows (ApiManagementGatewayLogs) joined with their GatewayLlmLogs",
        "ApiManagementGatewayLogs",
        "KeyAbuseActivityAzureApim",
        "logs-keyabuse.activity-azure_apim",
        "azure_openai.apim",
        "TimeGenerated",
        RawTimeFormat.Iso8601,
        [new("TimeGenerated", RawKind.String), new("CorrelationId", RawKind.String), new("ResponseCode", RawKind.Number)],
        ["CallerIpAddress"],
        [
            new("ApiId", "ApiId", "string"),
            new("OperationId", "OperationId", "string"),
            new("ProductId", "ProductId", "string"),
            new("Method", "Method", "string"),
            new("Url", "Url", "string"),
            new("ResponseCode", "ResponseCode", "int"),
            new("BackendResponseCode", "BackendResponseCode", "int"),
            new("CallerIpAddress", "CallerIpAddress", "string"),
            new("IsRequestSuccess", "IsRequestSuccess", "bool"),
            new("TotalTime", "TotalTime", "int"),
            new("ApimSubscriptionId", "ApimSubscriptionId", "string"),
            new("CorrelationId", "CorrelationId", "string"),
        ],
        [
            new("key_id", new RawPath("ApimSubscriptionId")),
            new("service", new RawPath("ProductId")),
            new("client_ip", new RawPath("CallerIpAddress")),
            new("provider", new RawConst("azure_openai")),
            new("model", new RawFirst([new RawPath("Llm.ModelName"), new RawPath("Llm.DeploymentName")])),
            new("operation", new RawLookup("OperationId", AzureOpenAiOperations, null, null)),
            new("input_tokens", new RawPath("Llm.PromptTokens", "0")),
            new("output_tokens", new RawPath("Llm.CompletionTokens", "0")),
            new("status", new RawPath("ResponseCode")),
            new("latency_ms", new RawPath("TotalTime")),
            new("request_id", new RawPath("CorrelationId")),
        ],
        File: AzureOpenAiFile,
        Match: [new("Type", "ApiManagementGatewayLogs")],
        Join: new(AzureApimLlmLog, "CorrelationId", "SequenceNumber", "0", "Llm"));

    /// <summary>
    /// AzureActivity rows (the Azure control plane: listKeys/action and regenerateKey/action on Cognitive Services
    /// accounts among them), read by the control-plane view beside CloudTrail.
    /// </summary>
    public static readonly RawSource AzureOpenAiActivity = new(
        "azure_openai_activity",
        RuleSource.ControlPlane,
        "Azure Activity log rows (AzureActivity), Cognitive Services key listing and regeneration among them",
        "AzureActivity",
        "KeyAbuseControlPlane",
        "logs-azure.activitylogs-default",
        "azure.activitylogs",
        "TimeGenerated",
        RawTimeFormat.Iso8601,
        [new("TimeGenerated", RawKind.String), new("OperationNameValue", RawKind.String), new("ResourceProviderValue", RawKind.String)],
        ["CallerIpAddress"],
        [
            new("OperationNameValue", "OperationNameValue", "string"),
            new("ResourceProviderValue", "ResourceProviderValue", "string"),
            new("ActivityStatusValue", "ActivityStatusValue", "string"),
            new("ActivitySubstatusValue", "ActivitySubstatusValue", "string"),
            new("Caller", "Caller", "string"),
            new("CallerIpAddress", "CallerIpAddress", "string"),
            new("SubscriptionId", "SubscriptionId", "string"),
            new("ResourceGroup", "ResourceGroup", "string"),
            new("CorrelationId", "CorrelationId", "string"),
            new("_ResourceId", "_ResourceId", "string"),
        ],
        [
            new("cloud", new RawConst("azure")),
            new("event_source", new RawPath("ResourceProviderValue")),
            new("event_name", new RawPath("OperationNameValue")),
            new("actor", new RawPath("Caller")),
            new("account", new RawPath("SubscriptionId")),
            new("client_ip", new RawPath("CallerIpAddress")),
            new("outcome", new RawLookup("ActivityStatusValue", [("Failure", "failure"), ("Failed", "failure")], "success", "success")),
            new("error_code", new RawPath("ActivitySubstatusValue")),
        ],
        File: AzureOpenAiFile,
        Match: [new("Type", "AzureActivity")]);
}
