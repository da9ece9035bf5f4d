using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KeyAbuseContent.Coverage;

/// <summary>
/// One containment call the response made on a platform's timeline: the provider, what it asked for
/// (<c>block</c>, <c>clamp</c>, <c>inactive</c>, <c>delete</c>), how the provider answered (<c>accepted</c>,
/// <c>retried</c> when accepted after retries, <c>refused</c> for a 4xx answer, <c>failed</c> otherwise), its
/// last HTTP status, whether it waited for an analyst's confirmation, and when it was made.
/// </summary>
public sealed record ContainmentRecord(
    string Platform,
    string Provider,
    string Action,
    string Outcome,
    int? Status,
    int Attempts,
    bool Held,
    string Rule,
    string KeyId,
    DateTime At)
{
    public const string Accepted = "accepted";
    public const string Retried = "retried";
    public const string Refused = "refused";
    public const string Failed = "failed";

    /// <summary>The actions that clamp or disable a key (the threat model's <c>quota-clamp</c>).</summary>
    public static readonly ImmutableArray<string> ClampOrDisable = ["block", "clamp", "inactive", "delete"];

    /// <summary>The provider took it (at once or after retries).</summary>
    [JsonIgnore]
    public bool Succeeded => Outcome is Accepted or Retried;

    public string Describe() =>
        $"{Provider} {Action} of {KeyId} for {Rule} on {Platform}: {Outcome}{(Status is { } s ? $" (HTTP {s})" : "")}";
}

/// <summary>
/// A containment held for an analyst and dismissed by the simulated analyst (its alert detected no labelled attack):
/// the alert's rule, key and time, and when it was dismissed. Nothing was contained.
/// </summary>
public sealed record DismissalRecord(string Platform, string Rule, string KeyId, DateTime AlertAt, DateTime DismissedAt);

/// <summary>
/// One scenario's response on one platform: its attacks, how many were detected, notified and contained, and
/// the mean times from an attack's first event to its first alert, its first notification and its containment.
/// </summary>
public sealed record ScenarioTimes(
    string Platform,
    string Scenario,
    int Attacks,
    int Detected,
    int Notified,
    int Contained,
    double? MeanTimeToDetectSeconds,
    double? MeanTimeToNotifySeconds,
    double? MeanTimeToRevokeSeconds);

/// <summary>
/// What <c>keyabuse run --respond --evidence FILE</c> records for the coverage gate: the dataset it played, the
/// platforms, every containment call, the held containments the analyst dismissed and the times per scenario. <see cref="Fingerprint"/> identifies what
/// produced it (the builds, the library with its response content, the dataset's bytes), so evidence read back
/// is only trusted for the same inputs.
/// </summary>
public sealed record ResponseEvidence(
    string Fingerprint,
    string Dataset,
    string ConfirmDelay,
    ImmutableArray<string> Platforms,
    ImmutableArray<ContainmentRecord> Containments,
    ImmutableArray<ScenarioTimes> Scenarios)
{
    /// <summary>The held containments the analyst dismissed, per platform, in time order.</summary>
    public ImmutableArray<DismissalRecord> Dismissals { get; init; } = [];
}

/// <summary>The response evidence the gate judges, or why there is none it may trust (missing, unreadable, stale).</summary>
public sealed record ResponseEvidenceInput(ResponseEvidence? Evidence, string? Problem)
{
    public static ResponseEvidenceInput Trusted(ResponseEvidence evidence) => new(evidence, null);

    public static ResponseEvidenceInput Untrusted(string problem) => new(null, problem);
}

/// <summary>The file <c>keyabuse run --respond --evidence FILE</c> writes and <c>keyabuse coverage</c> and <c>bundle</c> read.</summary>
public static class ResponseEvidenceFile
{
    public const string Format = "keyabuse-response-evidence/1";

    private static JsonSerializerOptions Options => RecordFiles.Json;

    private sealed record FileShape(string Format, ResponseEvidence Evidence);

    public static string Serialize(ResponseEvidence evidence) => JsonSerializer.Serialize(new FileShape(Format, evidence), Options) + "\n";

    /// <summary>Writes the file through a temporary file, so a reader never sees half of it.</summary>
    public static void Write(string path, ResponseEvidence evidence)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(temp, Serialize(evidence));
        File.Move(temp, full, overwrite: true);
    }

    /// <summary>Reads an evidence file; a file that is not one is a <see cref="FormatException"/> naming it.</summary>
    public static ResponseEvidence Read(string path)
    {
        FileShape? shape;
        try
        {
            shape = JsonSerializer.Deserialize<FileShape>(File.ReadAllText(path), Options);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path} is not a response evidence file of keyabuse run --respond: {e.Message}");
        }
        if (shape is null || shape.Format != Format || shape.Evidence is null || shape.Evidence.Fingerprint is null)
        {
            throw new FormatException($"{path} is not a response evidence file of keyabuse run --respond (format '{Format}')");
        }
        var evidence = shape.Evidence;
        return evidence with
        {
            Platforms = evidence.Platforms.IsDefault ? [] : evidence.Platforms,
            Containments = evidence.Containments.IsDefault ? [] : evidence.Containments,
            Scenarios = evidence.Scenarios.IsDefault ? [] : evidence.Scenarios,
            Dismissals = evidence.Dismissals.IsDefault ? [] : evidence.Dismissals,
        };
    }
}
