using System.Collections.Concurrent;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql.Commands;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Patterns;
using KeyAbuseContent.Engine.Esql.Planning;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql;

/// <summary>
/// Runs ES|QL text over in-memory tables, so the pack's Elastic rules can be executed offline exactly as
/// published. Values in and out are the interchange's (see <see cref="DataTable"/>); an <c>ip</c> comes out as
/// its canonical string, a <c>date</c> as a UTC <see cref="DateTime"/> with millisecond precision.
/// The supported subset and where it differs from Elasticsearch are in the README next to this file.
/// Syntax trees are kept per query text and compiled LIKE/RLIKE matchers per pattern, so the thousands of scheduled
/// runs of a rule parse it and compile its patterns once; plans are kept per query text too, and bound again only
/// when a run's indices differ in names or columns from those the plan was bound against (NOW() is read as each
/// plan runs).
/// Safe to use from several threads.
/// </summary>
public sealed class EsqlEngine
{
    private readonly ConcurrentDictionary<string, Query> _parsed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Plan> _plans = new(StringComparer.Ordinal);
    private readonly PatternCache _patterns = new();
    private readonly LookupIndexCache _lookupIndexes = new();

    /// <summary>Rows a query without LIMIT returns at most (Elasticsearch's <c>esql.query.result_truncation_default_size</c>, 1000).</summary>
    public int DefaultLimit { get; init; } = QueryPlanner.DefaultLimit;

    /// <summary>Rows any query returns at most, whatever its LIMIT (<c>esql.query.result_truncation_max_size</c>, 10000).</summary>
    public int MaxLimit { get; init; } = QueryPlanner.MaxLimit;

    /// <summary>
    /// Runs <paramref name="query"/>. <paramref name="indices"/> are the tables by concrete index name (FROM
    /// patterns match them); <paramref name="now"/> is what NOW() returns; <paramref name="window"/>, when given,
    /// keeps only rows of every FROM index whose <c>@timestamp</c> is in [From, To), as Kibana filters a rule's
    /// run. Throws <see cref="EsqlException"/> for a query it refuses; rows that fail to evaluate become nulls
    /// with warnings, as in Elasticsearch.
    /// </summary>
    public EsqlResult Execute(string query, IReadOnlyDictionary<string, DataTable> indices, DateTime now, (DateTime From, DateTime To)? window = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(indices);
        // A query that does not parse is not kept: it throws again, with its position, on every run.
        var parsed = _parsed.GetOrAdd(query, Parser.Parse);
        var context = new EvalContext(parsed.Source, ValueFormat.ToMillis(now)) { Patterns = _patterns, LookupIndexes = _lookupIndexes, Indices = indices };
        var from = parsed.SourceCommand as FromCommand;
        // FROM's matches are resolved on every run: their page is the run's, and they decide whether a kept plan still fits.
        var tables = from is null ? null : FromSource.Resolve(from.Indices, indices, parsed.Source);
        Plan plan;
        if (_plans.TryGetValue(query, out var kept) && Fits(kept, tables, indices, context.NowMillis))
        {
            plan = kept;
            context.Warnings.Replay(plan.BindWarnings);
        }
        else
        {
            plan = new QueryPlanner(parsed, indices, context) { DefaultLimitRows = DefaultLimit, MaxLimitRows = MaxLimit }.Build();
            if (plan.From is not null)
            {
                _plans[query] = plan;
            }
        }
        var page = plan.From is { } source ? FromSource.Read(source, tables!, plan.SourceSchema, window, parsed.Source) : plan.RowPage!;
        foreach (var op in plan.Operators)
        {
            page = op.Run(page, context);
        }
        var table = TableExport.ToTable("result", plan.Output, page);
        return new EsqlResult(table, context.Warnings.Messages.ToList());
    }

    /// <summary>
    /// Whether a kept plan binds as it was bound: FROM matches the same index names with the same columns, every
    /// LOOKUP JOIN index exists with the same columns, and NOW() was not read at binding or is the same time.
    /// </summary>
    private static bool Fits(Plan plan, List<(string Name, DataTable Table)>? tables, IReadOnlyDictionary<string, DataTable> indices, long nowMillis)
    {
        if (plan.BoundNow is { } bound && bound != nowMillis)
        {
            return false;
        }
        var fromCount = tables?.Count ?? 0;
        if (plan.FromInputs != fromCount)
        {
            return false;
        }
        for (var i = 0; i < plan.Inputs.Length; i++)
        {
            var (name, columns) = plan.Inputs[i];
            DataTable? table;
            if (i < fromCount)
            {
                if (tables![i].Name != name)
                {
                    return false;
                }
                table = tables[i].Table;
            }
            else if (!indices.TryGetValue(name, out table))
            {
                return false;
            }
            if (!ReferenceEquals(table.Columns, columns) && !table.Columns.SequenceEqual(columns))
            {
                return false;
            }
        }
        return true;
    }
}
