using System.Collections.Immutable;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;

namespace KeyAbuseContent.Harness.Reporting;

/// <summary>What one rule did on one target over a labelled dataset.</summary>
public sealed record RuleScore(string Rule, Target Target, int Alerts, int Detected, int Labels, int FalseAlerts, double FalsePer1000KeyDays, TimeSpan? FirstTimeToDetect, TimeSpan? MedianTimeToDetect);

/// <summary>What the library did on one target: attacks caught by any rule, missed, false alerts, time to detect.</summary>
public sealed record TargetScore(Target Target, int Alerts, int Detected, int Labels, ImmutableArray<string> Missed, int FalseAlerts, double FalsePer1000KeyDays, TimeSpan? MedianTimeToDetect, ImmutableArray<RuleScore> Rules);

/// <summary>
/// Scores alerts against a dataset's labels. An alert detects an attack when it names the attacked key and
/// comes between the attack's start and an hour after its end (a rule raises on its next runs). An alert of
/// medium severity or above that detects nothing is a false alert; false alerts are counted per 1000
/// key-days of the dataset (keys with events times days spanned). Time to detect runs from the attack's
/// start to its first alert.
/// </summary>
public static class RunReport
{
    /// <summary>How long after an attack ends an alert still counts as detecting it.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromHours(1);

    public static TargetScore Score(Dataset dataset, IReadOnlyList<Alert> alerts, Target target, IReadOnlyList<string> rules)
    {
        var mine = alerts.Where(a => a.Target == target).ToList();
        var keyDays = KeyDays(dataset);
        var ruleScores = rules.Select(rule => ScoreRule(dataset, mine.Where(a => a.Rule == rule).ToList(), rule, target, keyDays)).ToImmutableArray();
        var detections = dataset.Labels.Select(l => (Label: l, First: mine.Where(a => Detects(a, l)).Select(a => (DateTime?)a.Time).Min())).ToList();
        var falses = mine.Count(a => IsFalse(a, dataset));
        return new TargetScore(
            target,
            mine.Count,
            detections.Count(d => d.First is not null),
            dataset.Labels.Length,
            [.. detections.Where(d => d.First is null).Select(d => $"{d.Label.Scenario} on {d.Label.KeyId} from {Alert.Iso(d.Label.Start)}")],
            falses,
            Per1000(falses, keyDays),
            Median(detections.Where(d => d.First is not null).Select(d => d.First!.Value - d.Label.Start)),
            ruleScores);
    }

    private static RuleScore ScoreRule(Dataset dataset, List<Alert> alerts, string rule, Target target, double keyDays)
    {
        var times = dataset.Labels.Select(l => (Label: l, First: alerts.Where(a => Detects(a, l)).Select(a => (DateTime?)a.Time).Min()))
            .Where(d => d.First is not null).Select(d => d.First!.Value - d.Label.Start).ToList();
        var falses = alerts.Count(a => IsFalse(a, dataset));
        return new RuleScore(rule, target, alerts.Count, times.Count, dataset.Labels.Length, falses, Per1000(falses, keyDays),
            times.Count == 0 ? null : times.Min(), Median(times));
    }

    public static bool Detects(Alert alert, AttackLabel label) =>
        alert.KeyId == label.KeyId && alert.Time >= label.Start && alert.Time <= label.End + Grace;

    private static bool IsFalse(Alert alert, Dataset dataset) =>
        alert.Severity is "medium" or "high" or "critical" && !dataset.Labels.Any(l => Detects(alert, l));

    /// <summary>Keys with events times the days the events span (at least one day).</summary>
    public static double KeyDays(Dataset dataset)
    {
        if (dataset.Span is not { } span)
        {
            return Math.Max(1, dataset.Inventory.Length);
        }
        var days = Math.Max(1.0, (span.Last - span.First).TotalDays);
        return dataset.Events.Select(e => e.KeyId).Distinct(StringComparer.Ordinal).Count() * days;
    }

    private static double Per1000(int count, double keyDays) => keyDays <= 0 ? 0 : count * 1000.0 / keyDays;

    private static TimeSpan? Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? null : sorted[(sorted.Count - 1) / 2];
    }
}
