using System.Collections.Immutable;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Rules;

namespace KeyAbuseContent.Harness.Testing;

/// <summary>The verdict of one rule test: on a target (sentinel, elastic), or the parity of the two.</summary>
public sealed record TestOutcome(string Rule, string Check, string Dataset, bool Passed, ImmutableArray<string> Failures, ImmutableArray<Alert> Alerts);

/// <summary>
/// Judges a rule's alerts on a dataset against the test's expectations: each expected key has at least
/// <c>min</c> (and at most <c>max</c>) alerts whose time falls in its window; an alert no expectation
/// covers is a false alert; a dataset that expects nothing must raise nothing.
/// </summary>
public static class Expectations
{
    public static TestOutcome Judge(Rule rule, RuleTest test, Target target, IReadOnlyList<Alert> alerts)
    {
        var mine = alerts.Where(a => a.Rule == rule.Name && a.Target == target).OrderBy(a => a.Time).ToImmutableArray();
        var failures = ImmutableArray.CreateBuilder<string>();
        foreach (var e in test.Expect)
        {
            var hits = mine.Count(a => Covers(e, a));
            var subject = e.KeyId.Length > 0 ? e.KeyId : e.Entity;
            if (hits < e.Min)
            {
                failures.Add($"expected at least {e.Min} alert(s) for {subject} between {Alert.Iso(e.From.UtcDateTime)} and {Alert.Iso(e.To.UtcDateTime)}, got {hits}");
            }
            if (e.Max is { } max && hits > max)
            {
                failures.Add($"expected at most {max} alert(s) for {subject} between {Alert.Iso(e.From.UtcDateTime)} and {Alert.Iso(e.To.UtcDateTime)}, got {hits}");
            }
        }
        var unexpected = mine.Where(a => !test.Expect.Any(e => Covers(e, a))).ToList();
        if (unexpected.Count > 0)
        {
            var sample = string.Join("; ", unexpected.Take(3).Select(a => $"{a.KeyId} at {Alert.Iso(a.Time)}: {a.Title}"));
            failures.Add($"{unexpected.Count} alert(s) no expectation covers, the first: {sample}");
        }
        return new TestOutcome(rule.Name, target.ToString().ToLowerInvariant(), test.Dataset, failures.Count == 0, failures.ToImmutable(), mine);
    }

    /// <summary>An alert in the expectation's window for its key, or, for an expectation by entity, whose result row holds the entity.</summary>
    private static bool Covers(Expectation e, Alert a) =>
        a.Time >= e.From.UtcDateTime && a.Time <= e.To.UtcDateTime && (e.KeyId.Length > 0
            ? a.KeyId == e.KeyId
            : a.Evidence.Any(kv => kv.Value is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var s) && s == e.Entity));
}
