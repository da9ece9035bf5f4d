using System.Text.Json.Nodes;
using KeyAbuseContent.Build;
using KeyAbuseContent.Response;
using KeyAbuseContent.Targets.Elastic;
using KeyAbuseContent.Targets.Sentinel;

namespace KeyAbuseContent.Tests.Response;

/// <summary>The response content of the bundle: Sentinel playbooks and automation rule, Elastic connectors and actions.</summary>
public sealed class PlatformResponseTests
{
    private static readonly Lazy<PackBuild> Pack = new(() => new PackBuilder(TestPaths.RepositoryRoot, TestPaths.Detections).Build());

    private static readonly Lazy<SortedDictionary<string, string>> Files = new(() => PackWriter.Files(Pack.Value));

    /// <summary>Each rule's Kibana actions, by rule id.</summary>
    private static Dictionary<string, JsonArray> ActionsByRule() =>
        Files.Value["elastic/actions.ndjson"].Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!["body"]!)
            .ToDictionary(b => (string)b["rule_id"]!, b => b["actions"]!.AsArray());

    private static bool NamesAKey(KeyAbuseContent.Rules.AnalyzedRule rule) => rule.Entities.ContainsKey("key");

    private static JsonObject Arm => (JsonObject)JsonNode.Parse(Files.Value["sentinel/azuredeploy.json"])!;

    private static IEnumerable<JsonObject> Resources(string type) => Arm["resources"]!.AsArray().OfType<JsonObject>().Where(r => (string?)r["type"] == type);

    private static JsonObject Workflow(string name) => Resources("Microsoft.Logic/workflows").Single(r => (string?)r["name"] == name);

    [Fact]
    public void The_automation_rule_runs_only_the_notify_playbook()
    {
        var rule = Assert.Single(Resources("Microsoft.OperationalInsights/workspaces/providers/automationRules"));
        var action = Assert.Single(rule["properties"]!["actions"]!.AsArray());
        Assert.Contains(SentinelArmTemplate.NotifyPlaybook, (string?)action!["actionConfiguration"]!["logicAppResourceId"], StringComparison.Ordinal);
    }

    [Fact]
    public void The_automation_rule_covers_every_analytics_rule_of_the_pack()
    {
        var rule = Assert.Single(Resources("Microsoft.OperationalInsights/workspaces/providers/automationRules"));
        var values = rule["properties"]!["triggeringLogic"]!["conditions"]![0]!["conditionProperties"]!["propertyValues"]!.AsArray().Select(v => (string)v!).ToList();
        Assert.Equal(Resources("Microsoft.OperationalInsights/workspaces/providers/alertRules").Count(), values.Count);
    }

    [Fact]
    public void The_notify_playbook_posts_the_slack_body_of_the_shipped_template()
    {
        var send = Workflow(SentinelArmTemplate.NotifyPlaybook)["properties"]!["definition"]!["actions"]!["Send_slack"]!;
        Assert.Equal(["text", "blocks"], send["inputs"]!["body"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public void The_contain_playbook_sends_each_providers_request_with_its_documented_authentication()
    {
        var cases = Workflow(SentinelArmTemplate.ContainPlaybook)["properties"]!["definition"]!["actions"]!["Contain"]!["cases"]!;
        Assert.Equal("DELETE", (string?)cases["OpenAI"]!["actions"]!["Send_openai_delete"]!["inputs"]!["method"]);
        var anthropic = cases["Anthropic"]!["actions"]!["Send_anthropic_deactivate"]!["inputs"]!;
        Assert.Equal(ResponseRequests.AnthropicVersion, (string?)anthropic["headers"]!["anthropic-version"]);
        Assert.Equal("inactive", (string?)anthropic["body"]!["status"]);
        Assert.StartsWith("Bearer ", (string?)cases["LiteLLM"]!["actions"]!["Send_litellm_block"]!["inputs"]!["headers"]!["Authorization"], StringComparison.Ordinal);
    }

    [Fact]
    public void The_playbooks_read_secrets_from_key_vault_and_never_carry_them()
    {
        var text = Files.Value["sentinel/azuredeploy.json"];
        Assert.Contains("vault.azure.net/secrets/", text, StringComparison.Ordinal);
        Assert.DoesNotContain("hooks.slack.com", text, StringComparison.Ordinal);
        // No key value: the key-material rule's regular expressions name the prefixes, never a key.
        Assert.DoesNotMatch(@"sk-(?:proj-|svcacct-|admin-|ant-api03-|ant-admin01-)?[A-Za-z0-9_\-]{20,}", text);
    }

    [Fact]
    public void Every_connector_secret_is_a_placeholder()
    {
        foreach (var line in Files.Value["elastic/connectors.ndjson"].Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var secrets = JsonNode.Parse(line)!["body"]!["secrets"]!.AsObject();
            Assert.All(secrets.Where(s => s.Key != "user"), s => Assert.Matches(@"^\$\{KEYABUSE_[A-Z_]+\}$", (string)s.Value!));
        }
    }

    [Fact]
    public void Every_rule_that_names_a_key_hands_its_alerts_to_the_responder()
    {
        var actions = ActionsByRule();
        var keyed = Pack.Value.Rules.Select(r => r.Analyzed).Where(NamesAKey).ToList();
        Assert.NotEmpty(keyed);
        Assert.All(keyed, r => Assert.Contains(actions[r.Rule.Id.ToString()], a => (string?)a!["id"] == ElasticResponse.ResponderConnector));
    }

    [Fact]
    public void A_rule_whose_alerts_name_no_key_notifies_the_soc_only()
    {
        var actions = ActionsByRule();
        var unkeyed = Pack.Value.Rules.Select(r => r.Analyzed).Where(r => !NamesAKey(r)).ToList();
        Assert.NotEmpty(unkeyed);
        Assert.All(unkeyed, r => Assert.DoesNotContain(actions[r.Rule.Id.ToString()], a => (string?)a!["id"] == ElasticResponse.ResponderConnector));
    }

    [Fact]
    public void The_webhook_body_kibana_renders_is_what_the_responder_reads()
    {
        var body = ActionsByRule().Values.SelectMany(a => a).Where(a => (string?)a!["id"] == ElasticResponse.ResponderConnector).Select(a => (string)a!["params"]!["body"]!).First();
        // Mustache as Kibana renders one alert of the run: sections kept once, variables filled.
        var rendered = System.Text.RegularExpressions.Regex.Replace(body.Replace("{{#context.alerts}}", "", StringComparison.Ordinal).Replace("{{/context.alerts}}", "", StringComparison.Ordinal), @"\{\{[^}]+\}\}", "v");
        var (alerts, problem) = KeyAbuseContent.Responder.IncomingAlert.Parse(rendered);
        Assert.Null(problem);
        Assert.Equal("v", Assert.Single(alerts).KeyId);
    }
}
