using System.Collections.Immutable;
using System.Globalization;
using KeyAbuseContent.Expressions;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Kql;
using KeyAbuseContent.Templates;

namespace KeyAbuseContent.Targets.Sentinel;

/// <summary>A rule compiled for Sentinel: the analytics rule and the history pieces its query reads.</summary>
public sealed record SentinelArtifact(SentinelAnalyticsRule Rule, KqlRulePlan Plan, string Yaml);

/// <summary>
/// Builds Sentinel analytics rules from analyzed rules: severity, tactics, entity mappings, custom
/// details and alert overrides, then the Azure-Sentinel YAML through its template.
/// </summary>
public static class SentinelTarget
{
    /// <summary>The column every Sentinel query adds with the rule's own severity (Sentinel has no Critical).</summary>
    public const string SeverityColumn = "KeyAbuseSeverity";

    public static SentinelArtifact Build(AnalyzedRule analyzed, Vocabulary vocabulary)
    {
        var rule = analyzed.Rule;
        var plan = KqlRuleCompiler.Compile(analyzed);
        var query = plan.Detection with
        {
            Body = plan.Detection.Body.Then(new KqlExtend([KqlNodes.As(SeverityColumn, KqlLiteral.Str(rule.Severity.ToString().ToLowerInvariant()))])),
        };
        var columns = plan.ResultColumns.Add(SeverityColumn);
        var techniques = rule.Tags.Where(t => t.Framework == TagFramework.Attack).Select(t => t.Id).ToImmutableArray();
        var tactics = techniques
            .SelectMany(id => vocabulary.Attack(id)?.Tactics ?? [])
            .Distinct(StringComparer.Ordinal)
            .Select(t => string.Concat(t.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => char.ToUpperInvariant(w[0]) + w[1..])))
            .ToImmutableArray();
        var entities = EntityMappings(analyzed);
        var sentinel = new SentinelAnalyticsRule
        {
            Id = rule.Id,
            RuleName = rule.Name,
            Name = rule.Title,
            Description = Description(rule),
            Severity = rule.Severity switch
            {
                Severity.Informational => "Informational",
                Severity.Low => "Low",
                Severity.Medium => "Medium",
                _ => "High",
            },
            RequiredDataConnectors = DataConnectors(analyzed),
            QueryFrequency = rule.Schedule.Every,
            QueryPeriod = plan.QueryPeriod,
            Tactics = tactics,
            RelevantTechniques = techniques,
            Query = KqlRenderer.Render(query),
            EntityMappings = entities,
            CustomDetails = CustomDetails(analyzed),
            AlertDisplayNameFormat = "{{AlertTitle}}",
            AlertDescriptionFormat = "{{AlertSummary}}",
            IncidentGroupingLookback = TimeSpan.FromHours(Math.Max(1, rule.Schedule.Every.TotalHours * 12)),
            IncidentGroupByEntities = [.. entities.Select(e => e.EntityType).Distinct(StringComparer.Ordinal)],
            Version = rule.Version.ToString(3),
            ResultColumns = columns,
        };
        return new SentinelArtifact(sentinel, plan, Yaml(sentinel));
    }

    private static string Description(Rule rule)
    {
        var text = rule.Description.Trim();
        if (rule.FalsePositives.Length > 0)
        {
            text += "\n\nFalse positives: " + string.Join(" ", rule.FalsePositives.Select(f => f.TrimEnd('.') + "."));
        }
        if (rule.Note is { } note)
        {
            text += "\n\nTriage:\n" + note.Trim();
        }
        return text;
    }

    private static ImmutableArray<SentinelDataConnector> DataConnectors(AnalyzedRule rule) => rule.Rule.Source switch
    {
        RuleSource.Inventory => [new SentinelDataConnector("KeyAbuseContentInventory", ["Watchlist"])],
        RuleSource.ControlPlane => [new SentinelDataConnector("AWS", ["AWSCloudTrail"]), new SentinelDataConnector("AzureActivity", ["AzureActivity"])],
        RuleSource.Audit => [new SentinelDataConnector("KeyAbuseContentAudit", [SentinelParsers.AuditTable])],
        RuleSource.Logs => [new SentinelDataConnector("KeyAbuseContentLogs", [SentinelParsers.LogsTable])],
        _ => [new SentinelDataConnector("KeyAbuseContentActivity", [SentinelParsers.ActivityTable])],
    };

    private static readonly Dictionary<string, (string Type, string Identifier)> EntityTypes = new(StringComparer.Ordinal)
    {
        ["key"] = ("Account", "Name"),
        ["owner"] = ("Account", "FullName"),
        ["ip"] = ("IP", "Address"),
        ["service"] = ("CloudApplication", "Name"),
        ["host"] = ("Host", "HostName"),
        ["account"] = ("Account", "FullName"),
    };

    private static ImmutableArray<SentinelEntityMapping> EntityMappings(AnalyzedRule rule) =>
    [
        .. rule.Entities
            .Where(e => EntityTypes.ContainsKey(e.Key))
            .OrderBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => new SentinelEntityMapping(EntityTypes[e.Key].Type, [(EntityTypes[e.Key].Identifier, e.Value.KqlName)])),
    ];

    /// <summary>
    /// Every result column but the texts, keyed by its PascalCase name (Sentinel keys are at most 20 characters and
    /// an alert holds at most 20), then the key's owner, team, service and on-call route name, then the severity.
    /// </summary>
    private static ImmutableArray<(string Key, string Column)> CustomDetails(AnalyzedRule rule) =>
    [
        .. rule.ResultColumns
            .Where(c => c.Type != ExprType.StringList || rule.Rule.Source != RuleSource.Inventory)
            .Select(c => (Key: DetailKey(c), Column: c.KqlName))
            .Where(d => !KqlRuleCompiler.RouteColumns.Any(r => r.Column == d.Key))
            .Take(19 - KqlRuleCompiler.RouteColumns.Length),
        .. KqlRuleCompiler.RouteColumns.Select(r => (r.Column, r.Column)),
        ("Severity", SeverityColumn),
    ];

    private static string DetailKey(FieldBinding c)
    {
        var key = Computed.Pascal(c.Name);
        return key.Length <= 20 ? key : key[..20];
    }

    /// <summary>A duration as Azure-Sentinel's YAML writes it: 5m, 1h, 14d.</summary>
    public static string YamlDuration(TimeSpan span) => KqlRenderer.Span(span);

    /// <summary>A duration in ISO 8601, as ARM wants it: PT5M, PT1H, P14D.</summary>
    public static string IsoDuration(TimeSpan span) => System.Xml.XmlConvert.ToString(span);

    private static string Yaml(SentinelAnalyticsRule r) => DocumentTemplates.Render("sentinel-rule.yaml.scriban", new
    {
        r.Id,
        r.Name,
        r.Description,
        r.Severity,
        Connectors = r.RequiredDataConnectors.Select(c => new { c.ConnectorId, c.DataTypes }).ToList(),
        QueryFrequency = YamlDuration(r.QueryFrequency),
        QueryPeriod = YamlDuration(r.QueryPeriod),
        r.TriggerOperator,
        TriggerThreshold = r.TriggerThreshold.ToString(CultureInfo.InvariantCulture),
        r.Tactics,
        Techniques = r.RelevantTechniques,
        r.Query,
        EntityMappings = r.EntityMappings.Select(m => new { m.EntityType, Fields = m.Fields.Select(f => new { f.Identifier, f.Column }).ToList() }).ToList(),
        CustomDetails = r.CustomDetails.Select(d => new { d.Key, d.Column }).ToList(),
        AlertName = r.AlertDisplayNameFormat,
        AlertDescription = r.AlertDescriptionFormat,
        GroupingLookback = IsoDuration(r.IncidentGroupingLookback),
        GroupByEntities = r.IncidentGroupByEntities,
        AggregationKind = r.EventGroupingAggregationKind,
        r.Version,
        r.Kind,
    });
}
