using System.Collections.Immutable;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;

namespace KeyAbuseContent.Harness.Reporting;

/// <summary>What one rule did on one target over a labelled dataset.</summary>
public sealed record RuleScore(string Rule, Target Target, int Alerts, int Incidents, int Detected, int Labels, int FalseAlerts, double FalsePer1000KeyDays, TimeSpan? FirstTimeToDetect, TimeSpan? MedianTimeToDetect);

/// <summary>One labelled attack and the first alert of medium severity or above that detected it, if any.</summary>
public sealed record AttackScore(AttackLabel Label, string? FirstRule, DateTime? FirstAlert)
{
    /// <summary>From the attack's first event to the run that raised its first alert (that run's delay included).</summary>
    public TimeSpan? TimeToDetect => FirstAlert - Label.Start;
}

/// <summary>What the library did on one target: attacks caught by any rule, missed, false alerts, time to detect.</summary>
public sealed record TargetScore(
    Target Target,
    int Alerts,
    int Incidents,
    int Detected,
    int Labels,
    ImmutableArray<string> Missed,
    int FalseAlerts,
    double FalsePer1000KeyDays,
    TimeSpan? MedianTimeToDetect,
    ImmutableArray<RuleScore> Rules,
    ImmutableArray<AttackScore> Attacks,
    double KeyDays,
    TimeSpan Learning);

/// <summary>
/// Scores alerts against a dataset's labels (labels are for scoring only; no rule reads them). An alert
/// detects an attack when it is of medium severity or above, names the attacked key (or, naming no key, one of
/// the addresses the label gives) and comes between the attack's start and an hour after its end (a rule raises
/// on its next runs). An alert of medium severity or
/// above that detects nothing is a false alert (one naming no key, inside an attack's window, is not), unless
/// it comes in the learning period at the start of the dataset, when baselines are still being built; false alerts are counted per 1000 key-days after the
/// learning period (each key's days from its first to its last event, summed). Time to detect runs from the
/// attack's start (its first event) to the time of the run that raised its first alert.
/// </summary>
public static class RunReport
{
    /// <summary>How long after an attack ends an alert still counts as detecting it.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromHours(1);

    /// <summary>The learning period at the start of a dataset whose alerts are not counted as false: 7 days.</summary>
    public static readonly TimeSpan DefaultLearning = TimeSpan.FromDays(7);

    /// <summary>
    /// The learning period applied to a dataset: the one asked for, or none when the dataset is not at least
    /// twice as long (a handcrafted dataset of a few days is scored whole).
    /// </summary>
    public static TimeSpan EffectiveLearning(Dataset dataset, TimeSpan learning) =>
        dataset.Span is { } span && span.Last - span.First >= 2 * learning ? learning : TimeSpan.Zero;

    public static TargetScore Score(Dataset dataset, IReadOnlyList<Alert> alerts, Target target, IReadOnlyList<string> rules) =>
        Score(dataset, alerts, target, rules, DefaultLearning);

    /// <summary>
    /// Scores one target's alerts. <paramref name="grouping"/> gives per rule how long after an incident's first
    /// alert the platform groups the rule's later alerts of the same key into it (Sentinel's incident grouping
    /// look-back); a rule not named makes one incident an alert.
    /// </summary>
    public static TargetScore Score(Dataset dataset, IReadOnlyList<Alert> alerts, Target target, IReadOnlyList<string> rules, TimeSpan learning, IReadOnlyDictionary<string, TimeSpan>? grouping = null)
    {
        grouping ??= new Dictionary<string, TimeSpan>();
        var applied = EffectiveLearning(dataset, learning);
        var scored = dataset.Span is { } span ? span.First + applied : DateTime.MinValue;
        var mine = alerts.Where(a => a.Target == target).ToList();
        var keyDays = KeyDays(dataset, applied);
        var ruleScores = rules.Select(rule => ScoreRule(dataset, [.. mine.Where(a => a.Rule == rule)], rule, target, keyDays, scored,
            grouping.TryGetValue(rule, out var lookback) ? lookback : TimeSpan.Zero)).ToImmutableArray();
        var attacks = dataset.Labels.Select(l =>
        {
            var first = mine.Where(a => Detects(a, l)).OrderBy(a => a.Time).ThenBy(a => a.Rule, StringComparer.Ordinal).FirstOrDefault();
            return new AttackScore(l, first?.Rule, first?.Time);
        }).ToImmutableArray();
        var falses = mine.Count(a => IsFalse(a, dataset, scored));
        return new TargetScore(
            target,
            mine.Count,
            ruleScores.Sum(r => r.Incidents),
            attacks.Count(a => a.FirstAlert is not null),
            dataset.Labels.Length,
            [.. attacks.Where(a => a.FirstAlert is null).Select(a => $"{a.Label.Scenario} on {a.Label.KeyId} from {Alert.Iso(a.Label.Start)}")],
            falses,
            Per1000(falses, keyDays),
            Median(attacks.Where(a => a.TimeToDetect is not null).Select(a => a.TimeToDetect!.Value)),
            ruleScores,
            attacks,
            keyDays,
            applied);
    }

    private static RuleScore ScoreRule(Dataset dataset, List<Alert> alerts, string rule, Target target, double keyDays, DateTime scored, TimeSpan lookback)
    {
        var times = dataset.Labels.Select(l => (Label: l, First: alerts.Where(a => Detects(a, l)).Select(a => (DateTime?)a.Time).Min()))
            .Where(d => d.First is not null).Select(d => d.First!.Value - d.Label.Start).ToList();
        var falses = alerts.Count(a => IsFalse(a, dataset, scored));
        return new RuleScore(rule, target, alerts.Count, Incidents(alerts, lookback), times.Count, dataset.Labels.Length, falses, Per1000(falses, keyDays),
            times.Count == 0 ? null : times.Min(), Median(times));
    }

    /// <summary>
    /// How many incidents a rule's alerts make: alerts of one key after an incident's first alert and within the
    /// look-back join it; the first alert after that opens the next. A zero look-back makes one incident an alert.
    /// </summary>
    public static int Incidents(IEnumerable<Alert> alerts, TimeSpan lookback)
    {
        var incidents = 0;
        foreach (var key in alerts.GroupBy(a => a.KeyId ?? "", StringComparer.Ordinal))
        {
            DateTime? opened = null;
            foreach (var alert in key.OrderBy(a => a.Time))
            {
                if (opened is null || alert.Time > opened + lookback || lookback == TimeSpan.Zero)
                {
                    incidents++;
                    opened = alert.Time;
                }
            }
        }
        return incidents;
    }

    /// <summary>
    /// Whether an alert detects an attack: medium or above, within the attack or its grace, and about it: naming the
    /// attacked key, or, for an alert that names no key (a rule by address), holding one of the addresses the label
    /// says the attack came from in its result row.
    /// </summary>
    public static bool Detects(Alert alert, AttackLabel label) =>
        IsMediumOrAbove(alert) && Within(alert, label)
        && (string.IsNullOrEmpty(alert.KeyId) ? NamesAddress(alert, label) : alert.KeyId == label.KeyId);

    private static bool NamesAddress(Alert alert, AttackLabel label) =>
        !label.Addresses.IsEmpty && alert.Evidence.Any(kv => kv.Value is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var s) && label.Addresses.Contains(s, StringComparer.Ordinal));

    /// <summary>Severities medium, high and critical: the ones that page someone.</summary>
    public static bool IsMediumOrAbove(Alert alert) => alert.Severity is "medium" or "high" or "critical";

    // An alert that names no key (an address trying many keys) detects an attack only through the label's
    // addresses, but inside any attack's window it is about that attack, not false.
    private static bool IsFalse(Alert alert, Dataset dataset, DateTime scored) =>
        IsMediumOrAbove(alert) && alert.Time >= scored && !dataset.Labels.Any(l => Detects(alert, l) || (string.IsNullOrEmpty(alert.KeyId) && Within(alert, l)));

    private static bool Within(Alert alert, AttackLabel label) => alert.Time >= label.Start && alert.Time <= label.End + Grace;

    /// <summary>The days each key was in use, summed over the keys (at least one day).</summary>
    public static double KeyDays(Dataset dataset) => KeyDays(dataset, TimeSpan.Zero);

    /// <summary>
    /// The days each key was in use (from its first to its last event) after the learning period, summed over the
    /// keys (at least one day). A key id tried for a few minutes — a fingerprint in credential stuffing — adds
    /// minutes, not the whole dataset's length.
    /// </summary>
    public static double KeyDays(Dataset dataset, TimeSpan learning)
    {
        if (dataset.Span is not { } span)
        {
            return Math.Max(1, dataset.Inventory.Length);
        }
        var scored = span.First + learning;
        var days = dataset.Events.GroupBy(e => e.KeyId, StringComparer.Ordinal)
            .Select(k => (First: k.Min(e => e.Time), Last: k.Max(e => e.Time)))
            .Sum(k => Math.Max(0, (k.Last - (k.First > scored ? k.First : scored)).TotalDays));
        return Math.Max(1.0, days);
    }

    private static double Per1000(int count, double keyDays) => keyDays <= 0 ? 0 : count * 1000.0 / keyDays;

    private static TimeSpan? Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? null : sorted[(sorted.Count - 1) / 2];
    }
}
