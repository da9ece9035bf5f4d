using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace KeyAbuseContent.Harness.Running;

/// <summary>The two platforms the harness plays.</summary>
public enum Target
{
    Sentinel,
    Elastic,
}

/// <summary>
/// An alert a platform raised on a scheduled run: DESIGN.md's alert line. <see cref="Time"/> is when the run
/// that raised it executed (its delay included); <see cref="FirstSeen"/> the earliest event its row covers.
/// </summary>
public sealed record Alert(
    string Rule,
    Guid RuleId,
    Target Target,
    DateTime Time,
    string? KeyId,
    string Severity,
    string Title,
    string Summary,
    JsonObject Evidence,
    DateTime? FirstSeen,
    ImmutableArray<string> Tags)
{
    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The alert as one JSON line.</summary>
    public string ToJsonLine() => new JsonObject
    {
        ["rule"] = Rule,
        ["rule_id"] = RuleId.ToString(),
        ["target"] = Target == Target.Sentinel ? "sentinel" : "elastic",
        ["time"] = Iso(Time),
        ["key_id"] = KeyId,
        ["severity"] = Severity,
        ["title"] = Title,
        ["summary"] = Summary,
        ["evidence"] = Evidence.DeepClone(),
        ["first_seen"] = FirstSeen is { } f ? Iso(f) : null,
        ["tags"] = new JsonArray([.. Tags.Select(t => (JsonNode)t)]),
    }.ToJsonString(Compact);

    public static string Iso(DateTime t) => t.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
