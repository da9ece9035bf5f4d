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
    /// <summary>The evidence of the pack as it stands. The response work (issue 16, parts 3 and 4) replaces the two placeholders' inputs.</summary>
    public static ImmutableArray<ICheckEvidence> Default { get; } = [new TimeToDetectEvidence(timeToRevoke: null), new ContainmentEvidence(actions: [])];

    public const string RuleGate = "a stable rule whose declared tests pass on Sentinel and on Elastic, with parity";
}

/// <summary>
/// <c>time-to-detect</c>: "every test run reports the time from the first malicious event to the first
/// alert, and from alert to revocation". Satisfied when every passing positive test on a labelled
/// dataset measured a time to detect on its target (and at least one did), and the response measured
/// time to revoke.
/// </summary>
public sealed class TimeToDetectEvidence(EvidenceVerdict? timeToRevoke) : ICheckEvidence
{
    public string CheckId => "time-to-detect";

    public string Requirement => "every passing positive rule test on a labelled dataset measures time to detect on its target, and the response measures time to revoke";

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
        if (timeToRevoke is null)
        {
            problems.Add("time to revoke is not measured (keyabuse run --respond, issue 16 part 4)");
        }
        else if (!timeToRevoke.Satisfied)
        {
            problems.Add(timeToRevoke.Reason);
        }
        return problems.Count == 0
            ? new EvidenceVerdict(true, $"time to detect measured by {labelled.Count} rule test(s); {timeToRevoke!.Reason}")
            : new EvidenceVerdict(false, string.Join("; ", problems));
    }
}

/// <summary>A containment action the pack ships and has tested: provider, what it does, and on which platform.</summary>
public sealed record ContainmentAction(string Provider, string Action, string Platform, bool Tested);

/// <summary>
/// <c>quota-clamp</c>: "a confirmed alert clamps the key's quota or disables it through the provider's
/// API". Satisfied when the pack ships, for Sentinel and for Elastic, a containment action tested
/// against a server implementing the provider's API.
/// </summary>
public sealed class ContainmentEvidence(ImmutableArray<ContainmentAction> actions) : ICheckEvidence
{
    private static readonly string[] Platforms = ["sentinel", "elastic"];

    public string CheckId => "quota-clamp";

    public string Requirement => "a tested containment action (clamp or disable through the provider's API) on Sentinel and on Elastic";

    public EvidenceVerdict Evaluate(CoverageInputs inputs)
    {
        var missing = Platforms.Where(p => !actions.Any(a => a.Platform == p && a.Tested)).ToList();
        if (missing.Count == 0)
        {
            return new EvidenceVerdict(true, string.Join(", ", actions.Where(a => a.Tested).Select(a => $"{a.Provider} {a.Action} on {a.Platform}").Distinct(StringComparer.Ordinal)));
        }
        return new EvidenceVerdict(false, $"no tested containment action on {string.Join(" or ", missing)} (playbooks and keyabuse respond, issue 16 part 3)");
    }
}
