using System.Text.Json.Nodes;
using KeyAbuseContent.Response;

namespace KeyAbuseContent.Targets.Sentinel;

/// <summary>
/// <c>KeyAbuseContent-ContainAuto</c>: the automatic LiteLLM containment, run by its own automation rule on every
/// incident of the pack's rules. It contains only when the key's watchlist row names LiteLLM as the provider and
/// lists the incident's rule in <c>response_auto</c> (the inventory's <c>response.auto</c>): then it blocks the key
/// (<c>/key/block</c>) or clamps it (<c>/key/update</c> with the row's limits), with the master key from Key Vault,
/// and comments the outcome on the incident. Anthropic and OpenAI keys are never contained here: an analyst runs
/// <c>KeyAbuseContent-Contain</c> for them, as the responder holds them for a confirmation.
/// </summary>
public static partial class SentinelArmTemplate
{
    public const string ContainAutoPlaybook = "KeyAbuseContent-ContainAuto";
    /// <summary>A fixed id, so redeploying updates the automatic-containment rule instead of adding one.</summary>
    private const string AutoContainRuleId = "0b7d3c1e-58a2-4f6d-9c41-7e2a6b9d5f13";

    /// <summary>
    /// The watchlist row of the incident's key, as the playbooks read it. Columns a watchlist deployed before they
    /// existed lacks read as empty; an empty <c>provider_key_id</c> is the key's own id (KQL's coalesce skips empty strings).
    /// </summary>
    internal const string InventoryLookup =
        "_GetWatchlist('KeyAbuseInventory') | where SearchKey == '@{replace(replace(variables('KeyId'), '''', ''), '\\', '')}'";

    private static readonly (string Variable, string Column)[] AutoColumns =
    [
        ("Provider", "provider"), ("ProviderKeyId", "provider_key_id"), ("Auto", "response_auto"), ("Action", "response_action"),
        ("ClampRpm", "clamp_rpm"), ("ClampTpm", "clamp_tpm"), ("ClampBudget", "clamp_budget_usd"),
    ];

    /// <summary>The limits of a clamp: the body's property, the variable with the watchlist's value, and its conversion.</summary>
    private static readonly (string Property, string Variable, string Convert)[] ClampLimits =
        [("rpm_limit", "ClampRpm", "int"), ("tpm_limit", "ClampTpm", "int"), ("max_budget", "ClampBudget", "float")];

    /// <summary>The rule ids of the pack to their names, which the inventory's response.auto lists.</summary>
    private static JsonObject RuleNames(IReadOnlyList<SentinelArtifact> rules) =>
        new(rules.Select(r => KeyValuePair.Create(r.Rule.Id.ToString(), (JsonNode?)Str(r.Rule.RuleName))));

    private static JsonObject ContainAutoActions()
    {
        var actions = Variables(new JsonObject());
        Add(actions, "Rule", Variable("Rule", "String",
            "@{coalesce(parameters('ruleNames')?[toLower(last(split(first(triggerBody()?['object']?['properties']?['relatedAnalyticRuleIds']), '/')))], '')}"));
        var columns = string.Join(", ", AutoColumns.Select(c => c.Column == "provider_key_id"
            ? $"{c.Variable} = coalesce(tostring(column_ifexists('{c.Column}', '')), SearchKey)"
            : $"{c.Variable} = tostring(column_ifexists('{c.Column}', ''))"));
        Add(actions, "Inventory", new JsonObject
        {
            ["type"] = "Http",
            ["inputs"] = new JsonObject
            {
                ["method"] = "POST",
                ["uri"] = "@{concat('https://api.loganalytics.io/v1/workspaces/', parameters('workspaceId'), '/query')}",
                ["body"] = new JsonObject { ["query"] = Str($"{InventoryLookup} | project {columns} | take 1") },
                ["authentication"] = new JsonObject { ["type"] = "ManagedServiceIdentity", ["audience"] = "https://api.loganalytics.io" },
            },
        });
        for (var i = 0; i < AutoColumns.Length; i++)
        {
            var (variable, _) = AutoColumns[i];
            var value = variable switch
            {
                "Provider" or "Action" => $"@{{toLower(trim(coalesce(body('Inventory')?['tables']?[0]?['rows']?[0]?[{i}], '')))}}",
                // Rule names separated by ';' as every list of the watchlist; spaces around them do not count.
                "Auto" => $"@{{concat(';', replace(coalesce(body('Inventory')?['tables']?[0]?['rows']?[0]?[{i}], ''), ' ', ''), ';')}}",
                "ProviderKeyId" => $"@{{coalesce(body('Inventory')?['tables']?[0]?['rows']?[0]?[{i}], variables('KeyId'))}}",
                _ => $"@{{trim(coalesce(body('Inventory')?['tables']?[0]?['rows']?[0]?[{i}], ''))}}",
            };
            Add(actions, variable, Variable(variable, "String", value));
        }

        var bearer = new JsonObject { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer @{body('Get_litellm_master_key')?['value']}" };
        var url = "@{parameters('liteLlmBaseUrl')}";
        var key = "@{variables('ProviderKeyId')}";
        // The clamp body is the responder's template with each limit an expression; a limit the row leaves empty is
        // removed, so only the limits the team gave change (as the responder renders it).
        // if() evaluates both of its branches, so an empty limit converts '0' (then is removed) rather than failing.
        string Limit(int i) => $"@{ClampLimits[i].Convert}(if(empty(variables('{ClampLimits[i].Variable}')), '0', variables('{ClampLimits[i].Variable}')))";
        var clamp = ResponseRequests.LiteLlmClampExpressions(key, Limit(0), Limit(1), Limit(2));
        var clampBody = "outputs('Clamp_body')";
        foreach (var (property, variable, _) in ClampLimits)
        {
            clampBody = $"if(empty(variables('{variable}')), removeProperty({clampBody}, '{property}'), {clampBody})";
        }
        var sendClamp = Send(clamp, url + clamp.Path, bearer.DeepClone().AsObject());
        sendClamp["inputs"]!["body"] = "@" + clampBody;
        sendClamp["runAfter"] = new JsonObject { ["Clamp_body"] = new JsonArray("Succeeded") };
        var block = ResponseRequests.LiteLlmBlock(key);
        var contain = new JsonObject
        {
            ["type"] = "If",
            ["expression"] = new JsonObject { ["and"] = new JsonArray(new JsonObject { ["equals"] = new JsonArray("@variables('Action')", "clamp") }) },
            ["actions"] = new JsonObject
            {
                ["Clamp_body"] = new JsonObject { ["type"] = "Compose", ["inputs"] = ArmSafe(JsonNode.Parse(clamp.Body!)!) },
                ["Send_litellm_clamp"] = sendClamp,
            },
            ["else"] = new JsonObject { ["actions"] = new JsonObject { ["Send_litellm_block"] = Send(block, url + block.Path, bearer.DeepClone().AsObject()) } },
        };
        var steps = new JsonObject();
        Add(steps, "Get_litellm_master_key", Secret("litellm-master-key"));
        Add(steps, "Contain", contain);
        // The incident records what was done, or that it failed after the retries: nothing is dropped silently.
        steps["Comment"] = Comment(
            "<p>KeyAbuseContent contained LiteLLM key @{variables('KeyId')} automatically (rule @{variables('Rule')}, action @{if(equals(variables('Action'), 'clamp'), 'clamp', 'block')}): @{actions('Contain')?['status']}.</p>",
            new JsonObject { ["Contain"] = new JsonArray("Succeeded", "Failed", "TimedOut"), });
        steps["Comment_no_master_key"] = Comment(
            "<p>KeyAbuseContent could not contain LiteLLM key @{variables('KeyId')} automatically (rule @{variables('Rule')}): the Key Vault secret litellm-master-key could not be read.</p>",
            new JsonObject { ["Get_litellm_master_key"] = new JsonArray("Failed", "TimedOut") });
        // Only LiteLLM keys whose team lists the incident's rule; any other key waits for an analyst (Contain).
        Add(actions, "Automatic", new JsonObject
        {
            ["type"] = "If",
            ["expression"] = new JsonObject
            {
                ["and"] = new JsonArray(
                    new JsonObject { ["equals"] = new JsonArray("@variables('Provider')", "litellm") },
                    new JsonObject { ["not"] = new JsonObject { ["equals"] = new JsonArray("@variables('Rule')", "") } },
                    new JsonObject { ["contains"] = new JsonArray("@variables('Auto')", "@{concat(';', variables('Rule'), ';')}") }),
            },
            ["actions"] = steps,
            ["else"] = new JsonObject { ["actions"] = new JsonObject() },
        });
        return actions;
    }

    /// <summary>A comment on the trigger's incident through the Microsoft Sentinel connection.</summary>
    private static JsonObject Comment(string message, JsonObject runAfter) => new()
    {
        ["type"] = "ApiConnection",
        ["runAfter"] = runAfter,
        ["inputs"] = new JsonObject
        {
            ["host"] = new JsonObject { ["connection"] = new JsonObject { ["name"] = "@parameters('$connections')['azuresentinel']['connectionId']" } },
            ["method"] = "post",
            ["path"] = "/Incidents/Comment",
            ["body"] = new JsonObject { ["incidentArmId"] = "@triggerBody()?['object']?['id']", ["message"] = message },
        },
    };
}
