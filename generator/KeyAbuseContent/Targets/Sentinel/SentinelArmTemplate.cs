using System.Text.Json.Nodes;
using KeyAbuseContent.Targets.Kql;

namespace KeyAbuseContent.Targets.Sentinel;

/// <summary>
/// One ARM template that deploys the pack to a Sentinel workspace, in dependency order: the custom
/// tables, the data collection endpoint and rule the refresh writes through, the parser functions
/// (saved searches), the inventory watchlist, the summary rules, the daily refresh workflows with their
/// role assignments, the analytics rules, and then the response playbooks and their automation rule (SentinelPlaybooks.cs).
/// </summary>
public static partial class SentinelArmTemplate
{
    private const string Workspace = "parameters('workspace')";
    private const string DceName = "KeyAbuseContent-dce";
    private const string DcrName = "KeyAbuseContent-dcr";
    private const string LogAnalyticsReader = "73c42c96-874c-492b-b04d-ab87d138a893";
    private const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";

    /// <summary>ARM reads a string starting with '[' as an expression; '[[' keeps it literal. Every string goes through here.</summary>
    public static JsonNode Str(string value) => JsonValue.Create(value.StartsWith('[') ? "[" + value : value)!;

    private static JsonNode Expr(string expression) => JsonValue.Create("[" + expression + "]")!;

    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string WorkspaceChild(string type, string name) => $"resourceId('Microsoft.OperationalInsights/workspaces/{type}', {Workspace}, {Quote(name)})";

    private static string TableType(string kql) => kql switch
    {
        "datetime" => "dateTime",
        "bool" => "boolean",
        _ => kql,
    };

    private static JsonArray Columns(SentinelTable table) =>
        new([.. table.Columns.Select(c => (JsonNode)new JsonObject { ["name"] = c.Name, ["type"] = TableType(c.Type) })]);

    public static JsonObject Build(IReadOnlyList<SentinelArtifact> rules, string inventoryCsvHeader)
    {
        var resources = new JsonArray();
        var tableIds = new List<string>();
        foreach (var table in SentinelParsers.Tables)
        {
            var id = WorkspaceChild("tables", table.Name);
            tableIds.Add(id);
            resources.Add(new JsonObject
            {
                ["type"] = "Microsoft.OperationalInsights/workspaces/tables",
                ["apiVersion"] = "2022-10-01",
                ["name"] = Expr($"concat({Workspace}, '/', {Quote(table.Name)})"),
                ["properties"] = new JsonObject
                {
                    ["schema"] = new JsonObject { ["name"] = table.Name, ["description"] = Str(table.Description), ["columns"] = Columns(table) },
                    ["retentionInDays"] = 90,
                },
            });
        }

        resources.Add(new JsonObject
        {
            ["type"] = "Microsoft.Insights/dataCollectionEndpoints",
            ["apiVersion"] = "2022-06-01",
            ["name"] = DceName,
            ["location"] = Expr("parameters('location')"),
            ["properties"] = new JsonObject { ["networkAcls"] = new JsonObject { ["publicNetworkAccess"] = "Enabled" } },
        });
        var streams = new JsonObject();
        var flows = new JsonArray();
        foreach (var table in SentinelParsers.Tables.Where(t => t.Name != HistoryTables.SentinelHourly))
        {
            streams["Custom-" + table.Name] = new JsonObject { ["columns"] = Columns(table) };
            flows.Add(new JsonObject
            {
                ["streams"] = new JsonArray("Custom-" + table.Name),
                ["destinations"] = new JsonArray("workspace"),
                ["transformKql"] = "source",
                ["outputStream"] = "Custom-" + table.Name,
            });
        }
        resources.Add(new JsonObject
        {
            ["type"] = "Microsoft.Insights/dataCollectionRules",
            ["apiVersion"] = "2022-06-01",
            ["name"] = DcrName,
            ["location"] = Expr("parameters('location')"),
            ["dependsOn"] = new JsonArray([Expr($"resourceId('Microsoft.Insights/dataCollectionEndpoints', '{DceName}')"), .. tableIds.Select(Expr)]),
            ["properties"] = new JsonObject
            {
                ["dataCollectionEndpointId"] = Expr($"resourceId('Microsoft.Insights/dataCollectionEndpoints', '{DceName}')"),
                ["streamDeclarations"] = streams,
                ["destinations"] = new JsonObject
                {
                    ["logAnalytics"] = new JsonArray(new JsonObject
                    {
                        ["workspaceResourceId"] = Expr($"resourceId('Microsoft.OperationalInsights/workspaces', {Workspace})"),
                        ["name"] = "workspace",
                    }),
                },
                ["dataFlows"] = flows,
            },
        });

        var functionIds = new List<string>();
        foreach (var f in SentinelParsers.Functions)
        {
            var id = WorkspaceChild("savedSearches", f.Name);
            functionIds.Add(id);
            resources.Add(new JsonObject
            {
                ["type"] = "Microsoft.OperationalInsights/workspaces/savedSearches",
                ["apiVersion"] = "2020-08-01",
                ["name"] = Expr($"concat({Workspace}, '/', {Quote(f.Name)})"),
                ["dependsOn"] = new JsonArray([.. tableIds.Select(Expr)]),
                ["properties"] = new JsonObject
                {
                    ["etag"] = "*",
                    ["displayName"] = f.Name,
                    ["category"] = "KeyAbuseContent",
                    ["functionAlias"] = f.Name,
                    ["functionParameters"] = f.Parameters,
                    ["query"] = Str(f.Body),
                    ["version"] = 2,
                },
            });
        }

        var watchlistId = $"resourceId('Microsoft.OperationalInsights/workspaces/providers/Watchlists', {Workspace}, 'Microsoft.SecurityInsights', '{SentinelParsers.InventoryWatchlist}')";
        resources.Add(new JsonObject
        {
            ["type"] = "Microsoft.OperationalInsights/workspaces/providers/Watchlists",
            ["apiVersion"] = "2023-02-01",
            ["name"] = Expr($"concat({Workspace}, '/Microsoft.SecurityInsights/{SentinelParsers.InventoryWatchlist}')"),
            ["properties"] = new JsonObject
            {
                ["displayName"] = "KeyAbuseContent key inventory",
                ["watchlistAlias"] = SentinelParsers.InventoryWatchlist,
                ["source"] = "inventory.csv",
                ["provider"] = "KeyAbuseContent",
                ["description"] = "LLM API keys: owner, team, service, on-call route name, dates and declared profile. Never secrets or webhook URLs.",
                ["itemsSearchKey"] = "key_id",
                ["contentType"] = "text/csv",
                ["numberOfLinesToSkip"] = 0,
                ["rawContent"] = Expr("parameters('inventoryCsv')"),
            },
        });
        var geoId = $"resourceId('Microsoft.OperationalInsights/workspaces/providers/Watchlists', {Workspace}, 'Microsoft.SecurityInsights', '{SentinelParsers.GeoWatchlist}')";
        resources.Add(new JsonObject
        {
            ["type"] = "Microsoft.OperationalInsights/workspaces/providers/Watchlists",
            ["apiVersion"] = "2023-02-01",
            ["name"] = Expr($"concat({Workspace}, '/Microsoft.SecurityInsights/{SentinelParsers.GeoWatchlist}')"),
            ["properties"] = new JsonObject
            {
                ["displayName"] = "KeyAbuseContent address ranges",
                ["watchlistAlias"] = SentinelParsers.GeoWatchlist,
                ["source"] = "geo.csv",
                ["provider"] = "KeyAbuseContent",
                ["description"] = "IPv4 ranges in CIDR notation with their ISO country code and AS number (for example an export of a GeoIP country and ASN database), non-overlapping: the activity parser fills a request's country and AS from them when its source lacks them.",
                ["itemsSearchKey"] = "network",
                ["contentType"] = "text/csv",
                ["numberOfLinesToSkip"] = 0,
                ["rawContent"] = Expr("parameters('geoCsv')"),
            },
        });

        var historyIds = new List<string>();
        foreach (var artifact in rules)
        {
            foreach (var s in artifact.Plan.SummaryRules)
            {
                var id = WorkspaceChild("summaryLogs", s.Name);
                historyIds.Add(id);
                resources.Add(new JsonObject
                {
                    ["type"] = "Microsoft.OperationalInsights/workspaces/summaryLogs",
                    // Summary rules are in preview; this is the API version Microsoft documents for them.
                    ["apiVersion"] = "2023-01-01-preview",
                    ["name"] = Expr($"concat({Workspace}, '/', {Quote(s.Name)})"),
                    ["dependsOn"] = new JsonArray([.. tableIds.Concat(functionIds).Select(Expr)]),
                    ["properties"] = new JsonObject
                    {
                        ["ruleType"] = "User",
                        ["description"] = Str(s.Description),
                        ["ruleDefinition"] = new JsonObject
                        {
                            ["query"] = Str(KqlRenderer.Render(s.Query)),
                            ["binSize"] = (int)s.BinSize.TotalMinutes,
                            ["destinationTable"] = s.DestinationTable,
                        },
                    },
                });
            }
            foreach (var r in artifact.Plan.Refreshes)
            {
                historyIds.Add($"resourceId('Microsoft.Logic/workflows', {Quote(r.Name)})");
                AddRefresh(resources, r, tableIds);
            }
        }

        foreach (var artifact in rules)
        {
            resources.Add(AnalyticsRule(artifact.Rule, [.. functionIds, watchlistId, geoId, .. historyIds]));
        }
        AddResponse(resources, rules);

        var template = new JsonObject
        {
            ["$schema"] = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            ["contentVersion"] = "1.0.0.0",
            ["parameters"] = new JsonObject
            {
                ["workspace"] = new JsonObject { ["type"] = "string", ["metadata"] = new JsonObject { ["description"] = "The Log Analytics workspace Microsoft Sentinel runs on." } },
                ["location"] = new JsonObject { ["type"] = "string", ["defaultValue"] = "[resourceGroup().location]" },
                ["inventoryCsv"] = new JsonObject
                {
                    ["type"] = "string",
                    ["defaultValue"] = inventoryCsvHeader + "\n",
                    ["metadata"] = new JsonObject { ["description"] = "The key inventory as CSV (header and one row a key); lists are ';'-separated." },
                },
                ["geoCsv"] = new JsonObject
                {
                    ["type"] = "string",
                    ["defaultValue"] = string.Join(",", SentinelParsers.GeoWatchlistColumns) + "\n",
                    ["metadata"] = new JsonObject { ["description"] = "Address ranges as CSV (network,country,asn: 203.0.113.0/24,US,64500), non-overlapping; they enrich requests whose source has no country or AS." },
                },
            },
            ["resources"] = resources,
        };
        ResponseParameters((JsonObject)template["parameters"]!);
        return template;
    }

    private static void AddRefresh(JsonArray resources, KqlRefresh refresh, List<string> tableIds)
    {
        var stream = "Custom-" + refresh.DestinationTable;
        var rows = string.Join(", ", KqlRuleCompiler.RefreshColumnNames.Select((c, i) => $"\"{c}\": \"@item()[{i}]\""));
        var select = JsonNode.Parse($$"""{"TimeGenerated": "@utcNow()", {{rows}}}""")!;
        var workflowId = $"resourceId('Microsoft.Logic/workflows', {Quote(refresh.Name)})";
        resources.Add(new JsonObject
        {
            ["type"] = "Microsoft.Logic/workflows",
            ["apiVersion"] = "2019-05-01",
            ["name"] = refresh.Name,
            ["location"] = Expr("parameters('location')"),
            ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
            ["dependsOn"] = new JsonArray([Expr($"resourceId('Microsoft.Insights/dataCollectionRules', '{DcrName}')"), .. tableIds.Select(Expr)]),
            ["properties"] = new JsonObject
            {
                ["state"] = "Enabled",
                ["parameters"] = new JsonObject
                {
                    ["workspaceId"] = new JsonObject { ["value"] = Expr($"reference(resourceId('Microsoft.OperationalInsights/workspaces', {Workspace}), '2022-10-01').customerId") },
                    ["ingestionUri"] = new JsonObject { ["value"] = Expr($"concat(reference(resourceId('Microsoft.Insights/dataCollectionEndpoints', '{DceName}'), '2022-06-01').logsIngestion.endpoint, '/dataCollectionRules/', reference(resourceId('Microsoft.Insights/dataCollectionRules', '{DcrName}'), '2022-06-01').immutableId, '/streams/{stream}?api-version=2023-01-01')") },
                },
                ["definition"] = new JsonObject
                {
                    ["$schema"] = "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
                    ["contentVersion"] = "1.0.0.0",
                    ["parameters"] = new JsonObject
                    {
                        ["workspaceId"] = new JsonObject { ["type"] = "String" },
                        ["ingestionUri"] = new JsonObject { ["type"] = "String" },
                    },
                    ["triggers"] = new JsonObject
                    {
                        ["Daily"] = new JsonObject { ["type"] = "Recurrence", ["recurrence"] = new JsonObject { ["frequency"] = "Hour", ["interval"] = (int)refresh.Every.TotalHours } },
                    },
                    ["actions"] = new JsonObject
                    {
                        ["Query"] = new JsonObject
                        {
                            ["type"] = "Http",
                            ["inputs"] = new JsonObject
                            {
                                ["method"] = "POST",
                                ["uri"] = "@{concat('https://api.loganalytics.io/v1/workspaces/', parameters('workspaceId'), '/query')}",
                                ["body"] = new JsonObject { ["query"] = Str(KqlRenderer.Render(refresh.Query)) },
                                ["authentication"] = new JsonObject { ["type"] = "ManagedServiceIdentity", ["audience"] = "https://api.loganalytics.io" },
                            },
                        },
                        ["Rows"] = new JsonObject
                        {
                            ["type"] = "Select",
                            ["runAfter"] = new JsonObject { ["Query"] = new JsonArray("Succeeded") },
                            ["inputs"] = new JsonObject { ["from"] = "@body('Query')['tables'][0]['rows']", ["select"] = select },
                        },
                        ["Ingest"] = new JsonObject
                        {
                            ["type"] = "Http",
                            ["runAfter"] = new JsonObject { ["Rows"] = new JsonArray("Succeeded") },
                            ["inputs"] = new JsonObject
                            {
                                ["method"] = "POST",
                                ["uri"] = "@parameters('ingestionUri')",
                                ["headers"] = new JsonObject { ["Content-Type"] = "application/json" },
                                ["body"] = "@body('Rows')",
                                ["authentication"] = new JsonObject { ["type"] = "ManagedServiceIdentity", ["audience"] = "https://monitor.azure.com" },
                            },
                        },
                    },
                },
            },
        });
        resources.Add(RoleAssignment(refresh.Name + "-reader", workflowId, LogAnalyticsReader, $"resourceId('Microsoft.OperationalInsights/workspaces', {Workspace})"));
        resources.Add(RoleAssignment(refresh.Name + "-publisher", workflowId, MonitoringMetricsPublisher, $"resourceId('Microsoft.Insights/dataCollectionRules', '{DcrName}')"));
    }

    private static JsonObject RoleAssignment(string seed, string principalResource, string role, string scope) => new()
    {
        ["type"] = "Microsoft.Authorization/roleAssignments",
        ["apiVersion"] = "2022-04-01",
        ["name"] = Expr($"guid({scope}, {Quote(seed)})"),
        ["scope"] = Expr(scope),
        ["dependsOn"] = new JsonArray(Expr(principalResource)),
        ["properties"] = new JsonObject
        {
            ["roleDefinitionId"] = Expr($"subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{role}')"),
            ["principalId"] = Expr($"reference({principalResource}, '2019-05-01', 'full').identity.principalId"),
            ["principalType"] = "ServicePrincipal",
        },
    };

    private static JsonObject AnalyticsRule(SentinelAnalyticsRule r, IEnumerable<string> dependsOn)
    {
        var techniques = r.RelevantTechniques.Select(t => t.Split('.')[0]).Distinct(StringComparer.Ordinal);
        var subTechniques = r.RelevantTechniques.Where(t => t.Contains('.', StringComparison.Ordinal));
        return new JsonObject
        {
            ["type"] = "Microsoft.OperationalInsights/workspaces/providers/alertRules",
            ["apiVersion"] = "2024-03-01",
            ["kind"] = r.Kind,
            ["name"] = Expr($"concat({Workspace}, '/Microsoft.SecurityInsights/', '{r.Id}')"),
            ["dependsOn"] = new JsonArray([.. dependsOn.Select(Expr)]),
            ["properties"] = new JsonObject
            {
                ["displayName"] = Str(r.Name),
                ["description"] = Str(r.Description),
                ["severity"] = r.Severity,
                ["enabled"] = true,
                ["query"] = Str(r.Query),
                ["queryFrequency"] = SentinelTarget.IsoDuration(r.QueryFrequency),
                ["queryPeriod"] = SentinelTarget.IsoDuration(r.QueryPeriod),
                ["triggerOperator"] = r.TriggerOperator switch { "lt" => "LessThan", "eq" => "Equal", "ne" => "NotEqual", _ => "GreaterThan" },
                ["triggerThreshold"] = r.TriggerThreshold,
                ["suppressionDuration"] = "PT5H",
                ["suppressionEnabled"] = false,
                ["tactics"] = new JsonArray([.. r.Tactics.Select(t => (JsonNode)t)]),
                ["techniques"] = new JsonArray([.. techniques.Select(t => (JsonNode)t)]),
                ["subTechniques"] = new JsonArray([.. subTechniques.Select(t => (JsonNode)t)]),
                ["entityMappings"] = new JsonArray([.. r.EntityMappings.Select(m => (JsonNode)new JsonObject
                {
                    ["entityType"] = m.EntityType,
                    ["fieldMappings"] = new JsonArray([.. m.Fields.Select(f => (JsonNode)new JsonObject { ["identifier"] = f.Identifier, ["columnName"] = f.Column })]),
                })]),
                ["customDetails"] = new JsonObject(r.CustomDetails.Select(d => KeyValuePair.Create(d.Key, (JsonNode?)JsonValue.Create(d.Column)))),
                ["alertDetailsOverride"] = new JsonObject
                {
                    ["alertDisplayNameFormat"] = r.AlertDisplayNameFormat,
                    ["alertDescriptionFormat"] = r.AlertDescriptionFormat,
                },
                ["incidentConfiguration"] = new JsonObject
                {
                    ["createIncident"] = true,
                    ["groupingConfiguration"] = new JsonObject
                    {
                        ["enabled"] = true,
                        ["reopenClosedIncident"] = false,
                        ["lookbackDuration"] = SentinelTarget.IsoDuration(r.IncidentGroupingLookback),
                        ["matchingMethod"] = "Selected",
                        ["groupByEntities"] = new JsonArray([.. r.IncidentGroupByEntities.Select(e => (JsonNode)e)]),
                        ["groupByAlertDetails"] = new JsonArray(),
                        ["groupByCustomDetails"] = new JsonArray(),
                    },
                },
                ["eventGroupingSettings"] = new JsonObject { ["aggregationKind"] = r.EventGroupingAggregationKind },
                ["templateVersion"] = r.Version,
            },
        };
    }
}
