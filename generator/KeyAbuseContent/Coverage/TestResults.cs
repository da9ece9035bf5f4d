using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KeyAbuseContent.Coverage;

/// <summary>
/// The verdict of one declared test of a rule on one target (<c>sentinel</c>, <c>elastic</c>) or of the
/// two targets' parity, with what it measured: alerts, false alerts (alerts neither an expectation of
/// the test nor a labelled attack of the dataset explains), labelled attacks detected, and the mean
/// time from an attack's first event to the rule's first alert on it.
/// </summary>
public sealed record TestRecord(
    string Check,
    string Dataset,
    bool Passed,
    bool Positive,
    int Alerts,
    int FalseAlerts,
    int Attacks,
    int Detected,
    double? MeanTimeToDetectSeconds,
    ImmutableArray<string> Failures);

/// <summary>How a rule stands on one target.</summary>
public enum TargetVerdict
{
    /// <summary>Every declared test on the target passed, and at least one of them expected alerts.</summary>
    Pass,

    /// <summary>A declared test on the target failed.</summary>
    Fail,

    /// <summary>No test that expects alerts ran on the target.</summary>
    Untested,

    /// <summary>The results were recorded for another rule text, dataset or build than the current one.</summary>
    Stale,
}

/// <summary>
/// The outcome of a rule's declared tests. <see cref="Fingerprint"/> identifies what produced them (the
/// rule file, its rendered queries, its datasets' bytes and the build of the harness), so results read
/// back from a file are only trusted for the same inputs.
/// </summary>
public sealed record RuleTestResults(string Rule, string Fingerprint, ImmutableArray<TestRecord> Records, [property: JsonIgnore] bool Stale = false)
{
    public const string Sentinel = "sentinel";
    public const string Elastic = "elastic";
    public const string Parity = "parity";

    public TargetVerdict Verdict(string target)
    {
        if (Stale)
        {
            return TargetVerdict.Stale;
        }
        var mine = Records.Where(r => r.Check == target).ToList();
        if (mine.Any(r => !r.Passed))
        {
            return TargetVerdict.Fail;
        }
        return mine.Any(r => r.Positive) ? TargetVerdict.Pass : TargetVerdict.Untested;
    }

    /// <summary>Both targets returned the same rows on every run of every recorded test that ran on both (stale or not: the verdicts say that).</summary>
    [JsonIgnore]
    public bool ParityHolds => Records.Where(r => r.Check == Parity).All(r => r.Passed);

    /// <summary>Tested on Sentinel and on Elastic, every test passing, the targets agreeing.</summary>
    [JsonIgnore]
    public bool PassesOnBothTargets => Verdict(Sentinel) == TargetVerdict.Pass && Verdict(Elastic) == TargetVerdict.Pass && ParityHolds;

    /// <summary>The mean time to detect over the labelled attacks the rule detected on a target; null when none.</summary>
    public double? MeanTimeToDetectSeconds(string target)
    {
        var measured = Records.Where(r => r.Check == target && r.MeanTimeToDetectSeconds is not null).ToList();
        var detected = measured.Sum(r => r.Detected);
        return detected == 0 ? null : measured.Sum(r => r.MeanTimeToDetectSeconds!.Value * r.Detected) / detected;
    }

    public int FalseAlerts(string target) => Records.Where(r => r.Check == target).Sum(r => r.FalseAlerts);
}

/// <summary>
/// The results file <c>keyabuse test --results FILE</c> writes and <c>keyabuse coverage</c> and
/// <c>keyabuse bundle</c> read: one entry per rule with its fingerprint and test records.
/// </summary>
public static class TestResultsFile
{
    public const string Format = "keyabuse-test-results/1";

    private static JsonSerializerOptions Options => RecordFiles.Json;

    private sealed record FileShape(string Format, ImmutableArray<RuleTestResults> Rules);

    public static string Serialize(IEnumerable<RuleTestResults> results) =>
        JsonSerializer.Serialize(new FileShape(Format, [.. results.OrderBy(r => r.Rule, StringComparer.Ordinal)]), Options) + "\n";

    /// <summary>Writes the file through a temporary file, so a reader never sees half of it.</summary>
    public static void Write(string path, IEnumerable<RuleTestResults> results)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(temp, Serialize(results));
        File.Move(temp, full, overwrite: true);
    }

    /// <summary>Reads a results file; a file that is not one is a <see cref="FormatException"/> naming it.</summary>
    public static ImmutableArray<RuleTestResults> Read(string path)
    {
        FileShape? shape;
        try
        {
            shape = JsonSerializer.Deserialize<FileShape>(File.ReadAllText(path), Options);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path} is not a results file of keyabuse test: {e.Message}");
        }
        if (shape is null || shape.Format != Format || shape.Rules.IsDefault)
        {
            throw new FormatException($"{path} is not a results file of keyabuse test (format '{Format}')");
        }
        return [.. shape.Rules.Select(r => r with { Stale = false, Records = r.Records.IsDefault ? [] : r.Records })];
    }
}

/// <summary>How the files the gate reads (test results, response evidence) are written: snake_case, indented, nulls left out.</summary>
internal static class RecordFiles
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
