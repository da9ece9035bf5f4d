using System.Collections.Immutable;
using System.Net;

namespace KeyAbuseContent.Harness.Datasets;

/// <summary>One normalized LLM API request (DESIGN.md's event table); strings are null when absent.</summary>
public sealed record ActivityEvent(
    DateTime Time,
    string KeyId,
    string? Service,
    string? Env,
    string? ClientIp,
    string? Country,
    long? Asn,
    string? UserAgent,
    string? Provider,
    string? Model,
    string? Operation,
    long InputTokens,
    long OutputTokens,
    long? Status,
    double? LatencyMs,
    double? CostUsd,
    string? RequestId);

/// <summary>One key of the inventory (DESIGN.md's inventory shape); never a secret or a route's address.</summary>
public sealed record InventoryKey(
    string Id,
    string? Provider,
    string? Owner,
    string? Team,
    string? Service,
    string? Env,
    string? Oncall,
    DateTime? Created,
    DateTime? Expires,
    DateTime? Rotated,
    DateTime? LastUsed,
    ImmutableArray<string> Models,
    ImmutableArray<string> Operations,
    ImmutableArray<string> Countries,
    ImmutableArray<string> Cidrs);

/// <summary>An attack the dataset holds: which key, from when to when.</summary>
public sealed record AttackLabel(string Scenario, string KeyId, DateTime Start, DateTime End);

/// <summary>A range of addresses and where it is: the dataset's enrichment table.</summary>
public sealed record GeoRange(IPAddress Network, int PrefixLength, string Country, long Asn);

/// <summary>A problem with a dataset's input, with file and line; the line is skipped, never a crash.</summary>
public sealed record DatasetProblem(string File, int Line, string Message)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}: {Message}" : $"{File}: {Message}";
}

/// <summary>A loaded dataset folder: events (sorted by time), inventory, labels, enrichment, and what was skipped.</summary>
public sealed record Dataset(
    string Folder,
    ImmutableArray<ActivityEvent> Events,
    ImmutableArray<InventoryKey> Inventory,
    ImmutableArray<AttackLabel> Labels,
    ImmutableArray<GeoRange> Geo,
    ImmutableArray<DatasetProblem> Problems)
{
    /// <summary>The time span the events cover; the inventory's own day when there are none.</summary>
    public (DateTime First, DateTime Last)? Span => Events.IsEmpty ? null : (Events[0].Time, Events[^1].Time);
}
