using System.Collections.Immutable;

namespace KeyAbuseContent.Targets.Sentinel;

/// <summary>An entity mapping: a Sentinel entity type and up to three identifier-to-column pairs.</summary>
public sealed record SentinelEntityMapping(string EntityType, ImmutableArray<(string Identifier, string Column)> Fields);

/// <summary>A data connector and the tables the rule reads through it.</summary>
public sealed record SentinelDataConnector(string ConnectorId, ImmutableArray<string> DataTypes);

/// <summary>
/// A scheduled analytics rule in the Azure-Sentinel YAML template format (the shape of
/// Azure/Azure-Sentinel's Detections/*.yaml); the ARM template is rendered from the same record.
/// </summary>
public sealed record SentinelAnalyticsRule
{
    public required Guid Id { get; init; }
    /// <summary>The library's name of the rule (<c>llm-key-rpm-above-baseline</c>), which the inventory's response.auto lists.</summary>
    public required string RuleName { get; init; }
    /// <summary>The display name: the rule's title.</summary>
    public required string Name { get; init; }
    public required string Description { get; init; }
    /// <summary>Informational, Low, Medium or High (Sentinel has no Critical).</summary>
    public required string Severity { get; init; }
    public required ImmutableArray<SentinelDataConnector> RequiredDataConnectors { get; init; }
    public required TimeSpan QueryFrequency { get; init; }
    public required TimeSpan QueryPeriod { get; init; }
    /// <summary>gt, lt, eq or ne.</summary>
    public string TriggerOperator { get; init; } = "gt";
    public int TriggerThreshold { get; init; }
    /// <summary>Tactic names as Sentinel spells them: Impact, CredentialAccess, InitialAccess, ...</summary>
    public required ImmutableArray<string> Tactics { get; init; }
    /// <summary>ATT&amp;CK technique ids: T1496, T1078.004.</summary>
    public required ImmutableArray<string> RelevantTechniques { get; init; }
    public required string Query { get; init; }
    public required ImmutableArray<SentinelEntityMapping> EntityMappings { get; init; }
    /// <summary>Custom detail key to result column.</summary>
    public required ImmutableArray<(string Key, string Column)> CustomDetails { get; init; }
    /// <summary>alertDisplayNameFormat: text with {{Column}} placeholders.</summary>
    public required string AlertDisplayNameFormat { get; init; }
    /// <summary>alertDescriptionFormat: text with {{Column}} placeholders.</summary>
    public required string AlertDescriptionFormat { get; init; }
    public required TimeSpan IncidentGroupingLookback { get; init; }
    public required ImmutableArray<string> IncidentGroupByEntities { get; init; }
    /// <summary>AlertPerResult or SingleAlert.</summary>
    public string EventGroupingAggregationKind { get; init; } = "AlertPerResult";
    public required string Version { get; init; }
    public string Kind { get; init; } = "Scheduled";
    /// <summary>The result columns the query returns, for checking custom details and placeholders.</summary>
    public required ImmutableArray<string> ResultColumns { get; init; }
}
