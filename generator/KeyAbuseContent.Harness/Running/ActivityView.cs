using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Kql;
using KeyAbuseContent.Targets.Sentinel;

namespace KeyAbuseContent.Harness.Running;

/// <summary>
/// The activity parser (<c>KeyAbuseActivity()</c>, the published function text) run once per source table over the
/// whole dataset, and each run shown the time slice of that output instead of parsing its own slice again: the
/// parser was most of a Sentinel run's cost, repeated by every rule every five minutes over the same rows.
/// <para>
/// The two give the same rows in the same order when the parser works row by row and keeps each row's time: its
/// branches project, extend, union and look addresses up in a watchlist that does not change during a run, and
/// every branch projects <c>TimeGenerated</c> as it is, so the parser's output over a slice is the slice of its output
/// over the whole table; one view a source table, unioned in the parser's own branch order, keeps the order the
/// parser's union gives a run. Two things break that, and then every run parses its own slice as before: a branch
/// that joins two tables (API Management's gateway and LLM logs: a pair split by a slice's edge would not join in
/// the run) holding rows in this dataset, and a parser that reads the clock (<c>now()</c>, <c>ago()</c>).
/// </para>
/// </summary>
public static class ActivityView
{
    /// <summary>The names the views of the source tables take in the runs' catalogs.</summary>
    public const string TablePrefix = "KeyAbuseActivityView_";

    /// <summary>
    /// The views (one a source table with rows; one empty view when none has) and the function list in which
    /// <c>KeyAbuseActivity</c> reads them; null when the runs must parse their own slices (see the type's remarks).
    /// </summary>
    /// <param name="engine">The engine the runs use (the views' columns are converted once, in its cache).</param>
    /// <param name="tables">The tables every run sees besides the time-sliced ones.</param>
    /// <param name="sliced">The time-sliced tables (activity, logs, vendor tables), whole.</param>
    /// <param name="functions">The stored functions of the runs, the parsers among them.</param>
    /// <param name="now">The clock of the parse (the parsers do not read it: see the remarks).</param>
    public static (List<TimeSlices> Views, IReadOnlyList<KqlFunction> Functions)? Build(
        KqlEngine engine, IReadOnlyDictionary<string, DataTable> tables, IReadOnlyList<TimeSlices> sliced, IReadOnlyList<KqlFunction> functions, DateTime now)
    {
        var function = Sources.Activity.KqlFunction;
        var feeds = RawSources.All.Where(r => r.Feeds == RuleSource.Activity).ToList();
        var parsers = feeds.Select(r => r.SentinelParser).Append(function).ToHashSet(StringComparer.Ordinal);
        if (functions.Any(f => parsers.Contains(f.Name) && ReadsClock(f.Body)))
        {
            return null;
        }
        var whole = sliced.Select(s => s.Slice(DateTime.MinValue, DateTime.MaxValue)).ToDictionary(t => t.Name, StringComparer.Ordinal);
        var joined = feeds.Where(r => r.Join is not null).SelectMany(r => new[] { r.SentinelTable, r.Join!.Table.SentinelTable });
        if (joined.Any(t => whole.TryGetValue(t, out var table) && table.Rows.Count > 0))
        {
            return null;
        }
        // The parser's branches in its union's order: the pack's own table, then each vendor source's.
        var branches = feeds.Where(r => r.Join is null).Select(r => r.SentinelTable).Prepend(SentinelParsers.ActivityTable).Distinct(StringComparer.Ordinal).ToList();
        var views = new List<TimeSlices>();
        foreach (var branch in branches.Where(b => whole.TryGetValue(b, out var t) && t.Rows.Count > 0).DefaultIfEmpty(null))
        {
            var catalog = new Dictionary<string, DataTable>(tables, StringComparer.Ordinal);
            foreach (var (name, table) in whole)
            {
                // Only this branch's table holds rows: the other branches give nothing, so the output is this branch's rows.
                catalog[name] = branches.Contains(name) && name != branch ? new DataTable(name, table.Columns, []) : table;
            }
            var view = engine.ExecuteColumns(KqlRenderer.Render(KqlNodes.FromFunction(function)), catalog, functions, now, TablePrefix + views.Count);
            if (view is null)
            {
                return null;
            }
            views.Add(new TimeSlices(view, "TimeGenerated"));
        }
        // The views in the parser's branch order: the first, then the others unioned after it.
        var names = views.Select((_, i) => TablePrefix + i).ToList();
        var body = KqlRenderer.Render(names.Count == 1 ? KqlNodes.From(names[0]) : KqlNodes.From(names[0]).Then(new KqlUnion([.. names.Skip(1)])));
        return (views, [.. functions.Select(f => f.Name == function ? new KqlFunction(f.Name, [], body) : f)]);
    }

    private static bool ReadsClock(string body) =>
        body.Contains("now(", StringComparison.Ordinal) || body.Contains("ago(", StringComparison.Ordinal);
}
