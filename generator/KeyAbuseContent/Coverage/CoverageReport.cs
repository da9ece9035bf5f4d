using System.Collections.Immutable;
using KeyAbuseContent.Rules;

namespace KeyAbuseContent.Coverage;

/// <summary>How one rule stands in the coverage tables: its status and its verdict per target.</summary>
public sealed record RuleCoverage(string Name, RuleStatus Status, TargetVerdict Sentinel, TargetVerdict Elastic, bool Parity)
{
    /// <summary>Tested: passing on both targets, with parity (what the matrices score).</summary>
    public bool Tested => Sentinel == TargetVerdict.Pass && Elastic == TargetVerdict.Pass && Parity;

    /// <summary>What the gate accepts: a stable rule that is tested.</summary>
    public bool Counts => Status == RuleStatus.Stable && Tested;

    public string Describe() => Counts
        ? Name
        : $"{Name} ({string.Join(", ", Reasons())})";

    private IEnumerable<string> Reasons()
    {
        if (Status != RuleStatus.Stable)
        {
            yield return Status.ToString().ToLowerInvariant();
        }
        if (Sentinel != TargetVerdict.Pass)
        {
            yield return "sentinel " + Word(Sentinel);
        }
        if (Elastic != TargetVerdict.Pass)
        {
            yield return "elastic " + Word(Elastic);
        }
        if (!Parity)
        {
            yield return "parity fails";
        }
    }

    public static string Word(TargetVerdict v) => v switch
    {
        TargetVerdict.Pass => "pass",
        TargetVerdict.Fail => "fail",
        TargetVerdict.Stale => "stale",
        _ => "untested",
    };
}

/// <summary>A threat or check of the threat model: the rules naming it, how it is judged, and the verdict.</summary>
public sealed record ThreatCoverage(ThreatEntry Entry, string Gate, ImmutableArray<RuleCoverage> Rules, bool Satisfied, string Reason);

/// <summary>An ATT&amp;CK or ATLAS technique some rule tags, with the rules tagging it and those tested.</summary>
public sealed record TechniqueCoverage(string Id, string Name, ImmutableArray<string> Tactics, ImmutableArray<RuleCoverage> Rules)
{
    public int Score => Rules.Count(r => r.Tested);
}

/// <summary>An OWASP Top 10 for LLM Applications (2025) risk, with the rules tagging it.</summary>
public sealed record OwaspCoverage(string Id, string Name, ImmutableArray<RuleCoverage> Rules)
{
    public int Tested => Rules.Count(r => r.Tested);
}

/// <summary>The threat model, ATT&amp;CK, ATLAS and OWASP coverage of a library, and the gate's verdict.</summary>
public sealed record CoverageReport(
    ImmutableArray<ThreatCoverage> Threats,
    ImmutableArray<RuleCoverage> Rules,
    ImmutableArray<TechniqueCoverage> Attack,
    ImmutableArray<TechniqueCoverage> Atlas,
    ImmutableArray<OwaspCoverage> Owasp)
{
    /// <summary>Every threat and check satisfied.</summary>
    public bool Passed => Threats.All(t => t.Satisfied);

    public IEnumerable<ThreatCoverage> Failures => Threats.Where(t => !t.Satisfied);
}

/// <summary>
/// Computes coverage. The gate: a threat or check is satisfied by a stable rule naming it whose declared
/// tests pass on Sentinel and on Elastic with parity, unless <see cref="CheckGates"/> names evidence for it,
/// in which case the evidence decides (a rule naming such a check is listed but never satisfies it).
/// A rule without results, with stale results, or with a failing test does not count.
/// </summary>
public static class CoverageAnalysis
{
    public static CoverageReport Analyze(CoverageInputs inputs, IEnumerable<ICheckEvidence> evidence)
    {
        var library = inputs.Library;
        var byCheck = evidence.ToDictionary(e => e.CheckId, StringComparer.Ordinal);
        var rules = library.Rules.OrderBy(r => r.Name, StringComparer.Ordinal).Select(r => Of(r, inputs.Results.GetValueOrDefault(r.Name))).ToImmutableArray();
        var byName = rules.ToDictionary(r => r.Name, StringComparer.Ordinal);

        var threats = ImmutableArray.CreateBuilder<ThreatCoverage>();
        foreach (var entry in library.ThreatModel.Entries)
        {
            var naming = library.Rules.Where(r => r.Threats.Contains(entry.Id)).OrderBy(r => r.Name, StringComparer.Ordinal).Select(r => byName[r.Name]).ToImmutableArray();
            if (byCheck.TryGetValue(entry.Id, out var check))
            {
                var verdict = check.Evaluate(inputs);
                threats.Add(new ThreatCoverage(entry, check.Requirement, naming, verdict.Satisfied, verdict.Reason));
                continue;
            }
            var counting = naming.Where(r => r.Counts).ToList();
            var reason = counting.Count > 0
                ? "covered by " + string.Join(", ", counting.Select(r => r.Name))
                : naming.IsEmpty
                    ? "no rule names it"
                    : "no stable rule passes on both targets: " + string.Join("; ", naming.Select(r => r.Describe()));
            threats.Add(new ThreatCoverage(entry, CheckGates.RuleGate, naming, counting.Count > 0, reason));
        }

        var vocabulary = library.Vocabulary;
        return new CoverageReport(
            threats.ToImmutable(),
            rules,
            Techniques(library, byName, TagFramework.Attack, id => vocabulary.Attack(id)),
            Techniques(library, byName, TagFramework.Atlas, id => vocabulary.Atlas(id) is { } t ? t with { Tactics = [.. t.Tactics.Select(x => vocabulary.AtlasTacticName(x) ?? x)] } : null),
            Owasp(library, byName));
    }

    private static RuleCoverage Of(Rule rule, RuleTestResults? results) => results is null
        ? new RuleCoverage(rule.Name, rule.Status, TargetVerdict.Untested, TargetVerdict.Untested, Parity: true)
        : new RuleCoverage(rule.Name, rule.Status, results.Verdict(RuleTestResults.Sentinel), results.Verdict(RuleTestResults.Elastic), results.ParityHolds);

    private static ImmutableArray<TechniqueCoverage> Techniques(RuleLibrary library, Dictionary<string, RuleCoverage> byName, TagFramework framework, Func<string, Vocabulary.Technique?> lookup) =>
        [.. library.Rules
            .Where(r => r.Status != RuleStatus.Deprecated)
            .SelectMany(r => r.Tags.Where(t => t.Framework == framework).Select(t => (Tag: t.Id, Rule: r.Name)))
            .GroupBy(x => x.Tag, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var technique = lookup(g.Key);
                return new TechniqueCoverage(g.Key, technique?.Name ?? g.Key, [.. technique?.Tactics ?? []],
                    [.. g.Select(x => x.Rule).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(n => byName[n])]);
            })];

    private static ImmutableArray<OwaspCoverage> Owasp(RuleLibrary library, Dictionary<string, RuleCoverage> byName) =>
        [.. Enumerable.Range(1, 10).Select(i => $"LLM{i:00}:2025").Select(id => new OwaspCoverage(id, library.Vocabulary.Owasp(id) ?? id,
            [.. library.Rules.Where(r => r.Status != RuleStatus.Deprecated && r.Tags.Any(t => t.Framework == TagFramework.Owasp && t.Id == id))
                .Select(r => r.Name).Order(StringComparer.Ordinal).Select(n => byName[n])]))];
}
