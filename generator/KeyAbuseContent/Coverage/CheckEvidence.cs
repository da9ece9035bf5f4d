using System.Collections.Immutable;
using KeyAbuseContent.Rules;

namespace KeyAbuseContent.Coverage;

/// <summary>Whether a check is satisfied, and why, in a sentence a reviewer can verify.</summary>
public sealed record EvidenceVerdict(bool Satisfied, string Reason);

/// <summary>What the coverage gate reads: the library, and each rule's test results (absent when not run).</summary>
public sealed record CoverageInputs(RuleLibrary Library, IReadOnlyDictionary<string, RuleTestResults> Results);

/// <summary>
/// A check of the threat model that rules alone cannot satisfy, because what it asks for is not an
/// alert (containing a key, measuring time to detect). Its evidence is judged here instead of by the
/// default rule gate; every implementation can fail.
/// </summary>
public interface ICheckEvidence
{
    /// <summary>The check's id in <c>threat-model.yaml</c>.</summary>
    string CheckId { get; }

    /// <summary>What satisfies the check, for the coverage table and the README.</summary>
    string Requirement { get; }

    EvidenceVerdict Evaluate(CoverageInputs inputs);
}

/// <summary>
/// The gate's exceptions to "a stable rule with passing tests on both targets": the checks whose wording
/// asks for something else. Every threat and check not named here is judged by the rule gate.
/// </summary>
public static class CheckGates
{
    /// <summary>The evidence checks, judged on what <c>keyabuse run --respond --evidence</c> recorded (or why nothing may be trusted).</summary>
    public static ImmutableArray<ICheckEvidence> For(ResponseEvidenceInput response) => [new TimeToDetectEvidence(response), new ContainmentEvidence(response)];

    public const string RuleGate = "a stable rule whose declared tests pass on Sentinel and on Elastic, with parity";

    /// <summary>The platforms the response must have been played on.</summary>
    public static readonly ImmutableArray<string> Platforms = ["sentinel", "elastic"];
}

/// <summary>
/// <c>time-to-detect</c>: "every test run reports the time from the first malicious event to the first
/// alert, and from alert to revocation". Satisfied when every passing positive test on a labelled
/// dataset measured a time to detect on its target (and at least one did), and the recorded response
/// measured, on Sentinel and on Elastic, a time to detect and a time to revoke.
/// </summary>
public sealed class TimeToDetectEvidence(ResponseEvidenceInput response) : ICheckEvidence
{
    public string CheckId => "time-to-detect";

    public string Requirement => "every passing positive rule test on a labelled dataset measures time to detect on its target, and the recorded response (keyabuse run --respond) measures time to detect and to revoke on Sentinel and on Elastic";

    public EvidenceVerdict Evaluate(CoverageInputs inputs)
    {
        var labelled = inputs.Results.Values
            .SelectMany(r => r.Stale ? [] : r.Records.Where(t => t.Check != RuleTestResults.Parity && t.Passed && t.Positive && t.Attacks > 0).Select(t => (r.Rule, Record: t)))
            .ToList();
        var problems = new List<string>();
        if (labelled.Count == 0)
        {
            problems.Add("no passing rule test on a labelled dataset measured a time to detect");
        }
        foreach (var (rule, record) in labelled.Where(l => l.Record.MeanTimeToDetectSeconds is null))
        {
            problems.Add($"{rule} on {record.Check}, {record.Dataset}: no labelled attack detected, so no time to detect");
        }
        var measured = new List<string>();
        if (response.Evidence is not { } evidence)
        {
            problems.Add(response.Problem ?? "no response evidence");
        }
        else
        {
            foreach (var platform in CheckGates.Platforms)
            {
                var scenarios = evidence.Scenarios.Where(s => s.Platform == platform).ToList();
                var detect = scenarios.Where(s => s.MeanTimeToDetectSeconds is not null).ToList();
                var revoke = scenarios.Where(s => s.MeanTimeToRevokeSeconds is not null).ToList();
                if (detect.Count == 0)
                {
                    problems.Add($"the response on {evidence.Dataset} measured no time to detect on {platform}");
                }
                if (revoke.Count == 0)
                {
                    problems.Add($"the response on {evidence.Dataset} measured no time to revoke on {platform}");
                }
                measured.Add($"{platform}: detect in {detect.Count}, revoke in {revoke.Count} of {scenarios.Count} scenario(s)");
            }
        }
        return problems.Count == 0
            ? new EvidenceVerdict(true, $"time to detect measured by {labelled.Count} rule test(s); the response on {response.Evidence!.Dataset} measured times to detect and to revoke ({string.Join("; ", measured)})")
            : new EvidenceVerdict(false, string.Join("; ", problems));
    }
}

/// <summary>
/// <c>quota-clamp</c>: "a confirmed alert clamps the key's quota or disables it through the provider's
/// API". Satisfied when the recorded response, on Sentinel and on Elastic, clamped or disabled a key through
/// a provider's API (block, clamp, inactive, delete) and the provider accepted it, no containment call was
/// refused or failed, and no irreversible deletion went without an analyst's confirmation.
/// </summary>
public sealed class ContainmentEvidence(ResponseEvidenceInput response) : ICheckEvidence
{
    public string CheckId => "quota-clamp";

    public string Requirement => "the recorded response (keyabuse run --respond) clamped or disabled a key through the provider's API on Sentinel and on Elastic, every containment call accepted, deletions only after confirmation";

    public EvidenceVerdict Evaluate(CoverageInputs inputs)
    {
        if (response.Evidence is not { } evidence)
        {
            return new EvidenceVerdict(false, response.Problem ?? "no response evidence");
        }
        var problems = new List<string>();
        var done = new List<string>();
        foreach (var platform in CheckGates.Platforms)
        {
            var mine = evidence.Containments.Where(c => c.Platform == platform).ToList();
            var contained = mine.Where(c => c.Succeeded && ContainmentRecord.ClampOrDisable.Contains(c.Action)).ToList();
            if (contained.Count == 0)
            {
                problems.Add($"no clamp or disable action accepted by a provider on {platform} (response on {evidence.Dataset})");
            }
            foreach (var bad in mine.Where(c => !c.Succeeded).Take(3))
            {
                problems.Add("containment not done: " + bad.Describe());
            }
            if (mine.Count(c => !c.Succeeded) is > 3 and var n)
            {
                problems.Add($"and {n - 3} more containment call(s) not done on {platform}");
            }
            foreach (var unconfirmed in mine.Where(c => c.Action == "delete" && !c.Held))
            {
                problems.Add("deleted without an analyst's confirmation: " + unconfirmed.Describe());
            }
            done.Add($"{platform}: " + string.Join(", ", contained.GroupBy(c => $"{c.Provider} {c.Action}{(c.Held ? " after confirmation" : "")}", StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} x{g.Count()}")));
        }
        return problems.Count == 0
            ? new EvidenceVerdict(true, $"contained through the providers' APIs on {evidence.Dataset} ({string.Join("; ", done)})")
            : new EvidenceVerdict(false, string.Join("; ", problems));
    }
}
