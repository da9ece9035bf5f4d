using System.Text.Json.Nodes;
using KeyAbuseContent.Response;

namespace KeyAbuseContent.Targets.Sentinel;

/// <summary>
/// The response playbooks of the ARM template: <c>KeyAbuseContent-Notify</c> (run by an automation rule on every
/// incident of the pack's rules: the key's route from the alert's custom details, its Slack webhook URL and PagerDuty
/// routing key from Key Vault) and <c>KeyAbuseContent-Contain</c> (run by an analyst from the incident, which is the
/// confirmation: LiteLLM block, Anthropic inactive, OpenAI project key deletion, then a comment on the incident).
/// Request bodies are the templates the responder sends, with Logic App expressions for values. Deployed only when
/// a Key Vault is named; its secrets never appear in the template.
/// </summary>
public static partial class SentinelArmTemplate
{
    public const string NotifyPlaybook = "KeyAbuseContent-Notify";
    public const string ContainPlaybook = "KeyAbuseContent-Contain";
    private const string SentinelConnection = "KeyAbuseContent-azuresentinel";
    private const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";
    private const string SentinelResponder = "3e150937-b8fe-4cfb-8069-0eaf05ecd056";
    private const string HasVault = "not(empty(parameters('keyVaultName')))";
    /// <summary>A fixed id, so redeploying updates the automation rule instead of adding one.</summary>
    private const string AutomationRuleId = "6f1d0c2a-4b7e-4e55-9a3c-5d2b8e7f1a40";

    /// <summary>The parameters the response content adds; none holds a secret.</summary>
    private static void ResponseParameters(JsonObject parameters)
    {
        parameters["keyVaultName"] = new JsonObject
        {
            ["type"] = "string",
            ["defaultValue"] = "",
            ["metadata"] = new JsonObject { ["description"] = "Key Vault (in this resource group) with the route and provider secrets: route-<route>-slack, route-<route>-pagerduty, litellm-master-key, openai-admin-key, anthropic-admin-key. Empty: no playbooks." },
        };
        parameters["defaultRoute"] = new JsonObject { ["type"] = "string", ["defaultValue"] = "secops", ["metadata"] = new JsonObject { ["description"] = "The route of keys the inventory gives none." } };
        parameters["liteLlmBaseUrl"] = new JsonObject { ["type"] = "string", ["defaultValue"] = "", ["metadata"] = new JsonObject { ["description"] = "The LiteLLM proxy's base URL, for containment of LiteLLM keys." } };
        parameters["openAiBaseUrl"] = new JsonObject { ["type"] = "string", ["defaultValue"] = "https://api.openai.com" };
        parameters["anthropicBaseUrl"] = new JsonObject { ["type"] = "string", ["defaultValue"] = "https://api.anthropic.com" };
    }

    private static void AddResponse(JsonArray resources, IReadOnlyList<SentinelArtifact> rules)
    {
        var connectionId = $"resourceId('Microsoft.Web/connections', '{SentinelConnection}')";
        resources.Add(new JsonObject
        {
            ["type"] = "Microsoft.Web/connections",
            ["apiVersion"] = "2016-06-01",
            ["condition"] = Expr(HasVault),
            ["name"] = SentinelConnection,
            ["location"] = Expr("parameters('location')"),
            ["kind"] = "V1",
            ["properties"] = new JsonObject
            {
                ["displayName"] = SentinelConnection,
                ["customParameterValues"] = new JsonObject(),
                // The playbooks' managed identities authenticate to Sentinel, so no user credential is stored.
                ["parameterValueType"] = "Alternative",
                ["api"] = new JsonObject { ["id"] = Expr("subscriptionResourceId('Microsoft.Web/locations/managedApis', parameters('location'), 'azuresentinel')") },
            },
        });
        resources.Add(Playbook(NotifyPlaybook, "Notify the key's on-call route (Slack, PagerDuty) of a KeyAbuseContent incident.", NotifyActions()));
        resources.Add(Playbook(ContainPlaybook, "Contain the incident's key at its provider; running it from the incident is the analyst's confirmation.", ContainActions()));
        resources.Add(Playbook(ContainAutoPlaybook, "Contain a LiteLLM key at once (block or clamp) when its team lists the incident's rule for automatic containment in the inventory.",
            ContainAutoActions(), [("ruleNames", "Object", RuleNames(rules))]));
        var vault = "resourceId('Microsoft.KeyVault/vaults', parameters('keyVaultName'))";
        var workspaceId = $"resourceId('Microsoft.OperationalInsights/workspaces', {Workspace})";
        var assignments = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Assign(string playbook, string seed, string role, string scope)
        {
            var id = $"resourceId('Microsoft.Logic/workflows', '{playbook}')";
            resources.Add(Conditional(RoleAssignment(playbook + seed, id, role, scope)));
            var list = assignments.TryGetValue(playbook, out var l) ? l : assignments[playbook] = [];
            list.Add($"extensionResourceId({scope}, 'Microsoft.Authorization/roleAssignments', guid({scope}, {Quote(playbook + seed)}))");
        }
        foreach (var playbook in new[] { NotifyPlaybook, ContainPlaybook, ContainAutoPlaybook })
        {
            Assign(playbook, "-secrets", KeyVaultSecretsUser, vault);
        }
        foreach (var playbook in new[] { ContainPlaybook, ContainAutoPlaybook })
        {
            // The watchlist query, and the comment on the incident.
            Assign(playbook, "-reader", LogAnalyticsReader, workspaceId);
            Assign(playbook, "-responder", SentinelResponder, workspaceId);
        }

        var ruleIds = rules.Select(r => $"resourceId('Microsoft.OperationalInsights/workspaces/providers/alertRules', {Workspace}, 'Microsoft.SecurityInsights', '{r.Rule.Id}')").ToList();
        resources.Add(AutomationRule(AutomationRuleId, "KeyAbuseContent: notify the key's owner", 1, NotifyPlaybook, ruleIds, assignments[NotifyPlaybook]));
        // The automatic containment runs beside the notification; the playbook itself decides whether the key is one to contain.
        resources.Add(AutomationRule(AutoContainRuleId, "KeyAbuseContent: contain the LiteLLM keys their team marked automatic", 2, ContainAutoPlaybook, ruleIds, assignments[ContainAutoPlaybook]));
    }

    /// <summary>An automation rule that runs one playbook on every new incident of the pack's rules, once the playbook can work.</summary>
    private static JsonObject AutomationRule(string id, string displayName, int order, string playbook, List<string> ruleIds, List<string> roleAssignments) => new()
    {
        ["type"] = "Microsoft.OperationalInsights/workspaces/providers/automationRules",
        ["apiVersion"] = "2023-02-01",
        ["condition"] = Expr(HasVault),
        ["name"] = Expr($"concat({Workspace}, '/Microsoft.SecurityInsights/{id}')"),
        ["dependsOn"] = new JsonArray([Expr($"resourceId('Microsoft.Logic/workflows', '{playbook}')"), .. roleAssignments.Select(Expr), .. ruleIds.Select(Expr)]),
        ["properties"] = new JsonObject
        {
            ["displayName"] = displayName,
            ["order"] = order,
            ["triggeringLogic"] = new JsonObject
            {
                ["isEnabled"] = true,
                ["triggersOn"] = "Incidents",
                ["triggersWhen"] = "Created",
                ["conditions"] = new JsonArray(new JsonObject
                {
                    ["conditionType"] = "Property",
                    ["conditionProperties"] = new JsonObject
                    {
                        ["propertyName"] = "IncidentRelatedAnalyticRuleIds",
                        ["operator"] = "Contains",
                        ["propertyValues"] = new JsonArray([.. ruleIds.Select(Expr)]),
                    },
                }),
            },
            ["actions"] = new JsonArray(new JsonObject
            {
                ["order"] = 1,
                ["actionType"] = "RunPlaybook",
                ["actionConfiguration"] = new JsonObject
                {
                    ["tenantId"] = Expr("subscription().tenantId"),
                    ["logicAppResourceId"] = Expr($"resourceId('Microsoft.Logic/workflows', '{playbook}')"),
                },
            }),
        },
    };

    private static JsonObject Conditional(JsonObject resource)
    {
        resource["condition"] = Expr(HasVault);
        return resource;
    }

    private static JsonObject Playbook(string name, string description, JsonObject actions, IReadOnlyList<(string Name, string Type, JsonNode Value)> extraParameters)
    {
        var playbook = Playbook(name, description, actions);
        var definition = playbook["properties"]!["definition"]!["parameters"]!.AsObject();
        var values = playbook["properties"]!["parameters"]!.AsObject();
        foreach (var (parameter, type, value) in extraParameters)
        {
            definition[parameter] = new JsonObject { ["type"] = type };
            values[parameter] = new JsonObject { ["value"] = value };
        }
        return playbook;
    }

    private static JsonObject Playbook(string name, string description, JsonObject actions) => new()
    {
        ["type"] = "Microsoft.Logic/workflows",
        ["apiVersion"] = "2019-05-01",
        ["condition"] = Expr(HasVault),
        ["name"] = name,
        ["location"] = Expr("parameters('location')"),
        ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
        ["tags"] = new JsonObject { ["hidden-SentinelTemplateName"] = name, ["description"] = description },
        ["dependsOn"] = new JsonArray(Expr($"resourceId('Microsoft.Web/connections', '{SentinelConnection}')")),
        ["properties"] = new JsonObject
        {
            ["state"] = "Enabled",
            ["parameters"] = new JsonObject
            {
                ["$connections"] = new JsonObject
                {
                    ["value"] = new JsonObject
                    {
                        ["azuresentinel"] = new JsonObject
                        {
                            ["connectionId"] = Expr($"resourceId('Microsoft.Web/connections', '{SentinelConnection}')"),
                            ["connectionName"] = SentinelConnection,
                            ["id"] = Expr("subscriptionResourceId('Microsoft.Web/locations/managedApis', parameters('location'), 'azuresentinel')"),
                            ["connectionProperties"] = new JsonObject { ["authentication"] = new JsonObject { ["type"] = "ManagedServiceIdentity" } },
                        },
                    },
                },
                ["keyVaultName"] = new JsonObject { ["value"] = Expr("parameters('keyVaultName')") },
                ["defaultRoute"] = new JsonObject { ["value"] = Expr("parameters('defaultRoute')") },
                ["liteLlmBaseUrl"] = new JsonObject { ["value"] = Expr("parameters('liteLlmBaseUrl')") },
                ["openAiBaseUrl"] = new JsonObject { ["value"] = Expr("parameters('openAiBaseUrl')") },
                ["anthropicBaseUrl"] = new JsonObject { ["value"] = Expr("parameters('anthropicBaseUrl')") },
                ["workspaceId"] = new JsonObject { ["value"] = Expr($"reference(resourceId('Microsoft.OperationalInsights/workspaces', {Workspace}), '2022-10-01').customerId") },
            },
            ["definition"] = new JsonObject
            {
                ["$schema"] = "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
                ["contentVersion"] = "1.0.0.0",
                ["parameters"] = new JsonObject
                {
                    ["$connections"] = new JsonObject { ["type"] = "Object", ["defaultValue"] = new JsonObject() },
                    ["keyVaultName"] = new JsonObject { ["type"] = "String" },
                    ["defaultRoute"] = new JsonObject { ["type"] = "String" },
                    ["liteLlmBaseUrl"] = new JsonObject { ["type"] = "String" },
                    ["openAiBaseUrl"] = new JsonObject { ["type"] = "String" },
                    ["anthropicBaseUrl"] = new JsonObject { ["type"] = "String" },
                    ["workspaceId"] = new JsonObject { ["type"] = "String" },
                },
                ["triggers"] = new JsonObject
                {
                    ["Microsoft_Sentinel_incident"] = new JsonObject
                    {
                        ["type"] = "ApiConnectionWebhook",
                        ["inputs"] = new JsonObject
                        {
                            ["host"] = new JsonObject { ["connection"] = new JsonObject { ["name"] = "@parameters('$connections')['azuresentinel']['connectionId']" } },
                            ["body"] = new JsonObject { ["callback_url"] = "@{listCallbackUrl()}" },
                            ["path"] = "/incident-creation",
                        },
                    },
                },
                ["actions"] = actions,
            },
        },
    };

    private const string Incident = "triggerBody()?['object']?['properties']";

    /// <summary>The first alert's custom details (a JSON string of arrays), the key and its route, as variables.</summary>
    private static JsonObject Variables(JsonObject actions)
    {
        Add(actions, "Details", Variable("Details", "Object", $"@json(coalesce({Incident}?['Alerts'][0]?['properties']?['additionalData']?['Custom Details'], '{{}}'))"));
        Add(actions, "KeyId", Variable("KeyId", "String", "@{coalesce(first(variables('Details')?['KeyId']), '')}"));
        Add(actions, "Route", Variable("Route", "String", "@{coalesce(first(variables('Details')?['OncallRoute']), parameters('defaultRoute'))}"));
        return actions;
    }

    private static void Add(JsonObject actions, string name, JsonObject action)
    {
        if (actions.Count > 0)
        {
            action["runAfter"] = new JsonObject { [actions.Last().Key] = new JsonArray("Succeeded") };
        }
        actions[name] = action;
    }

    private static JsonObject Variable(string name, string type, string value) => new()
    {
        ["type"] = "InitializeVariable",
        ["inputs"] = new JsonObject { ["variables"] = new JsonArray(new JsonObject { ["name"] = name, ["type"] = type, ["value"] = value }) },
    };

    /// <summary>A Key Vault secret read with the playbook's identity; its value never shows in the run history.</summary>
    private static JsonObject Secret(string nameExpression) => new()
    {
        ["type"] = "Http",
        ["inputs"] = new JsonObject
        {
            ["method"] = "GET",
            ["uri"] = $"https://@{{parameters('keyVaultName')}}.vault.azure.net/secrets/{nameExpression}?api-version=7.4",
            ["authentication"] = new JsonObject { ["type"] = "ManagedServiceIdentity", ["audience"] = "https://vault.azure.net" },
        },
        ["runtimeConfiguration"] = new JsonObject { ["secureData"] = new JsonObject { ["properties"] = new JsonArray("outputs") } },
    };

    /// <summary>A request of the response templates as a Logic App HTTP action: 408, 429 and 5xx retried with exponential backoff.</summary>
    private static JsonObject Send(ResponseRequest request, string uri, JsonObject headers) => new()
    {
        ["type"] = "Http",
        ["inputs"] = new JsonObject
        {
            ["method"] = request.Method,
            ["uri"] = uri,
            ["headers"] = headers,
            ["body"] = request.Body is null ? null : ArmSafe(JsonNode.Parse(request.Body)!),
            ["retryPolicy"] = new JsonObject { ["type"] = "exponential", ["count"] = 4, ["interval"] = "PT10S" },
        },
        ["runtimeConfiguration"] = new JsonObject { ["secureData"] = new JsonObject { ["properties"] = new JsonArray("inputs") } },
    };

    /// <summary>Every string of a body through <see cref="Str"/>, so ARM never reads a value as an expression.</summary>
    private static JsonNode ArmSafe(JsonNode node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, p.Value is null ? null : ArmSafe(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(i => i is null ? null : ArmSafe(i))]),
        JsonValue v when v.TryGetValue<string>(out var s) => Str(s),
        _ => node.DeepClone(),
    };

    /// <summary>Key Vault secret names allow letters, digits and dashes: a route name's other characters become dashes.</summary>
    private const string RouteSecret = "@{replace(replace(replace(toLower(variables('Route')), ':', '-'), '_', '-'), '.', '-')}";

    private static NotificationContent Content(string confirm) => new(
        Rule: "@{last(split(first(triggerBody()?['object']?['properties']?['relatedAnalyticRuleIds']), '/'))}",
        KeyId: "@{variables('KeyId')}",
        Severity: "@{coalesce(first(variables('Details')?['Severity']), 'medium')}",
        Title: $"@{{{Incident}?['title']}}",
        Summary: $"@{{{Incident}?['description']}}",
        Timestamp: $"@{{{Incident}?['createdTimeUtc']}}",
        Owner: "@{first(variables('Details')?['KeyOwner'])}",
        Team: "@{first(variables('Details')?['KeyTeam'])}",
        Service: "@{first(variables('Details')?['KeyService'])}",
        Route: "@{variables('Route')}",
        ConfirmUrl: confirm);

    /// <summary>
    /// Reads a route's secret, falling back to the default route's when the route has none in Key Vault (a key without
    /// a route, or a route nobody configured, still reaches someone), then sends with it.
    /// </summary>
    private static void Channel(JsonObject actions, string channel, Func<string, (ResponseRequest Request, string Uri)> send)
    {
        var get = Secret($"route-{RouteSecret}-{channel}");
        get["runAfter"] = new JsonObject { ["Route"] = new JsonArray("Succeeded") };
        actions[$"Get_{channel}_secret"] = get;
        var fallback = Secret($"route-@{{replace(replace(replace(toLower(parameters('defaultRoute')), ':', '-'), '_', '-'), '.', '-')}}-{channel}");
        fallback["runAfter"] = new JsonObject { [$"Get_{channel}_secret"] = new JsonArray("Failed") };
        actions[$"Get_default_{channel}_secret"] = fallback;
        var secret = $"coalesce(body('Get_{channel}_secret')?['value'], body('Get_default_{channel}_secret')?['value'])";
        var (request, uri) = send(secret);
        var action = Send(request, uri, new JsonObject { ["Content-Type"] = "application/json" });
        action["runAfter"] = new JsonObject { [$"Get_default_{channel}_secret"] = new JsonArray("Succeeded", "Skipped") };
        actions[$"Send_{channel}"] = action;
    }

    private static JsonObject NotifyActions()
    {
        var actions = Variables(new JsonObject());
        var content = Content($"@{{{Incident}?['incidentUrl']}}");
        Channel(actions, "slack", secret => (ResponseRequests.SlackMessage(content), "@{" + secret + "}"));
        var severity = "@{if(equals(first(variables('Details')?['Severity']), 'critical'), 'critical', if(equals(first(variables('Details')?['Severity']), 'high'), 'error', if(equals(first(variables('Details')?['Severity']), 'medium'), 'warning', 'info')))}";
        Channel(actions, "pagerduty", secret => (ResponseRequests.PagerDutyTrigger("@{" + secret + "}", content, severity), ResponseRequests.PagerDutyEventsUrl));
        return actions;
    }

    private static JsonObject ContainActions()
    {
        var actions = Variables(new JsonObject());
        // The provider and its ids come from the watchlist's response columns (empty or absent in an older watchlist).
        var query = InventoryLookup + " | project Provider = tostring(column_ifexists('provider', '')), Project = tostring(column_ifexists('project', '')), ProviderKeyId = coalesce(tostring(column_ifexists('provider_key_id', '')), SearchKey) | take 1";
        Add(actions, "Inventory", new JsonObject
        {
            ["type"] = "Http",
            ["inputs"] = new JsonObject
            {
                ["method"] = "POST",
                ["uri"] = "@{concat('https://api.loganalytics.io/v1/workspaces/', parameters('workspaceId'), '/query')}",
                ["body"] = new JsonObject { ["query"] = Str(query) },
                ["authentication"] = new JsonObject { ["type"] = "ManagedServiceIdentity", ["audience"] = "https://api.loganalytics.io" },
            },
        });
        Add(actions, "Provider", Variable("Provider", "String", "@{toLower(coalesce(body('Inventory')?['tables']?[0]?['rows']?[0]?[0], ''))}"));
        Add(actions, "Project", Variable("Project", "String", "@{coalesce(body('Inventory')?['tables']?[0]?['rows']?[0]?[1], '')}"));
        Add(actions, "ProviderKeyId", Variable("ProviderKeyId", "String", "@{coalesce(body('Inventory')?['tables']?[0]?['rows']?[0]?[2], variables('KeyId'))}"));
        var keySegment = "@{encodeUriComponent(variables('ProviderKeyId'))}";
        JsonObject Case(string secret, ResponseRequest request, string baseUrl, JsonObject headers)
        {
            var steps = new JsonObject();
            Add(steps, "Get_" + secret.Replace('-', '_'), Secret(secret));
            Add(steps, "Send_" + request.Action.Replace('.', '_'), Send(request, $"@{{parameters('{baseUrl}')}}{request.Path}", headers));
            return new JsonObject { ["case"] = request.Action.Split('.')[0], ["actions"] = steps };
        }
        var json = new JsonObject { ["Content-Type"] = "application/json" };
        var litellm = ResponseRequests.LiteLlmBlock("@{variables('ProviderKeyId')}");
        var anthropic = ResponseRequests.AnthropicDeactivate(keySegment);
        var openai = ResponseRequests.OpenAiDeleteProjectKey("@{encodeUriComponent(variables('Project'))}", keySegment);
        Add(actions, "Contain", new JsonObject
        {
            ["type"] = "Switch",
            ["expression"] = "@variables('Provider')",
            ["cases"] = new JsonObject
            {
                ["LiteLLM"] = Case("litellm-master-key", litellm, "liteLlmBaseUrl", new JsonObject { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer @{body('Get_litellm_master_key')?['value']}" }),
                ["Anthropic"] = Case("anthropic-admin-key", anthropic, "anthropicBaseUrl", new JsonObject
                {
                    ["Content-Type"] = "application/json",
                    ["x-api-key"] = "@{body('Get_anthropic_admin_key')?['value']}",
                    ["anthropic-version"] = ResponseRequests.AnthropicVersion,
                }),
                ["OpenAI"] = Case("openai-admin-key", openai, "openAiBaseUrl", new JsonObject { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer @{body('Get_openai_admin_key')?['value']}" }),
            },
            ["default"] = new JsonObject { ["actions"] = new JsonObject() },
        });
        // The incident records what was done, or that it failed: nothing is dropped silently.
        actions["Comment"] = new JsonObject
        {
            ["type"] = "ApiConnection",
            ["runAfter"] = new JsonObject { ["Contain"] = new JsonArray("Succeeded", "Failed", "TimedOut") },
            ["inputs"] = new JsonObject
            {
                ["host"] = new JsonObject { ["connection"] = new JsonObject { ["name"] = "@parameters('$connections')['azuresentinel']['connectionId']" } },
                ["method"] = "post",
                ["path"] = "/Incidents/Comment",
                ["body"] = new JsonObject
                {
                    ["incidentArmId"] = "@triggerBody()?['object']?['id']",
                    ["message"] = "<p>KeyAbuseContent containment of key @{variables('KeyId')} at provider '@{variables('Provider')}': @{actions('Contain')?['status']}. An empty provider means the watchlist does not know the key.</p>",
                },
            },
        };
        return actions;
    }
}
