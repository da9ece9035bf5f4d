using System.Collections.Immutable;
using KeyAbuseContent.Templates;

namespace KeyAbuseContent.Response;

/// <summary>How a response request proves who sends it.</summary>
public enum ResponseAuth
{
    /// <summary>The URL is the secret (Slack incoming webhook) or the secret is in the body (PagerDuty routing key).</summary>
    None,
    /// <summary><c>Authorization: Bearer</c>: LiteLLM's master key, OpenAI's admin key.</summary>
    Bearer,
    /// <summary>Anthropic's Admin API: <c>x-api-key</c> with the admin key.</summary>
    ApiKeyHeader,
}

/// <summary>
/// One request a response action sends: method, path under the provider's base URL (or the whole URL of a
/// route), how it authenticates, fixed headers and the JSON body rendered from a shipped template.
/// </summary>
public sealed record ResponseRequest(string Action, string Method, string Path, ResponseAuth Auth, ImmutableArray<KeyValuePair<string, string>> Headers, string? Body);

/// <summary>The values a notification carries: the alert and the key's owner and route, never a secret.</summary>
public sealed record NotificationContent(
    string Rule,
    string KeyId,
    string Severity,
    string Title,
    string Summary,
    string Timestamp,
    string? Owner,
    string? Team,
    string? Service,
    string Route,
    string? ConfirmUrl);

/// <summary>
/// The requests of the response content, rendered from the Scriban templates under Templates/response/ that the
/// bundle ships: the responder sends them, and the Sentinel playbooks carry the same bodies with Logic App
/// expressions in place of values. Values are escaped in C# (JSON), never in a template.
/// </summary>
public static class ResponseRequests
{
    /// <summary>The Anthropic API version the Admin API calls pin.</summary>
    public const string AnthropicVersion = "2023-06-01";

    /// <summary>PagerDuty's Events API v2 endpoint.</summary>
    public const string PagerDutyEventsUrl = "https://events.pagerduty.com/v2/enqueue";

    /// <summary>The template names the bundle ships, for the build to copy.</summary>
    public static readonly ImmutableArray<string> Templates =
        ["litellm-block.json.scriban", "litellm-clamp.json.scriban", "anthropic-deactivate.json.scriban", "pagerduty-trigger.json.scriban", "slack-message.json.scriban"];

    private static string Render(string name, object model) => DocumentTemplates.Render("response/" + name, model);

    private static ImmutableArray<KeyValuePair<string, string>> Json => [KeyValuePair.Create("Content-Type", "application/json")];

    /// <summary>LiteLLM: block a virtual key from making any request (reversible with /key/unblock).</summary>
    public static ResponseRequest LiteLlmBlock(string key) =>
        new("litellm.block", "POST", "/key/block", ResponseAuth.Bearer, Json, Render("litellm-block.json.scriban", new { Key = key }));

    /// <summary>LiteLLM: clamp a virtual key's limits (requests and tokens per minute, budget in USD); only the limits given change.</summary>
    public static ResponseRequest LiteLlmClamp(string key, long? rpmLimit, long? tpmLimit, double? maxBudget) =>
        new("litellm.clamp", "POST", "/key/update", ResponseAuth.Bearer, Json,
            Render("litellm-clamp.json.scriban", new { Key = key, RpmLimit = rpmLimit, TpmLimit = tpmLimit, MaxBudget = maxBudget }));

    /// <summary>
    /// The LiteLLM clamp as a playbook carries it: the same template, each limit an expression the Logic App evaluates
    /// at run time (to a number, or null for a limit the inventory leaves out, which the playbook then removes).
    /// </summary>
    public static ResponseRequest LiteLlmClampExpressions(string key, string rpmLimit, string tpmLimit, string maxBudget) =>
        new("litellm.clamp", "POST", "/key/update", ResponseAuth.Bearer, Json,
            Render("litellm-clamp.json.scriban", new { Key = key, RpmLimit = rpmLimit, TpmLimit = tpmLimit, MaxBudget = maxBudget }));

    /// <summary>Anthropic: set an API key inactive (reversible); <paramref name="apiKeyIdSegment"/> is already a URL path segment.</summary>
    public static ResponseRequest AnthropicDeactivate(string apiKeyIdSegment) =>
        new("anthropic.deactivate", "POST", "/v1/organizations/api_keys/" + apiKeyIdSegment, ResponseAuth.ApiKeyHeader,
            [.. Json, KeyValuePair.Create("anthropic-version", AnthropicVersion)], Render("anthropic-deactivate.json.scriban", new { }));

    /// <summary>OpenAI: delete a project API key. It cannot be undone, so it is sent only after an analyst confirms.</summary>
    public static ResponseRequest OpenAiDeleteProjectKey(string projectSegment, string keySegment) =>
        new("openai.delete", "DELETE", $"/v1/organization/projects/{projectSegment}/api_keys/{keySegment}", ResponseAuth.Bearer, Json, null);

    /// <summary>PagerDuty's severity for a rule's: critical, error, warning or info.</summary>
    public static string PagerDutySeverity(string severity) => severity.ToLowerInvariant() switch
    {
        "critical" => "critical",
        "high" => "error",
        "medium" => "warning",
        _ => "info",
    };

    /// <summary>One incident per key and rule: later alerts of the rule on the key add to it instead of paging again.</summary>
    public static string DedupKey(string rule, string keyId)
    {
        var key = $"keyabuse:{rule}:{keyId}";
        return key.Length <= 255 ? key : key[..255];
    }

    /// <summary>
    /// PagerDuty Events API v2: trigger an alert; the routing key is in the body. <paramref name="severity"/> overrides
    /// the mapping of the alert's severity (a playbook passes an expression that maps it at run time).
    /// </summary>
    public static ResponseRequest PagerDutyTrigger(string routingKey, NotificationContent n, string? severity = null) =>
        new("pagerduty.trigger", "POST", "", ResponseAuth.None, Json, Render("pagerduty-trigger.json.scriban", new
        {
            RoutingKey = routingKey,
            DedupKey = DedupKey(n.Rule, n.KeyId),
            Summary = Truncate(n.Title, 1024),
            Source = n.Service ?? n.KeyId,
            Severity = severity ?? PagerDutySeverity(n.Severity),
            n.Timestamp,
            Component = n.KeyId,
            Group = n.Team,
            n.Rule,
            n.KeyId,
            n.Owner,
            n.Team,
            n.Route,
            Description = n.Summary,
            n.ConfirmUrl,
        }));

    /// <summary>Slack incoming webhook: the alert, who owns the key, and the confirm link when containment waits for an analyst.</summary>
    public static ResponseRequest SlackMessage(NotificationContent n)
    {
        var details = Mrkdwn(n.Summary);
        if (n.ConfirmUrl is { } url)
        {
            details += $"\n<{url}|Confirm containment of {Mrkdwn(n.KeyId)}>";
        }
        return new("slack.message", "POST", "", ResponseAuth.None, Json, Render("slack-message.json.scriban", new
        {
            Text = $"[{n.Severity}] {n.Title}",
            Headline = $"*[{Mrkdwn(n.Severity)}] {Mrkdwn(n.Title)}*",
            Details = details,
            Context = $"rule {Mrkdwn(n.Rule)} · key {Mrkdwn(n.KeyId)} · owner {Mrkdwn(n.Owner ?? "unknown")} · team {Mrkdwn(n.Team ?? "unknown")} · route {Mrkdwn(n.Route)}",
        }));
    }

    /// <summary>Slack's mrkdwn escapes only &amp;, &lt; and &gt;.</summary>
    public static string Mrkdwn(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
