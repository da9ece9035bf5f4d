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

    private static IEnumerable<JsonObject> AutomationRules => Resources("Microsoft.OperationalInsights/workspaces/providers/automationRules");

    /// <summary>The playbook an automation rule runs, by its name.</summary>
    private static string PlaybookRunBy(JsonObject rule)
    {
        var action = Assert.Single(rule["properties"]!["actions"]!.AsArray());
        var id = (string)action!["actionConfiguration"]!["logicAppResourceId"]!;
        return Resources("Microsoft.Logic/workflows").Select(w => (string)w["name"]!).Single(n => id.Contains($"'{n}'", StringComparison.Ordinal));
    }

    /// <summary>Every action of a workflow definition, nested ones (If, Switch, Scope) included.</summary>
    private static IEnumerable<(string Name, JsonObject Action)> AllActions(JsonObject? actions)
    {
        foreach (var (name, node) in actions ?? [])
        {
            var action = node!.AsObject();
            yield return (name, action);
            var nested = new[] { action["actions"], action["else"]?["actions"], action["default"]?["actions"] }
                .Concat(action["cases"]?.AsObject().Select(c => c.Value!["actions"]) ?? []);
            foreach (var inner in nested.OfType<JsonObject>().SelectMany(AllActions))
            {
                yield return inner;
            }
        }
    }

    private static JsonObject Definition(string playbook) => Workflow(playbook)["properties"]!["definition"]!["actions"]!.AsObject();

    [Fact]
    public void The_automation_rules_run_the_notify_and_the_automatic_containment_playbooks_only()
    {
        Assert.Equal([SentinelArmTemplate.ContainAutoPlaybook, SentinelArmTemplate.NotifyPlaybook], AutomationRules.Select(PlaybookRunBy).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Each_automation_rule_covers_every_analytics_rule_of_the_pack()
    {
        Assert.All(AutomationRules, rule =>
        {
            var values = rule["properties"]!["triggeringLogic"]!["conditions"]![0]!["conditionProperties"]!["propertyValues"]!.AsArray().Select(v => (string)v!).ToList();
            Assert.Equal(Resources("Microsoft.OperationalInsights/workspaces/providers/alertRules").Count(), values.Count);
        });
    }

    [Fact]
    public void No_playbook_an_automation_rule_runs_calls_openai_or_anthropic()
    {
        // An OpenAI deletion cannot be undone and Anthropic keys wait for an analyst too: only Contain, run by hand, calls them.
        foreach (var playbook in AutomationRules.Select(PlaybookRunBy))
        {
            var http = AllActions(Definition(playbook)).Where(a => (string?)a.Action["type"] == "Http").Select(a => a.Action["inputs"]!).ToList();
            Assert.NotEmpty(http);
            Assert.All(http, inputs =>
            {
                Assert.NotEqual("DELETE", (string?)inputs["method"]);
                Assert.DoesNotContain("openAiBaseUrl", (string?)inputs["uri"], StringComparison.Ordinal);
                Assert.DoesNotContain("anthropicBaseUrl", (string?)inputs["uri"], StringComparison.Ordinal);
            });
        }
    }

    [Fact]
    public void The_automatic_containment_waits_for_its_playbooks_role_assignments()
    {
        var rule = AutomationRules.Single(r => PlaybookRunBy(r) == SentinelArmTemplate.ContainAutoPlaybook);
        var dependsOn = rule["dependsOn"]!.AsArray().Select(d => (string)d!).ToList();
        Assert.Equal(3, dependsOn.Count(d => d.Contains("roleAssignments", StringComparison.Ordinal) && d.Contains(SentinelArmTemplate.ContainAutoPlaybook, StringComparison.Ordinal)));
        Assert.Contains(dependsOn, d => d.Contains($"'Microsoft.Logic/workflows', '{SentinelArmTemplate.ContainAutoPlaybook}'", StringComparison.Ordinal));
    }

    [Fact]
    public void The_automatic_containment_playbook_may_read_the_vault_query_the_watchlist_and_comment()
    {
        var roles = Resources("Microsoft.Authorization/roleAssignments")
            .Where(r => ((string)r["properties"]!["principalId"]!).Contains($"'{SentinelArmTemplate.ContainAutoPlaybook}'", StringComparison.Ordinal))
            .Select(r => (string)r["properties"]!["roleDefinitionId"]!).ToList();
        Assert.Equal(3, roles.Count);
        Assert.Contains(roles, r => r.Contains("4633458b-17de-408a-b874-0445c86b69e6", StringComparison.Ordinal)); // Key Vault Secrets User
        Assert.Contains(roles, r => r.Contains("73c42c96-874c-492b-b04d-ab87d138a893", StringComparison.Ordinal)); // Log Analytics Reader
        Assert.Contains(roles, r => r.Contains("3e150937-b8fe-4cfb-8069-0eaf05ecd056", StringComparison.Ordinal)); // Microsoft Sentinel Responder
    }

    [Fact]
    public void The_automatic_clamp_body_is_the_responders_template()
    {
        var compose = AllActions(Definition(SentinelArmTemplate.ContainAutoPlaybook)).Single(a => a.Name == "Clamp_body").Action["inputs"]!;
        var responder = JsonNode.Parse(ResponseRequests.LiteLlmClamp("k", 10, 2000, 5.0).Body!)!;
        Assert.Equal(responder.AsObject().Select(p => p.Key), compose.AsObject().Select(p => p.Key));
    }

    [Fact]
    public void The_inventory_watchlist_carries_the_columns_of_the_automatic_containment()
    {
        var header = Files.Value["sentinel/watchlists/KeyAbuseInventory.csv"].TrimEnd('\n').Split(',');
        Assert.Superset(new HashSet<string>(["provider_key_id", "response_auto", "response_action", "clamp_rpm", "clamp_tpm", "clamp_budget_usd"]), header.ToHashSet());
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
