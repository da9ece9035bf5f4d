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
    ImmutableArray<string> Cidrs)
{
    /// <summary>Multiplies every baseline rule's floor for the key (its own <c>tuning</c>, else its service's); null: 1.</summary>
    public double? FloorScale { get; init; }

    /// <summary>The least value/baseline multiple every baseline rule needs for the key, on top of its condition; null: none.</summary>
    public double? MinRatio { get; init; }
}

/// <summary>One application or CI log line (the logs source): where it was written and its text.</summary>
public sealed record LogLine(DateTime Time, string? Host, string? Source, string? Pipeline, string? Repository, string? Message);

/// <summary>An attack the dataset holds: which key, from when to when, and the source addresses it came from when the label says.</summary>
public sealed record AttackLabel(string Scenario, string KeyId, DateTime Start, DateTime End)
{
    /// <summary>
    /// The client addresses the attack used (the optional <c>addresses</c> of <c>labels.json</c>): what matches an
    /// alert that names no key, only an address (a rule by <c>client_ip</c>), to the attack.
    /// </summary>
    public ImmutableArray<string> Addresses { get; init; } = [];
}

/// <summary>A range of addresses and where it is: the dataset's enrichment table.</summary>
public sealed record GeoRange(IPAddress Network, int PrefixLength, string Country, long Asn);

/// <summary>A problem with a dataset's input, with file and line; the line is skipped, never a crash.</summary>
public sealed record DatasetProblem(string File, int Line, string Message)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}: {Message}" : $"{File}: {Message}";
}

/// <summary>
/// A loaded dataset folder: normalized events (sorted by time), vendor-format records of <c>raw/</c> (sorted by
/// time), inventory, labels, enrichment, and what was skipped.
/// </summary>
public sealed record Dataset(
    string Folder,
    ImmutableArray<ActivityEvent> Events,
    ImmutableArray<InventoryKey> Inventory,
    ImmutableArray<AttackLabel> Labels,
    ImmutableArray<GeoRange> Geo,
    ImmutableArray<DatasetProblem> Problems)
{
    /// <summary>Application and CI log lines (<c>logs.jsonl</c>), sorted by time.</summary>
    public ImmutableArray<LogLine> Logs { get; init; } = [];

    /// <summary>The records of the vendor logs under <c>raw/</c> that loaded, sorted by time.</summary>
    public ImmutableArray<RawRecord> Raw { get; init; } = [];

    /// <summary>Whether the dataset holds anything a rule can read.</summary>
    public bool IsEmpty => Events.IsEmpty && Raw.IsEmpty && Logs.IsEmpty && Inventory.IsEmpty;

    /// <summary>The time span the events, raw records and log lines cover; null when there are none (an inventory alone).</summary>
    public (DateTime First, DateTime Last)? Span
    {
        get
        {
            DateTime? first = null, last = null;
            void Cover(DateTime from, DateTime to)
            {
                first = first is { } f && f <= from ? f : from;
                last = last is { } l && l >= to ? l : to;
            }
            if (!Events.IsEmpty)
            {
                Cover(Events[0].Time, Events[^1].Time);
            }
            if (!Raw.IsEmpty)
            {
                Cover(Raw[0].Time, Raw[^1].Time);
            }
            if (!Logs.IsEmpty)
            {
                Cover(Logs[0].Time, Logs[^1].Time);
            }
            return first is { } a && last is { } b ? (a, b) : null;
        }
    }
}
