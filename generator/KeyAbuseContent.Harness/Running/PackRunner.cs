using System.Collections.Immutable;
using System.Globalization;
using KeyAbuseContent.Build;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Expressions;
using KeyAbuseContent.Harness.Datasets;

namespace KeyAbuseContent.Harness.Running;

/// <summary>A difference between the Sentinel and Elastic results of one run of a rule.</summary>
public sealed record ParityDifference(string Rule, DateTime At, string Message);

/// <summary>Everything a run of the library over a dataset gives.</summary>
public sealed record PackRun(
    Dataset Dataset,
    ImmutableArray<Alert> Alerts,
    ImmutableArray<ParityDifference> Parity);

/// <summary>
/// Runs a compiled library over a dataset on the chosen targets, and checks parity: on every scheduled run,
/// with the same clock and data, a rule's Sentinel and Elastic queries return the same rows (entities and
/// figures) before each platform's alerting.
/// </summary>
public sealed class PackRunner(RunOptions options, string rulesDir)
{
    public PackRun Run(IReadOnlyList<CompiledRule> rules, Dataset dataset, bool sentinel, bool elastic, bool parity)
    {
        // The two passes share nothing but the dataset and the compiled rules (both immutable), each has its own
        // engine, and their results are combined in a fixed order: they run side by side, and the results do not
        // depend on which finishes first or on the number of cores. The Sentinel pass also gives Sentinel's results
        // at Elastic's clock (no run delay, so both read the same data) when parity is checked.
        var withParity = parity && sentinel && elastic;
        // Parity compares each run's two results as soon as both exist and keeps only their canonical rows until
        // then, so the passes never hold every run's result table of both targets.
        var ledger = new ParityLedger(rules);
        Action<RunResult> results = withParity ? ledger.Add : _ => { };
        var sentinelPass = sentinel
            ? Task.Run(() => new SentinelRunner(options, rulesDir, new SentinelShare(dataset)).Run(rules, dataset, withParity, results))
            : Task.FromResult<(IReadOnlyList<RunResult> Runs, IReadOnlyList<Alert> Alerts)>(([], []));
        var elasticPass = elastic
            ? Task.Run(() => new ElasticRunner(options).Run(rules, dataset, results))
            : Task.FromResult<(IReadOnlyList<RunResult> Runs, IReadOnlyList<Alert> Alerts)>(([], []));
        var (_, sentinelAlerts) = sentinelPass.GetAwaiter().GetResult();
        var alerts = new List<Alert>(sentinelAlerts);
        var (_, raised) = elasticPass.GetAwaiter().GetResult();
        alerts.AddRange(raised);
        return new PackRun(dataset, [.. alerts.OrderBy(a => a.Time).ThenBy(a => a.Rule, StringComparer.Ordinal)], ledger.Differences());
    }

    /// <summary>Compares the result columns of the two targets' rows as multisets; null when they agree.</summary>
    public static string? Compare(CompiledRule rule, DataTable sentinel, DataTable elastic)
    {
        var columns = rule.Analyzed.ResultColumns;
        return Compare(Rows(sentinel, columns.Select(c => c.KqlName).ToList(), columns), Rows(elastic, columns.Select(c => c.EsqlName).ToList(), columns));
    }

    internal static string? Compare(List<string> s, List<string> e)
    {
        var onlySentinel = s.Except(e, StringComparer.Ordinal).ToList();
        var onlyElastic = e.Except(s, StringComparer.Ordinal).ToList();
        if (onlySentinel.Count == 0 && onlyElastic.Count == 0 && s.Count == e.Count)
        {
            return null;
        }
        return $"Sentinel returned {s.Count} row(s), Elastic {e.Count}; only on Sentinel: {string.Join(" ; ", onlySentinel.Take(2))}; only on Elastic: {string.Join(" ; ", onlyElastic.Take(2))}";
    }

    internal static List<string> Rows(DataTable table, List<string> names, ImmutableArray<FieldBinding> columns)
    {
        var indices = names.Select(table.IndexOf).ToArray();
        return [.. table.Rows.Select(r => string.Join(" | ", indices.Select((i, c) => Canonical(i >= 0 ? r[i] : null, columns[c].Type)))).Order(StringComparer.Ordinal)];
    }

    /// <summary>A value both platforms write alike: numbers to 6 significant digits, an empty string as null, lists sorted.</summary>
    private static string Canonical(object? value, ExprType type) => type == ExprType.StringList ? List(value) : value switch
    {
        null => "null",
        string s when s.Length == 0 => "null",
        string s => s,
        long or int => Convert.ToDouble(value, CultureInfo.InvariantCulture).ToString("G6", CultureInfo.InvariantCulture),
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        DateTime t => Alert.Iso(t),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null",
    };

    /// <summary>A list: KQL's dynamic array, ES|QL's multi-value (one value is a plain value, none is null).</summary>
    private static string List(object? value)
    {
        IEnumerable<string?> items = value switch
        {
            null => [],
            System.Text.Json.Nodes.JsonArray a => a.Select(x => x?.ToString()),
            ImmutableArray<object?> m => m.Select(x => Convert.ToString(x, CultureInfo.InvariantCulture)),
            _ => [Convert.ToString(value, CultureInfo.InvariantCulture)],
        };
        return "[" + string.Join(",", items.Order(StringComparer.Ordinal)) + "]";
    }
}

/// <summary>
/// The runs of one target waiting for the other's run of the same rule and scheduled time, as canonical rows;
/// a pair is compared when its second result arrives. Differences come out in the Elastic pass's order (rule,
/// then time). Safe to feed from both passes at once.
/// </summary>
internal sealed class ParityLedger(IReadOnlyList<CompiledRule> rules)
{
    private static readonly List<string> NoRows = [];
    private readonly Dictionary<string, (int Order, CompiledRule Rule)> _rules = rules.Select((r, i) => (r, i)).ToDictionary(x => x.r.Analyzed.Rule.Name, x => (x.i, x.r), StringComparer.Ordinal);
    private readonly Dictionary<(string Rule, DateTime At, Target Target), List<string>> _waiting = [];
    private readonly List<(int Order, ParityDifference Difference)> _differences = [];
    private readonly Lock _lock = new();

    public void Add(RunResult run)
    {
        var (order, rule) = _rules[run.Rule];
        var rows = Canonical(rule, run.Rows, run.Target == Target.Sentinel);
        var other = run.Target == Target.Sentinel ? Target.Elastic : Target.Sentinel;
        lock (_lock)
        {
            if (!_waiting.Remove((run.Rule, run.ScheduledAt, other), out var theirs))
            {
                _waiting[(run.Rule, run.ScheduledAt, run.Target)] = rows;
                return;
            }
            var (s, e) = run.Target == Target.Sentinel ? (rows, theirs) : (theirs, rows);
            if (PackRunner.Compare(s, e) is { } message)
            {
                _differences.Add((order, new ParityDifference(run.Rule, run.ScheduledAt, message)));
            }
        }
    }

    public ImmutableArray<ParityDifference> Differences()
    {
        lock (_lock)
        {
            return [.. _differences.OrderBy(d => d.Order).ThenBy(d => d.Difference.At).Select(d => d.Difference)];
        }
    }

    private static List<string> Canonical(CompiledRule rule, DataTable table, bool sentinel)
    {
        if (table.Rows.Count == 0)
        {
            return NoRows;
        }
        var columns = rule.Analyzed.ResultColumns;
        return PackRunner.Rows(table, [.. columns.Select(c => sentinel ? c.KqlName : c.EsqlName)], columns);
    }
}
