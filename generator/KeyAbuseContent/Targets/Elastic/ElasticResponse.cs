using System.Collections.Immutable;
using System.Text;
using System.Text.Json.Nodes;
using KeyAbuseContent.Response;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Templates;

namespace KeyAbuseContent.Targets.Elastic;

/// <summary>
/// The response content for Elastic, as Kibana API calls (one a line: method, path, purpose, body, as
/// <c>elastic/setup.ndjson</c>): the connectors (Slack and PagerDuty for the SOC's own route, and a webhook to
/// <c>keyabuse respond</c>, which resolves each key's route and contains it) and each rule's actions. Secrets are
/// <c>${NAME}</c> placeholders filled from the deployer's environment, never values.
/// </summary>
public static class ElasticResponse
{
    public const string SlackConnector = "keyabuse-slack";
    public const string PagerDutyConnector = "keyabuse-pagerduty";
    public const string ResponderConnector = "keyabuse-respond";

    /// <summary>The placeholders the connectors need, each an environment variable of whoever deploys them.</summary>
    public static readonly ImmutableArray<string> Placeholders =
        ["KEYABUSE_SLACK_WEBHOOK_URL", "KEYABUSE_PAGERDUTY_ROUTING_KEY", "KEYABUSE_RESPONDER_URL", "KEYABUSE_RESPONDER_SECRET"];

    public static IEnumerable<ElasticSetupRequest> Connectors() =>
    [
        new("POST", "kbn:/api/actions/connector/" + SlackConnector, new JsonObject
        {
            ["name"] = "KeyAbuseContent: Slack (the SOC's route)",
            ["connector_type_id"] = ".slack",
            ["secrets"] = new JsonObject { ["webhookUrl"] = "${KEYABUSE_SLACK_WEBHOOK_URL}" },
        }, "Kibana's Slack connector (incoming webhook) for the SOC's own channel"),
        new("POST", "kbn:/api/actions/connector/" + PagerDutyConnector, new JsonObject
        {
            ["name"] = "KeyAbuseContent: PagerDuty (the SOC's route)",
            ["connector_type_id"] = ".pagerduty",
            ["config"] = new JsonObject { ["apiUrl"] = ResponseRequests.PagerDutyEventsUrl },
            ["secrets"] = new JsonObject { ["routingKey"] = "${KEYABUSE_PAGERDUTY_ROUTING_KEY}" },
        }, "Kibana's PagerDuty connector (Events API v2) for the SOC's own service"),
        new("POST", "kbn:/api/actions/connector/" + ResponderConnector, new JsonObject
        {
            ["name"] = "KeyAbuseContent: keyabuse respond",
            ["connector_type_id"] = ".webhook",
            ["config"] = new JsonObject
            {
                ["url"] = "${KEYABUSE_RESPONDER_URL}/alerts",
                ["method"] = "post",
                ["headers"] = new JsonObject { ["Content-Type"] = "application/json" },
                ["hasAuth"] = true,
                ["authType"] = "webhook-authentication-basic",
            },
            // Kibana's webhook cannot sign a body: it authenticates with the responder's shared secret as the Basic password over TLS.
            ["secrets"] = new JsonObject { ["user"] = "kibana", ["password"] = "${KEYABUSE_RESPONDER_SECRET}" },
        }, "a webhook to keyabuse respond, which resolves each key's route, notifies its owner and contains the key"),
    ];

    /// <summary>Each rule's actions: the SOC's Slack and PagerDuty, and the responder for rules whose alerts name a key.</summary>
    public static ElasticSetupRequest Actions(AnalyzedRule rule, string? keyField)
    {
        var r = rule.Rule;
        var severity = r.Severity.ToString().ToLowerInvariant();
        var perRun = new JsonObject { ["summary"] = true, ["notifyWhen"] = "onActiveAlert", ["throttle"] = null };
        var key = keyField is null ? "" : "{{" + keyField + "}}";
        var actions = new JsonArray
        {
            new JsonObject
            {
                ["group"] = "default",
                ["id"] = SlackConnector,
                ["action_type_id"] = ".slack",
                ["params"] = new JsonObject
                {
                    ["message"] = $"*[{severity}] {Mustache(r.Title)}*\n{{{{#context.alerts}}}}• {{{{keyabuse.alert.title}}}} (owner {{{{keyabuse.key.owner}}}}, team {{{{keyabuse.key.team}}}}, route {{{{keyabuse.key.oncall_route}}}})\n{{{{/context.alerts}}}}<{{{{{{context.results_link}}}}}}|Open in Kibana>",
                },
                ["frequency"] = perRun.DeepClone(),
            },
            new JsonObject
            {
                ["group"] = "default",
                ["id"] = PagerDutyConnector,
                ["action_type_id"] = ".pagerduty",
                ["params"] = new JsonObject
                {
                    ["eventAction"] = "trigger",
                    // One incident per key and rule, as the responder and the Sentinel playbook do.
                    ["dedupKey"] = ResponseRequests.DedupKey(r.Name, "{{#context.alerts}}" + key + "{{/context.alerts}}"),
                    ["severity"] = ResponseRequests.PagerDutySeverity(severity),
                    ["summary"] = "{{context.rule.name}}: {{#context.alerts}}{{keyabuse.alert.title}} {{/context.alerts}}",
                    ["source"] = "KeyAbuseContent",
                    ["component"] = "{{#context.alerts}}" + key + "{{/context.alerts}}",
                    ["group"] = "{{#context.alerts}}{{keyabuse.key.team}}{{/context.alerts}}",
                    ["class"] = r.Name,
                    ["links"] = new JsonArray(new JsonObject { ["href"] = "{{{context.results_link}}}", ["text"] = "Open in Kibana" }),
                },
                ["frequency"] = perRun.DeepClone(),
            },
        };
        if (keyField is not null)
        {
            actions.Add(new JsonObject
            {
                ["group"] = "default",
                ["id"] = ResponderConnector,
                ["action_type_id"] = ".webhook",
                ["params"] = new JsonObject { ["body"] = ResponderBody(r, severity, key) },
                ["frequency"] = perRun.DeepClone(),
            });
        }
        return new ElasticSetupRequest("PATCH", "kbn:/api/detection_engine/rules", new JsonObject { ["rule_id"] = r.Id.ToString(), ["actions"] = actions },
            $"{r.Name}: notify the SOC's route{(keyField is null ? "" : ", and hand each alert to keyabuse respond for the key's own route and containment")}");
    }

    /// <summary>
    /// DESIGN.md's alert line for each alert of the run, as the responder reads it. Kibana's webhook renders the body's
    /// variables JSON-escaped; the rule's own texts are escaped here. A trailing empty object closes the list.
    /// </summary>
    private static string ResponderBody(Rule r, string severity, string key)
    {
        var sb = new StringBuilder("{\"alerts\":[{{#context.alerts}}{");
        sb.Append("\"rule\":").Append(Mustache(DocumentTemplates.JsonScalar(r.Name)));
        sb.Append(",\"rule_id\":\"").Append(r.Id).Append('"');
        sb.Append(",\"severity\":\"").Append(severity).Append('"');
        sb.Append(",\"time\":\"{{@timestamp}}\",\"key_id\":\"").Append(key).Append('"');
        sb.Append(",\"title\":\"{{keyabuse.alert.title}}\",\"summary\":\"{{keyabuse.alert.summary}}\"");
        sb.Append(",\"owner\":\"{{keyabuse.key.owner}}\",\"team\":\"{{keyabuse.key.team}}\",\"service\":\"{{keyabuse.key.service}}\",\"route\":\"{{keyabuse.key.oncall_route}}\"");
        sb.Append("},{{/context.alerts}}{}]}");
        return sb.ToString();
    }

    /// <summary>A literal in a mustache template: braces cannot open a variable.</summary>
    private static string Mustache(string text) => text.Replace("{{", "{ {", StringComparison.Ordinal).Replace("}}", "} }", StringComparison.Ordinal);

    /// <summary>The field of a rule's alerts that holds the key, as <see cref="Esql.EsqlRuleCompiler"/> joins the inventory on it.</summary>
    public static string? KeyField(AnalyzedRule rule) =>
        rule.Entities.TryGetValue("key", out var key) ? key.EsqlName : rule.ResultColumns.FirstOrDefault(c => c.Name == "key_id")?.EsqlName;

    /// <summary>The connector and action files of the bundle, as NDJSON text by path.</summary>
    public static IEnumerable<(string Path, string Text)> Files(IEnumerable<AnalyzedRule> rules) =>
    [
        ("elastic/connectors.ndjson", Lines(Connectors())),
        ("elastic/actions.ndjson", Lines(rules.Select(r => Actions(r, KeyField(r))))),
    ];

    private static string Lines(IEnumerable<ElasticSetupRequest> requests)
    {
        var options = new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        return string.Concat(requests.Select(r => r.ToJson().ToJsonString(options) + "\n"));
    }
}
